import type { GeneratedFix } from '../model/heal.js';

const CODE = /\.(?:[cm]?[jt]sx?)$/;
const TEST = /(?:^|\/)(?:__tests__|tests?)\/|\.(?:test|spec)\.[cm]?[jt]sx?$/;

/** Source files (not tests) the fix changes: what the proof rule is about. */
export function changedCodeFiles(fix: Pick<GeneratedFix, 'files' | 'claims'>): string[] {
  const tests = new Set(fix.claims.testFiles ?? []);
  return fix.files.filter((f) => CODE.test(f) && !tests.has(f) && !TEST.test(f));
}

/** The regression tests the fix ships: its claimed test files in the patch, else the test files it adds or changes. */
export function proofTestFiles(fix: Pick<GeneratedFix, 'files' | 'claims'>): string[] {
  const files = new Set(fix.files);
  const claimed = (fix.claims.testFiles ?? []).filter((f) => files.has(f));
  return claimed.length > 0 ? claimed : fix.files.filter((f) => CODE.test(f) && TEST.test(f));
}
