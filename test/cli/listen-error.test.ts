import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { describeListenError } from '../../src/cli/listen-error.js';

const config = loadConfig({ sets: ['admin.port=9000'] });

function sysError(code: string, address: string, port: number): Error {
  return Object.assign(new Error(`listen ${code}: something ${address}:${port}`), { code, address, port });
}

describe('describeListenError', () => {
  it('names the address, the reason and the setting to change', () => {
    expect(describeListenError(sysError('EADDRINUSE', '127.0.0.1', 4318), config)).toBe(
      'cannot listen on 127.0.0.1:4318: the address is already in use (another self-healing, a collector or Jaeger on the same port?); choose another port with --set receive.http.port=<port>',
    );
    expect(describeListenError(sysError('EACCES', '0.0.0.0', 9000), config)).toMatch(/^cannot listen on 0\.0\.0\.0:9000: permission denied .*--set admin\.port=<port>$/);
  });

  it("reads grpc-js's wrapped message", () => {
    const err = new Error('No address added out of total 1 resolved errors: [listen EADDRINUSE: address already in use 127.0.0.1:4317]');
    expect(describeListenError(err, config)).toMatch(/^cannot listen on 127\.0\.0\.1:4317: the address is already in use .*receive\.grpc\.port=<port>$/);
    const v6 = new Error('No address added out of total 1 resolved errors: [listen EADDRNOTAVAIL: address not available [::5]:7777]');
    expect(describeListenError(v6, config)).toBe('cannot listen on [::5]:7777: no network interface has that address');
  });

  it('leaves other errors alone', () => {
    expect(describeListenError(new Error('database is locked'), config)).toBeUndefined();
    expect(describeListenError('EADDRINUSE', config)).toBeUndefined();
  });
});
