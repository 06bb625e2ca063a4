import { describe, expect, it } from 'vitest';
import { BODY_MAX, commitLine, commitMessage, commitSubject, SUBJECT_MAX } from '../../../src/heal/text/commit-message.js';
import { trailer } from '../../../src/heal/github/pr-body.js';
import { FORBIDDEN_CHARS, HOSTILE_ENTRIES } from './hostile-corpus.js';

describe('commit messages from telemetry text', () => {
  it.each(HOSTILE_ENTRIES)('%s: subject is one clean bounded line', (_name, text) => {
    const subject = commitSubject(`fix(${text}): guard ${text}`);
    expect(subject).not.toMatch(/[\n\r]/);
    expect(subject).not.toMatch(FORBIDDEN_CHARS);
    expect(Array.from(subject).length).toBeLessThanOrEqual(SUBJECT_MAX);
  });

  it.each(HOSTILE_ENTRIES)('%s: a body line cannot forge a trailer; trailers read back as written', (_name, text) => {
    const message = commitMessage(text, `Anomaly: ${commitLine(text)}\n\n${text}`, [
      ['Self-Healing-Job', 'job-1'],
      ['Self-Healing-Anomaly', 'an-1'],
    ]);
    expect(message).not.toMatch(FORBIDDEN_CHARS);
    expect(message.length).toBeLessThanOrEqual(SUBJECT_MAX * 2 + BODY_MAX + 200);
    expect(trailer(message, 'Self-Healing-Job')).toBe('job-1');
    expect(trailer(message, 'Self-Healing-Anomaly')).toBe('an-1');
    expect(message.split('\n')[1]).toBe('');
  });

  it('keeps an ordinary message as written', () => {
    expect(commitMessage('fix(a): b', 'line 1\nline 2', [['K', 'v']])).toBe('fix(a): b\n\nline 1\nline 2\n\nK: v\n');
    expect(commitSubject('')).toBe('self-healing change');
  });
});
