import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * A small application repository in the MusicalConductor style, created as a real git repository:
 * the demo heals it (`self-healing demo`) and the tests of the healing stages (fix generation,
 * validation, deploy) use it through test/fixtures/app-repo.ts.
 *
 * History:
 *   v1.0.0  "Initial canvas component app": createComponent reads `payload.name`.
 *   v1.1.0  "createComponent: take the name from the component descriptor": the handler now reads
 *           `payload.component.name` (the null-access bug when bug='null-access', guarded with `?.`
 *           when bug='none') and deploy/app.yaml moves to image tag 1.1.0.
 */

const run = promisify(execFile);

export type FixtureBug = 'null-access' | 'none';

export interface FixtureRepo {
  dir: string;
  cleanup(): Promise<void>;
}

/** Where the bug lives at v1.1.0, for tests that build diagnoses and stack traces. */
export const FIXTURE_BUG = {
  file: 'src/handlers/createComponent.ts',
  /** 1-based line of `const name = payload.component.name;`. */
  line: 15,
  column: 34,
  handler: 'createComponent',
  errorType: 'TypeError',
  errorMessage: "Cannot read properties of undefined (reading 'name')",
} as const;

export const FIXTURE_SERVICE = 'canvas-app';
export const FIXTURE_PLUGIN = 'CanvasComponentPlugin';
export const FIXTURE_SEQUENCE = 'canvas-component-create';
export const FIXTURE_IMAGE = 'registry.local/canvas-app';

