import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../src/main.js';
import { REDACTED, redactConfig } from '../../src/config/redact.js';

const SECRETS = ['hdr-secret-1', 'hdr-secret-2', 'url-pass', 'url-user', 'q-secret', 'llm-user'];

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('config --print redaction', () => {
  it('redacts forward headers, URL userinfo and secret query parameters, in YAML and JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sh-redact-'));
    try {
      const file = join(dir, 'sidecar.yaml');
      writeFileSync(
        file,
        [
          'forward:',
          '  enabled: true',
          '  endpoint: https://url-user:url-pass@collector.example:4318/?token=q-secret&region=eu',
          '  headers:',
          '    authorization: Bearer hdr-secret-1',
          '    x-api-key: hdr-secret-2',
          'emit:',
          '  jaegerUrl: http://llm-user@jaeger.example:16686',
          'receive:',
          '  auth:',
          '    tokenFile: /etc/token',
          '',
        ].join('\n'),
      );
      for (const args of [['config', '--print', '-c', file], ['config', '--json', '-c', file]]) {
        const r = await run(args);
        expect(r.code, r.err).toBe(0);
        for (const s of SECRETS) expect(r.out, s).not.toContain(s);
        const printed = (args.includes('--json') ? JSON.parse(r.out) : parse(r.out)) as {
          forward: { headers: Record<string, string>; endpoint: string };
          receive: { auth: { tokenFile: string; tokenEnv: string } };
          emit: { jaegerUrl: string };
        };
        expect(printed.forward.headers).toEqual({ authorization: REDACTED, 'x-api-key': REDACTED });
        expect(printed.forward.endpoint).toContain('@collector.example:4318');
        expect(printed.forward.endpoint).toContain('region=eu');
        expect(printed.emit.jaegerUrl).toBe('http://redacted@jaeger.example:16686/');
        // Where a secret comes from stays visible.
        expect(printed.receive.auth).toEqual({ tokenFile: '/etc/token', tokenEnv: 'SELF_HEALING_AUTH_TOKEN' });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('redacts any secret-named field, leaves names of variables and files and other values alone', () => {
    const out = redactConfig({
      a: { password: 'p', apiKey: 'k', api_key: 'k2', clientSecret: 's', token: 't', tokenEnv: 'T_ENV', tokenFile: '/f', keyFile: '/k', port: 1 },
      list: ['https://u:p@h/', 'plain', 'not a url with @ sign'],
      headers: { a: 'x', nested: { b: 'y' } },
      n: null,
    });
    expect(out).toEqual({
      a: { password: REDACTED, apiKey: REDACTED, api_key: REDACTED, clientSecret: REDACTED, token: REDACTED, tokenEnv: 'T_ENV', tokenFile: '/f', keyFile: '/k', port: 1 },
      list: ['https://redacted@h/', 'plain', 'not a url with @ sign'],
      headers: { a: REDACTED, nested: { b: 'y' } },
      n: null,
    });
  });
});
