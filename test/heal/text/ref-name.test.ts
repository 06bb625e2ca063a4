import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { branchName, refComponent, revertBranchName } from '../../../src/heal/text/ref-name.js';
import { HOSTILE_ENTRIES } from './hostile-corpus.js';

/** git's own verdict on a branch name. */
function gitAccepts(branch: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', '--branch', branch], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('branch names from telemetry text', () => {
  it.each(HOSTILE_ENTRIES)('%s: git check-ref-format accepts the branch and its revert branch', (_name, text) => {
    const branch = branchName(text, text);
    expect(gitAccepts(branch)).toBe(true);
    expect(gitAccepts(revertBranchName(branch))).toBe(true);
    expect(branch).not.toMatch(/\.\.|@\{|\.lock(\/|$)|[\s~^:?*[\\]/);
    expect(branch.length).toBeLessThanOrEqual(140);
  });

  it('cuts what git refuses, keeps what it accepts', () => {
    expect(refComponent('a.lock-')).toBe('a');
    expect(refComponent('.x.lock.lock')).toBe('x');
    expect(refComponent('Plugin.createComponent')).toBe('plugin.createcomponent');
    expect(refComponent('@{')).toBe('x');
    expect(branchName('an-1', undefined)).toBe('self-healing/an-1-service');
  });
});
