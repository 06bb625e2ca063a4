import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { findVersionTag, revertRange, RollbackStrategy, rollbackImageTags } from '../../../src/heal/fix/rollback.js';
import { createFixtureRepo, FIXTURE_IMAGE, type FixtureRepo } from '../../fixtures/app-repo.js';
import { checkDiffsApply, gitStatus, nullAccessContext, sh } from './fix-context.js';

describe('rollbackImageTags', () => {
  const manifest = [
    '# keep this comment',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'spec:',
    '  template:',
    '    spec:',
    '      containers:',
    '        - name: api',
    '          image: "registry/api:v2.0.0" # pinned',
    '        - name: helper',
    '          image: registry/helper:2.0.0',
    '---',
    'kind: CronJob',
    'spec:',
    '  jobTemplate:',
    '    spec:',
    '      template:',
    '        spec:',
    '          containers:',
    "            - name: nightly",
    "              image: 'registry/api:2.0.0'",
    '',
  ].join('\n');

  it('moves every container on the new version back, keeping quotes, prefixes and comments', () => {
    const edit = rollbackImageTags(manifest, '1.9.0', '2.0.0', undefined);
    expect(edit.text).toContain('          image: "registry/api:v1.9.0" # pinned');
    expect(edit.text).toContain('          image: registry/helper:1.9.0');
    expect(edit.text).toContain("              image: 'registry/api:1.9.0'");
    expect(edit.text.startsWith('# keep this comment\n')).toBe(true);
    expect(edit.changes.map((c) => c.container)).toEqual(['api', 'helper', 'nightly']);
  });

  it('prefers containers named after the service and ignores other versions', () => {
    const edit = rollbackImageTags(manifest, 'v1.9.0', 'v2.0.0', 'api');
    expect(edit.changes.map((c) => `${c.container}:${c.to}`)).toEqual(['api:registry/api:v1.9.0', 'nightly:registry/api:1.9.0']);
    expect(edit.text).toContain('registry/helper:2.0.0');
    expect(rollbackImageTags(manifest, '1.0.0', '3.0.0', undefined).changes).toEqual([]);
    expect(rollbackImageTags('a: [', '1', '2', undefined).changes).toEqual([]);
  });
});

describe('RollbackStrategy on the fixture repository', () => {
  let repo: FixtureRepo | undefined;
  afterEach(async () => {
    await repo?.cleanup();
    repo = undefined;
  });

  it('reverts the commits between the release tags', async () => {
    repo = await createFixtureRepo();
    expect(await findVersionTag(repo.dir, '1.1.0')).toBe('v1.1.0');
    expect(await findVersionTag(repo.dir, '9.9.9')).toBeUndefined();
    const ctx = nullAccessContext(repo.dir);
    const strategy = new RollbackStrategy();
    expect(strategy.applicable(ctx)).toBe(true);
    const fix = await strategy.generate(ctx);
    expect(fix?.description).toContain('v1.0.0..v1.1.0');
    expect(fix?.files.sort()).toEqual(['deploy/app.yaml', 'package.json', 'src/handlers/createComponent.ts']);
    expect(fix?.diff).toContain('+  const name = payload.name;');
    expect(fix?.diff).toContain(`+          image: ${FIXTURE_IMAGE}:1.0.0 # release image`);
    expect(await gitStatus(repo.dir)).toBe('');
    expect(await sh(repo.dir, 'git', ['worktree', 'list'])).not.toContain('heal-revert-');
    await checkDiffsApply(repo.dir, [fix!.diff]);
  });

  it('falls back to the manifest image tag when the tags are missing', async () => {
    repo = await createFixtureRepo();
    await sh(repo.dir, 'git', ['tag', '-d', 'v1.0.0']);
    const fix = await new RollbackStrategy().generate(nullAccessContext(repo.dir));
    expect(fix?.files).toEqual(['deploy/app.yaml']);
    const changed = fix!.diff.split('\n').filter((l) => /^[+-] /.test(l));
    expect(changed).toEqual([`-          image: ${FIXTURE_IMAGE}:1.1.0 # release image`, `+          image: ${FIXTURE_IMAGE}:1.0.0 # release image`]);
    expect(fix?.description).toContain('` canvas-app ` ` registry.local/canvas-app:1.1.0 ` -> ` registry.local/canvas-app:1.0.0 `');
  });

  it('returns nothing when the revert conflicts and no manifest runs the new version', async () => {
    repo = await createFixtureRepo();
    // a later commit rewrites the reverted line, so the revert conflicts
    const file = `${repo.dir}/src/handlers/createComponent.ts`;
    await writeFile(file, (await readFile(file, 'utf8')).replace('payload.component.name', 'payload.component!.name'));
    await sh(repo.dir, 'git', ['commit', '-q', '-am', 'later change']);
    expect(await revertRange(repo.dir, 'v1.0.0', 'v1.1.0')).toBeUndefined();
    expect(await sh(repo.dir, 'git', ['worktree', 'list'])).not.toContain('heal-revert-');
    const base = nullAccessContext(repo.dir);
    const ctx = { ...base, diagnosis: { ...base.diagnosis, context: { previousVersion: '0.9.0', newVersion: '0.9.5' } } };
    expect(new RollbackStrategy().applicable(ctx)).toBe(true);
    expect(await new RollbackStrategy().generate(ctx)).toBeUndefined();
    expect(new RollbackStrategy().applicable({ ...base, diagnosis: { ...base.diagnosis, context: { newVersion: '1' } } })).toBe(false);
    expect(new RollbackStrategy().applicable({ ...base, diagnosis: { ...base.diagnosis, recommendedFixes: [] } })).toBe(false);
  });
});
