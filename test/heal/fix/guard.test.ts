import { afterEach, describe, expect, it } from 'vitest';
import { applyGuard, classifyNullAccess, GuardStrategy } from '../../../src/heal/fix/guard.js';
import { createFixtureRepo, FIXTURE_BUG, type FixtureRepo } from '../../fixtures/app-repo.js';
import { checkDiffsApply, gitStatus, nullAccessContext } from './fix-context.js';

describe('classifyNullAccess', () => {
  it('recognises the V8 messages for missing values', () => {
    expect(classifyNullAccess("Cannot read properties of undefined (reading 'name')")).toEqual({ kind: 'read', property: 'name' });
    expect(classifyNullAccess("Cannot read properties of null (reading 'x')")).toEqual({ kind: 'read', property: 'x' });
    expect(classifyNullAccess("Cannot read property 'y' of undefined")).toEqual({ kind: 'read', property: 'y' });
    expect(classifyNullAccess('payload.onDone is not a function')).toEqual({ kind: 'call', callee: 'payload.onDone' });
    expect(classifyNullAccess('items is not iterable')).toEqual({ kind: 'iterate', expression: 'items' });
    expect(classifyNullAccess('undefined is not iterable (cannot read property Symbol(Symbol.iterator))')).toEqual({ kind: 'iterate', expression: undefined });
    expect(classifyNullAccess('connection refused')).toBeUndefined();
  });
});

describe('applyGuard', () => {
  const at = (line: number, column?: number) => ({ line, column, mapped: false });

  it('turns the failing property access into an optional chain and leaves the rest of the file alone', () => {
    const text = 'const a = 1; // keep\nexport function f(p: any) {\n  return p.outer.inner.leaf + p.outer.inner.leaf;\n}\n';
    const edit = applyGuard('f.ts', text, at(3, 45), { kind: 'read', property: 'leaf' });
    expect(edit?.text).toBe('const a = 1; // keep\nexport function f(p: any) {\n  return p.outer.inner.leaf + p?.outer?.inner?.leaf;\n}\n');
    expect(edit?.before).toBe('p.outer.inner.leaf');
    expect(edit?.after).toBe('p?.outer?.inner?.leaf');
    expect(edit?.style).toBe('rewrite');
  });

  it('guards the whole chain: profile.address.city with address missing no longer throws', () => {
    const source = 'function city(profile) {\n  return profile.address.city;\n}\nreturn city;\n';
    const before = new Function(source)() as (p: unknown) => unknown;
    expect(() => before({ name: 'x' })).toThrow("Cannot read properties of undefined (reading 'city')");
    const edit = applyGuard('f.js', source, at(2), { kind: 'read', property: 'city' });
    expect(edit?.after).toBe('profile?.address?.city');
    const after = new Function(edit!.text)() as (p: unknown) => unknown;
    expect(after({ name: 'x' })).toBeUndefined();
    expect(after(undefined)).toBeUndefined();
    expect(after({ address: { city: 'Oslo' } })).toBe('Oslo');
  });

  it('handles element access, calls, for-of and spread', () => {
    expect(applyGuard('f.ts', "const v = rows['first'];\n", at(1), { kind: 'read', property: 'first' })?.text).toBe("const v = rows?.['first'];\n");
    expect(applyGuard('f.ts', 'opts.onDone(1, 2);\n', at(1), { kind: 'call', callee: 'opts.onDone' })?.text).toBe('opts.onDone?.(1, 2);\n');
    expect(applyGuard('f.ts', 'for (const x of list) use(x);\n', at(1), { kind: 'iterate', expression: 'list' })?.text).toBe(
      'for (const x of list ?? []) use(x);\n',
    );
    expect(applyGuard('f.ts', 'const all = [...list];\n', at(1), { kind: 'iterate', expression: undefined })?.text).toBe('const all = [...(list ?? [])];\n');
  });

  it('inserts an early return when the stored value is dereferenced later in a void function', () => {
    const text = 'export function show(p: any): void {\n  const label = p.item.label;\n  print(label.trim());\n}\n';
    const edit = applyGuard('f.ts', text, at(2), { kind: 'read', property: 'label' });
    expect(edit?.text).toBe('export function show(p: any): void {\n  if (p?.item == null) { return; }\n  const label = p.item.label;\n  print(label.trim());\n}\n');
    expect(edit?.style).toBe('early-return');
    // a function that returns a value keeps the optional chain
    const valued = 'export function show(p: any) {\n  const label = p.item.label;\n  return label.trim();\n}\n';
    expect(applyGuard('f.ts', valued, at(2), { kind: 'read', property: 'label' })?.after).toBe('p?.item?.label');
    // not dereferenced later: the optional chain is enough
    const unused = 'export function show(p: any) {\n  const label = p.item.label;\n  print(label);\n}\n';
    expect(applyGuard('f.ts', unused, at(2), { kind: 'read', property: 'label' })?.after).toBe('p?.item?.label');
  });

  it('never rewrites an assignment target and finds nothing on other lines', () => {
    expect(applyGuard('f.ts', 'p.q.name = 1;\n', at(1), { kind: 'read', property: 'name' })).toBeUndefined();
    expect(applyGuard('f.ts', 'x = 1;\nconst n = p.q.name;\n', at(1), { kind: 'read', property: 'name' })).toBeUndefined();
  });

  it('searches nearby lines when the location was mapped from compiled output', () => {
    const edit = applyGuard('f.ts', 'x = 1;\n\nconst n = p.q.name;\n', { line: 1, column: undefined, mapped: true }, { kind: 'read', property: 'name' });
    expect(edit?.text).toBe('x = 1;\n\nconst n = p?.q?.name;\n');
    expect(edit?.line).toBe(3);
  });
});

