import { cleanText } from './untrusted-text.js';

/** git's own advice is 50-72; GitHub cuts PR titles it shows at about this length too. */
export const SUBJECT_MAX = 100;
export const BODY_MAX = 16_000;
/** A telemetry value inside a commit body: one line, bounded. */
export const LINE_MAX = 300;

/** A commit subject / PR title: one line, no controls or invisible characters, bounded. */
export function commitSubject(text: string): string {
  return cleanText(text, { maxLength: SUBJECT_MAX }) || 'self-healing change';
}

/** A telemetry value inside a commit body line: it cannot start a line of its own (so no fake trailer). */
export function commitLine(text: string, maxLength = LINE_MAX): string {
  return cleanText(text, { maxLength });
}

/**
 * A whole commit message. The body keeps line breaks but no other controls; trailers (`Key: value`
 * lines the healing code reads back) are written by the caller after the body, and the reader takes
 * the last occurrence, so a body line cannot stand in for one.
 */
export function commitMessage(subject: string, body: string, trailers: Array<[string, string]> = []): string {
  const parts = [commitSubject(subject)];
  const cleanBody = cleanText(body, { multiline: true, maxLength: BODY_MAX });
  if (cleanBody !== '') parts.push(cleanBody);
  if (trailers.length > 0) parts.push(trailers.map(([k, v]) => `${k}: ${commitLine(v)}`).join('\n'));
  return parts.join('\n\n') + '\n';
}