/** The node_modules holding vitest, found by walking up from this file (works from src or dist). */
export function projectNodeModules(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'node_modules');
    if (existsSync(join(candidate, 'vitest'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('node_modules with vitest not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

const RESOLVE_TEMPLATE = `export interface TemplateRequest {
  templateId: string;
  variant: string;
}

export interface ResolvedTemplate {
  templateId: string;
  variant: string;
  checksum: number;
  css: string;
}

/** Pure: the same request always resolves to the same template. Deliberately CPU-heavy. */
export function resolveTemplate(request: TemplateRequest): ResolvedTemplate {
  let checksum = 17;
  const source = request.templateId + ':' + request.variant;
  for (let round = 0; round < 20000; round++) {
    for (let i = 0; i < source.length; i++) {
      checksum = (checksum * 31 + source.charCodeAt(i) + round) % 1000003;
    }
  }
  return {
    templateId: request.templateId,
    variant: request.variant,
    checksum,
    css: '.' + request.templateId + '--' + request.variant + ' { display: block; }',
  };
}
`;

function createComponentSource(version: '1.0.0' | '1.1.0', bug: FixtureBug): string {
  const nameLine =
    version === '1.0.0'
      ? '  const name = payload.name;'
      : bug === 'null-access'
        ? '  const name = payload.component.name;'
        : '  const name = payload.component?.name;';
  return `export interface ComponentDescriptor {
  name: string;
  type: string;
}

export interface CreatePayload {
  name?: string;
  component?: ComponentDescriptor;
  position: { x: number; y: number };
}

let created = 0;

export function createComponent(payload: CreatePayload): { id: string; name: string; x: number; y: number } {
${nameLine}
  created += 1;
  return {
    id: 'cmp-' + String(created),
    name: name ?? 'untitled',
    x: payload.position.x,
    y: payload.position.y,
  };
}
`;
}

const RENDER_COMPONENT = `export interface RenderRequest {
  id: string;
  name: string;
  css: string;
}

export function renderComponent(request: RenderRequest): string {
  const label = request.name.trim() || 'untitled';
  return '<div id="' + request.id + '" data-name="' + label + '"><style>' + request.css + '</style></div>';
}
`;

const NOTIFY_UI = `export interface UiEvent {
  topic: string;
  componentId: string;
}

const listeners: Array<(event: UiEvent) => void> = [];

export function subscribeUi(listener: (event: UiEvent) => void): void {
  listeners.push(listener);
}

export function notifyUi(event: UiEvent): number {
  for (const listener of listeners) listener(event);
  return listeners.length;
}
`;

const TEST_RESOLVE = `import { describe, expect, it } from 'vitest';
import { resolveTemplate } from '../src/handlers/resolveTemplate.js';

describe('resolveTemplate', () => {
  it('is deterministic', () => {
    const a = resolveTemplate({ templateId: 'card', variant: 'dark' });
    const b = resolveTemplate({ templateId: 'card', variant: 'dark' });
    expect(a).toEqual(b);
    expect(a.css).toContain('.card--dark');
  });
});
`;

const TEST_CREATE = `import { describe, expect, it } from 'vitest';
import { createComponent } from '../src/handlers/createComponent.js';

describe('createComponent', () => {
  it('creates a component at the requested position', () => {
    const c = createComponent({ name: 'Button', component: { name: 'Button', type: 'button' }, position: { x: 3, y: 4 } });
    expect(c.name).toBe('Button');
    expect(c.x).toBe(3);
    expect(c.id).toMatch(/^cmp-/);
  });
});
`;

const TEST_RENDER = `import { describe, expect, it } from 'vitest';
import { renderComponent } from '../src/handlers/renderComponent.js';

describe('renderComponent', () => {
  it('renders markup with the component name', () => {
    const html = renderComponent({ id: 'cmp-1', name: 'Button', css: '.x {}' });
    expect(html).toContain('data-name="Button"');
  });
});
`;

const VITEST_CONFIG = `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['json', 'json-summary', 'text'],
      reportsDirectory: 'coverage',
    },
  },
});
`;

const PACKAGE_JSON = (version: string): string =>
  JSON.stringify(
    {
      name: FIXTURE_SERVICE,
      version,
      private: true,
      type: 'module',
      scripts: { test: 'vitest run --coverage' },
    },
    null,
    2,
  ) + '\n';

const TSCONFIG = JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    },
    include: ['src/**/*.ts', 'test/**/*.ts'],
  },
  null,
  2,
) + '\n';

const SEQUENCE = JSON.stringify(
  {
    id: FIXTURE_SEQUENCE,
    name: 'Canvas Component Create',
    pluginId: FIXTURE_PLUGIN,
    movements: [
      {
        name: 'resolve',
        beats: [
          { beat: 1, event: 'canvas:component:resolve-template', handler: 'resolveTemplate', kind: 'pure', timing: 'immediate', dynamics: 'mf', testFile: 'test/resolveTemplate.test.ts' },
        ],
      },
      {
        name: 'create',
        beats: [
          { beat: 1, event: 'canvas:component:create', handler: 'createComponent', kind: 'pure', timing: 'immediate', dynamics: 'f', testFile: 'test/createComponent.test.ts' },
          { beat: 2, event: 'canvas:component:render', handler: 'renderComponent', kind: 'stage-crew', timing: 'after-beat', dynamics: 'mf', testFile: 'test/renderComponent.test.ts' },
          { beat: 3, event: 'canvas:component:notify', handler: 'notifyUi', kind: 'stage-crew', timing: 'after-beat', dynamics: 'p' },
        ],
      },
    ],
  },
  null,
  2,
) + '\n';

const HANDLERS_DOC = `# Handlers

Handlers of the \`${FIXTURE_SEQUENCE}\` sequence.

## resolveTemplate

Resolves a template id and variant to CSS. Pure.

### Performance

| Metric | Value |
| --- | --- |
| p50 | 4 ms |
| p95 | 6 ms |
| p99 | 8 ms |
| Error rate | 0 % |

## createComponent

Creates the component record from the payload.

### Performance

| Metric | Value |
| --- | --- |
| p50 | 1 ms |
| p95 | 2 ms |
| p99 | 3 ms |
| Error rate | 0 % |

## renderComponent

Renders the component markup.

### Performance

| Metric | Value |
| --- | --- |
| p50 | 1 ms |
| p95 | 1 ms |
| p99 | 2 ms |
| Error rate | 0 % |

## notifyUi

Notifies UI listeners that a component was created.

### Performance

| Metric | Value |
| --- | --- |
| p50 | 0.2 ms |
| p95 | 0.5 ms |
| p99 | 1 ms |
| Error rate | 0 % |
`;

const DEPLOYMENT = (version: string): string => `# Deployment of the canvas app; the image tag follows the release version.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${FIXTURE_SERVICE}
  labels:
    app: ${FIXTURE_SERVICE}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: ${FIXTURE_SERVICE}
  template:
    metadata:
      labels:
        app: ${FIXTURE_SERVICE}
    spec:
      containers:
        - name: ${FIXTURE_SERVICE}
          image: ${FIXTURE_IMAGE}:${version} # release image
          ports:
            - containerPort: 8080
        - name: otel-sidecar
          image: registry.local/self-healing:0.1.0
`;

const GITIGNORE = 'node_modules\ncoverage\n';

async function git(dir: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd: dir, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  return stdout;
}

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
}

