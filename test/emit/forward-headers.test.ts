import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/emit/logger.js';
import { parseHeaderList, resolveForwardHeaders } from '../../src/emit/forward-headers.js';
import { Sidecar } from '../../src/sidecar.js';
import { beatSpans, encodeTraceRequest } from '../bench/otlp/encode-request.js';
import { waitFor } from '../receive/harness.js';

describe('forward headers from env and file', () => {
  it('parses the OTEL_EXPORTER_OTLP_HEADERS format: comma list, percent-decoded values, plus kept', () => {
    expect(parseHeaderList('Authorization=Bearer%20abc, x-tenant = a+b ,', 'h')).toEqual({ Authorization: 'Bearer abc', 'x-tenant': 'a+b' });
    expect(parseHeaderList('# a comment\nx-a=1\r\nx-b=2==\n', 'h')).toEqual({ 'x-a': '1', 'x-b': '2==' });
  });

  it('names the source and the problem for bad input, without echoing values', () => {
    expect(() => parseHeaderList('novalue', 'forward.headersEnv (H)')).toThrow(/forward\.headersEnv \(H\): expected name=value/);
    expect(() => parseHeaderList('bad name=1', 'h')).toThrow(/not a valid header name/);
    expect(() => parseHeaderList('x=%E0%A4%A', 'h')).toThrow(/bad percent-encoding/);
    expect(() => parseHeaderList('x=a%0Db', 'h')).toThrow(/control character/);
    try {
      parseHeaderList('x=s3cret%ZZ', 'h');
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cret');
    }
  });

  it('merges config, file and env (env wins) and reports an unreadable file by field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sh-fwd-h-'));
    try {
      writeFileSync(join(dir, 'headers'), 'authorization=Bearer%20from-file\nx-file=1\n');
      const base = ConfigSchema.parse({ forward: { headers: { 'x-config': 'c', authorization: 'from-config' }, headersFile: join(dir, 'headers'), headersEnv: 'FWD_HEADERS' } }).forward;
      expect(resolveForwardHeaders(base, {})).toEqual({ 'x-config': 'c', authorization: 'Bearer from-file', 'x-file': '1' });
      expect(resolveForwardHeaders(base, { FWD_HEADERS: 'authorization=Bearer%20from-env' })).toMatchObject({ authorization: 'Bearer from-env', 'x-file': '1' });
      expect(() => resolveForwardHeaders({ ...base, headersFile: join(dir, 'missing') }, {})).toThrow(/forward\.headersFile: cannot read .*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a running sidecar forwards with the secret headers from env and file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sh-fwd-e2e-'));
    const seen: IncomingHttpHeaders[] = [];
    const downstream = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
    });
    await new Promise<void>((r) => downstream.listen(0, '127.0.0.1', r));
    writeFileSync(join(dir, 'headers'), 'x-api-key=file-secret\n');
    const config = ConfigSchema.parse({
      receive: { grpc: { enabled: false }, http: { port: 0 } },
      admin: { enabled: false },
      store: { path: join(dir, 'state.db') },
      heal: { enabled: false },
      forward: { enabled: true, endpoint: `http://127.0.0.1:${(downstream.address() as AddressInfo).port}`, headersEnv: 'DOWNSTREAM_HEADERS', headersFile: join(dir, 'headers') },
    });
    const sidecar = await Sidecar.start(config, { manualEvaluation: true, env: { DOWNSTREAM_HEADERS: 'authorization=Bearer%20env-secret' }, logger: createLogger('silent') });
    try {
      const res = await fetch(`http://127.0.0.1:${sidecar.http!.port}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: encodeTraceRequest([beatSpans(5, 1)]),
      });
      expect(res.status).toBe(200);
      await waitFor(() => seen.length > 0);
      expect(seen[0]!.authorization).toBe('Bearer env-secret');
      expect(seen[0]!['x-api-key']).toBe('file-secret');
    } finally {
      await sidecar.stop();
      await new Promise<void>((r) => downstream.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
