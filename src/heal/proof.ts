import type { GeneratedFix } from '../model/heal.js';

const CODE = /\.(?:[cm]?[jt]sx?)$/;
const TEST = /(?:^|\/)(?:__tests__|tests?)\/|\.(?:test|spec)\.[cm]?[jt]sx?$/;

/** Source files (not tests) the fix changes: what the proof rule is about. */
export function changedCodeFiles(fix: Pick<GeneratedFix, 'files' | 'claims'>): string[] {
  const tests = new Set(fix.claims.testFiles ?? []);
  return fix.files.filter((f) => CODE.test(f) && !tests.has(f) && !TEST.test(f));
}

/** The regression tests the fix ships (claimed test files that are part of the patch). */
export function proofTestFiles(fix: Pick<GeneratedFix, 'files' | 'claims'>): string[] {
  const files = new Set(fix.files);
  return (fix.claims.testFiles ?? []).filter((f) => files.has(f));
}