/**
 * Writes the application repository into `dir` (which must be empty or missing): two tagged
 * commits, v1.0.0 and v1.1.0, and a node_modules symlink to the project's dependencies.
 */
export async function writeAppRepo(dir: string, opts: { bug?: FixtureBug } = {}): Promise<void> {
  const bug = opts.bug ?? 'null-access';
  await mkdir(dir, { recursive: true });
  await git(dir, ['init', '-q', '-b', 'main']);
  await git(dir, ['config', 'user.name', 'Fixture Author']);
  await git(dir, ['config', 'user.email', 'fixture@example.invalid']);
  await git(dir, ['config', 'commit.gpgsign', 'false']);
  await git(dir, ['config', 'tag.gpgsign', 'false']);
  await symlink(projectNodeModules(), join(dir, 'node_modules'), 'dir');

  await writeFiles(dir, {
    '.gitignore': GITIGNORE,
    'package.json': PACKAGE_JSON('1.0.0'),
    'tsconfig.json': TSCONFIG,
    'vitest.config.ts': VITEST_CONFIG,
    'src/handlers/resolveTemplate.ts': RESOLVE_TEMPLATE,
    'src/handlers/createComponent.ts': createComponentSource('1.0.0', bug),
    'src/handlers/renderComponent.ts': RENDER_COMPONENT,
    'src/handlers/notifyUi.ts': NOTIFY_UI,
    'test/resolveTemplate.test.ts': TEST_RESOLVE,
    'test/createComponent.test.ts': TEST_CREATE,
    'test/renderComponent.test.ts': TEST_RENDER,
    [`sequences/${FIXTURE_SEQUENCE}.sequence.json`]: SEQUENCE,
    'docs/handlers.md': HANDLERS_DOC,
    'deploy/app.yaml': DEPLOYMENT('1.0.0'),
  });
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '-m', 'Initial canvas component app']);
  await git(dir, ['tag', 'v1.0.0']);

  await writeFiles(dir, {
    'package.json': PACKAGE_JSON('1.1.0'),
    'src/handlers/createComponent.ts': createComponentSource('1.1.0', bug),
    'deploy/app.yaml': DEPLOYMENT('1.1.0'),
  });
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '-m', 'createComponent: take the name from the component descriptor']);
  await git(dir, ['tag', 'v1.1.0']);
}

/** Creates the fixture repository (two tagged commits) under os.tmpdir(). */
export async function createFixtureRepo(opts: { bug?: FixtureBug } = {}): Promise<FixtureRepo> {
  const dir = await mkdtemp(join(tmpdir(), 'heal-app-'));
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    await writeAppRepo(dir, opts);
    return { dir: resolve(dir), cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
