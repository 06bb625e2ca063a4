import { describe, expect, it } from 'vitest';
import { createLogger, formatPretty, redact } from '../../src/emit/logger.js';

describe('logger', () => {
  it('writes JSON lines at or above its level, with child fields', () => {
    const lines: string[] = [];
    const log = createLogger('info', { component: 'test' }, (l) => lines.push(l));
    log.debug('hidden');
    log.info('shown', { spans: 3 });
    log.child({ stage: 'fix.generate' }).error('failed', { err: new Error('boom') });
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ level: 'info', msg: 'shown', component: 'test', spans: 3 });
    const second = JSON.parse(lines[1]!);
    expect(second).toMatchObject({ level: 'error', stage: 'fix.generate', err: { name: 'Error', message: 'boom' } });
  });

  it('masks credential-looking fields, nested too', () => {
    expect(redact({ githubToken: 'ghp_x', nested: { Authorization: 'Bearer y', ok: 1 }, list: [1] })).toEqual({
      githubToken: '[redacted]',
      nested: { Authorization: '[redacted]', ok: 1 },
      list: [1],
    });
  });

  it('is quiet when silent', () => {
    const lines: string[] = [];
    const log = createLogger('silent', {}, (l) => lines.push(l));
    log.error('nothing');
    expect(lines).toEqual([]);
  });
});

describe('pretty log format', () => {
  it('writes one readable line per record, with key=value pairs, redaction and control characters escaped', () => {
    const lines: string[] = [];
    const log = createLogger('info', { service: 'sh' }, (l) => lines.push(l), 'pretty');
    log.info('anomaly opened', { handler: 'checkout\n\u001b[31mFAKE', count: 3, token: 'abc' });
    log.debug('hidden');
    log.child({ jobId: 'j1' }).warn('line\rbreak');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}anomaly opened service=sh handler="checkout\\n\\u001b\[31mFAKE" count=3 token="\[redacted\]"\n$/);
    expect(lines[1]).toMatch(/ WARN {2}line\\u000dbreak service=sh jobId=j1\n$/);
    expect(formatPretty({ time: 't', level: 'error', msg: 'x' })).toBe('t ERROR x\n');
  });
});