describe('GuardStrategy on the fixture repository', () => {
  let repo: FixtureRepo | undefined;
  afterEach(async () => {
    await repo?.cleanup();
    repo = undefined;
  });

  it('produces a diff that adds ?. on the failing line and applies to a clean clone', async () => {
    repo = await createFixtureRepo({ bug: 'null-access' });
    const ctx = nullAccessContext(repo.dir);
    const strategy = new GuardStrategy();
    expect(strategy.applicable(ctx)).toBe(true);
    const fix = await strategy.generate(ctx);
    expect(fix?.kind).toBe('guard');
    expect(fix?.files).toEqual([FIXTURE_BUG.file]);
    const removed = fix!.diff.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'));
    const added = fix!.diff.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'));
    expect(removed).toEqual(['-  const name = payload.component.name;']);
    expect(added).toEqual(['+  const name = payload?.component?.name;']);
    expect(fix!.diff).toContain(`@@ -${String(FIXTURE_BUG.line - 3)},`);
    expect(await gitStatus(repo.dir)).toBe('');
    await checkDiffsApply(repo.dir, [fix!.diff]);
  });

  it('maps a dist/*.js frame to the TypeScript source', async () => {
    repo = await createFixtureRepo();
    const base = nullAccessContext(repo.dir);
    const ctx = {
      ...base,
      diagnosis: {
        ...base.diagnosis,
        context: {
          ...base.diagnosis.context,
          error: { message: FIXTURE_BUG.errorMessage, topFrame: 'createComponent (/srv/app/dist/handlers/createComponent.js:12:31)' },
        },
      },
    };
    const fix = await new GuardStrategy().generate(ctx);
    expect(fix?.description).toContain('mapped from compiled output');
    expect(fix?.diff).toContain('+  const name = payload?.component?.name;');
  });

  it('is not applicable without a recommendation, a null-access message or a frame, and yields nothing when no access matches', async () => {
    repo = await createFixtureRepo();
    const base = nullAccessContext(repo.dir);
    const strategy = new GuardStrategy();
    expect(strategy.applicable({ ...base, diagnosis: { ...base.diagnosis, recommendedFixes: ['rollback'] } })).toBe(false);
    const withError = (error: unknown) => ({ ...base, diagnosis: { ...base.diagnosis, context: { ...base.diagnosis.context, error } } });
    expect(strategy.applicable(withError({ message: 'ECONNRESET', topFrame: 'src/handlers/createComponent.ts:15' }))).toBe(false);
    expect(strategy.applicable(withError({ message: FIXTURE_BUG.errorMessage, topFrame: 'anonymous' }))).toBe(false);
    expect(strategy.applicable(withError(undefined))).toBe(false);
    expect(await strategy.generate(withError(undefined))).toBeUndefined();
    const wrongLine = withError({ message: FIXTURE_BUG.errorMessage, topFrame: 'src/handlers/createComponent.ts:3:1' });
    expect(await strategy.generate(wrongLine)).toBeUndefined();
    expect(await gitStatus(repo.dir)).toBe('');
  });
});
