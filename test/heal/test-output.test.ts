import { describe, expect, it } from 'vitest';
import { parseTestOutput } from '../../src/heal/test-output.js';

const VITEST_OK = `
 RUN  v4.1.12 /tmp/heal-wt-abc/tree

 ✓ test/resolveTemplate.test.ts (1 test) 41ms
 ✓ test/createComponent.test.ts (1 test) 3ms
 ✓ test/renderComponent.test.ts (1 test) 2ms

 Test Files  3 passed (3)
      Tests  3 passed (3)
   Start at  09:12:01
   Duration  1.21s (transform 88ms, setup 0ms, collect 120ms, tests 46ms, environment 0ms, prepare 301ms)

 % Coverage report from v8
`;

const VITEST_MIXED = `\u001b[1m\u001b[46m RUN \u001b[49m\u001b[22m \u001b[36mv4.1.12\u001b[39m
 ❯ test/createComponent.test.ts (3 tests | 1 failed | 1 skipped) 12ms
   × createComponent > creates a component 8ms
     → Cannot read properties of undefined (reading 'name')

⎯⎯⎯⎯⎯⎯⎯ Failed Tests 1 ⎯⎯⎯⎯⎯⎯⎯

\u001b[2m Test Files \u001b[22m \u001b[1m\u001b[31m1 failed\u001b[39m\u001b[22m\u001b[2m | \u001b[22m\u001b[1m\u001b[32m2 passed\u001b[39m\u001b[22m\u001b[90m (3)\u001b[39m
\u001b[2m      Tests \u001b[22m \u001b[1m\u001b[31m1 failed\u001b[39m\u001b[22m\u001b[2m | \u001b[22m\u001b[1m\u001b[32m4 passed\u001b[39m\u001b[22m\u001b[2m | \u001b[22m\u001b[33m1 skipped\u001b[39m\u001b[2m | \u001b[22m\u001b[33m1 todo\u001b[39m\u001b[90m (7)\u001b[39m
\u001b[2m   Start at \u001b[22m 09:13:44
`;

const JEST = `
PASS src/__tests__/render.test.ts
FAIL src/__tests__/create.test.ts
  ● createComponent › reads the component name

    TypeError: Cannot read properties of undefined (reading 'name')

Test Suites: 1 failed, 1 passed, 2 total
Tests:       1 failed, 2 skipped, 1 todo, 5 passed, 9 total
Snapshots:   0 total
Time:        2.345 s
Ran all test suites.
`;

const NODE_TAP = `TAP version 13
# Subtest: ok
ok 1 - ok
  ---
  duration_ms: 0.61
  ...
# Subtest: bad
not ok 2 - bad
  ---
  duration_ms: 1.2
  failureType: 'testCodeFailure'
  ...
1..4
# tests 4
# suites 0
# pass 1
# fail 1
# cancelled 0
# skipped 1
# todo 1
# duration_ms 119.652309
`;

const NODE_SPEC = `✔ ok (0.5ms)
✖ bad (1.1ms)
ℹ tests 6
ℹ suites 1
ℹ pass 4
ℹ fail 1
ℹ cancelled 1
ℹ skipped 0
ℹ todo 0
ℹ duration_ms 80.1
`;

const MOCHA = `

  createComponent
    ✔ creates a component
    1) reads the name
    - pending thing


  7 passing (32ms)
  2 pending
  1 failing

  1) createComponent
       reads the name:
     TypeError: Cannot read properties of undefined (reading 'name')
`;

describe('parseTestOutput', () => {
  it('reads a passing vitest run', () => {
    expect(parseTestOutput(VITEST_OK)).toEqual({ runner: 'vitest', passed: 3, failed: 0, skipped: 0, total: 3 });
  });

  it('reads a coloured vitest run with failures, skips and todos', () => {
    expect(parseTestOutput(VITEST_MIXED)).toEqual({ runner: 'vitest', passed: 4, failed: 1, skipped: 2, total: 7 });
  });

  it('reads jest', () => {
    expect(parseTestOutput(JEST)).toEqual({ runner: 'jest', passed: 5, failed: 1, skipped: 3, total: 9 });
  });

  it('reads node:test TAP and spec reporters', () => {
    expect(parseTestOutput(NODE_TAP)).toEqual({ runner: 'node-test', passed: 1, failed: 1, skipped: 2, total: 4 });
    expect(parseTestOutput(NODE_SPEC.replace(/\n/g, '\r\n'))).toEqual({ runner: 'node-test', passed: 4, failed: 2, skipped: 0, total: 6 });
  });

  it('reads mocha', () => {
    expect(parseTestOutput(MOCHA)).toEqual({ runner: 'mocha', passed: 7, failed: 1, skipped: 2, total: 10 });
  });

  it('says unknown when there is no summary', () => {
    expect(parseTestOutput('npm ERR! missing script: test\n')).toEqual({ runner: 'unknown', passed: 0, failed: 0, skipped: 0, total: 0 });
  });
});
