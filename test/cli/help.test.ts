import { describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { CONFIG_OPTIONS } from '../../src/cli/args.js';

async function help(name: string): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main([name, '--help'], { out: (t) => (out += t), err: () => undefined });
  return { code, out };
}

describe.each(Object.keys(COMMANDS))('self-healing %s --help', (name) => {
  it('shows the usage, every option the command accepts, the common options and an example', async () => {
    const { code, out } = await help(name);
    expect(code).toBe(0);
    expect(out.startsWith(`usage: self-healing ${name}`)).toBe(true);
    expect(out).toContain('\nOptions:\n');
    for (const option of [...Object.keys(COMMANDS[name]!.options), ...Object.keys(CONFIG_OPTIONS)]) {
      expect(out, `--${option}`).toMatch(new RegExp(`--${option}\\b`));
    }
    expect(out).toMatch(/\nExamples?:\n {2}(self-healing|npm run) /);
  });
});
