/**
 * One component of a git branch name made from telemetry text: lower-case letters, digits and
 * `._-`, no `..`, not starting or ending with `.` or `-`, no `.lock` suffix, bounded. Everything
 * `git check-ref-format` rejects (`..`, `@{`, `~^:?*[\`, controls, spaces, a trailing `.lock`) is
 * impossible by construction.
 */
export function refComponent(text: string, maxLength = 60): string {
  let cut = text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .slice(0, maxLength);
  // Trimming can uncover a `.lock` suffix ("a.lock-") and removing one can uncover an edge dot.
  for (let prev = ''; prev !== cut; ) {
    prev = cut;
    cut = cut.replace(/^[-.]+|[-.]+$/g, '').replace(/\.lock$/, '');
  }
  return cut || 'x';
}

/** self-healing/<anomaly-id>-<handler>: a branch name git accepts whatever the telemetry said. */
export function branchName(anomalyId: string, handler: string | undefined): string {
  return `self-healing/${refComponent(anomalyId)}-${refComponent(handler ?? 'service')}`;
}

/** The branch of a revert proposal, derived from the (already safe) branch it reverts. */
export function revertBranchName(branch: string): string {
  return `self-healing/revert-${refComponent(branch.replace(/^self-healing\//, ''), 120)}`;
}
