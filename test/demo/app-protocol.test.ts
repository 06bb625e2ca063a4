import { describe, expect, it } from 'vitest';
import { parseAppCommand, parseAppEvent, parseFaultList } from '../../src/demo/app-protocol.js';

describe('app protocol', () => {
  it('accepts the commands the app understands', () => {
    expect(parseAppCommand({ type: 'fault', fault: 'latency' })).toEqual({ type: 'fault', fault: 'latency' });
    expect(parseAppCommand({ type: 'stop' })).toEqual({ type: 'stop' });
  });

  it('ignores anything else instead of throwing', () => {
    expect(parseAppCommand({ type: 'fault', fault: 'disk-full' })).toBeUndefined();
    expect(parseAppCommand('stop')).toBeUndefined();
    expect(parseAppCommand(null)).toBeUndefined();
  });

  it('parses app events', () => {
    expect(parseAppEvent({ type: 'ready', version: '1.1.0' })).toEqual({ type: 'ready', version: '1.1.0' });
    expect(parseAppEvent({ type: 'fault-injected', fault: 'exception' })).toEqual({ type: 'fault-injected', fault: 'exception' });
    expect(parseAppEvent({ type: 'ready' })).toBeUndefined();
  });

  it('reads the fault list of a restarted app, dropping unknown names', () => {
    expect(parseFaultList(undefined)).toEqual([]);
    expect(parseFaultList('')).toEqual([]);
    expect(parseFaultList('latency, exception,nope')).toEqual(['latency', 'exception']);
  });
});
