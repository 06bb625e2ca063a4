/** Options every command takes (CONFIG_OPTIONS in args.ts), as help lines. */
const COMMON: Array<[string, string]> = [
  ['-c, --config <file>', 'YAML configuration file (docs/configuration.md)'],
  ['--set <path=value>', 'override one configuration field; repeatable'],
  ['--log-format <json|pretty>', 'log line format on stderr (default json)'],
  ['-h, --help', 'this help'],
];

export interface HelpSpec {
  /** `self-healing <command> ...` synopsis, without "usage:". */
  synopsis: string;
  description: string;
  /** The command's own options: [flag with its value, what it does]. */
  options: Array<[string, string]>;
  examples: string[];
}

/** One help text layout for every command: usage, what it does, every option, examples. */
export function commandHelp(spec: HelpSpec): string {
  const rows = [...spec.options, ...COMMON];
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    `usage: ${spec.synopsis}`,
    '',
    spec.description,
    '',
    'Options:',
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`),
    '',
    spec.examples.length === 1 ? 'Example:' : 'Examples:',
    ...spec.examples.map((e) => `  ${e}`),
  ].join('\n');
}
