import { bound, cleanText } from './untrusted-text.js';

/** Longest telemetry fragment shown in Markdown (code points). */
export const MARKDOWN_INLINE_MAX = 200;

/**
 * Telemetry text as one Markdown (CommonMark / GFM) code span. Inside a code span nothing is
 * interpreted: no HTML, links, images, emphasis, autolinks or headings. The span is fenced with
 * one backtick more than the longest backtick run of the text, so the text cannot close it, and
 * padded with one space each side, which the renderer strips again. Line breaks become spaces, so
 * the fragment cannot start a new block. `<` is shown as the full-width `\uff1c`, so the body pass
 * (which turns every `<` into an entity) leaves the fragment readable.
 */
export function markdownInline(text: string, maxLength = MARKDOWN_INLINE_MAX): string {
  const clean = cleanText(text, { maxLength }).replace(/</g, '\uff1c');
  const longest = Math.max(0, ...Array.from(clean.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence} ${clean} ${fence}`;
}

/** Longest Markdown document healing writes into a PR body (characters; GitHub's limit is 65536). */
export const MARKDOWN_BODY_MAX = 60_000;

/**
 * Final pass over a Markdown body whose telemetry fragments were already put through
 * markdownInline: controls and invisible characters go, every `<` becomes `&lt;` (so neither raw
 * HTML nor an autolink can open, even from a strategy that forgot to escape; markdownInline never
 * emits one) and the length is bounded.
 */
export function markdownBody(text: string): string {
  return bound(cleanText(text, { multiline: true, maxLength: MARKDOWN_BODY_MAX }).replace(/</g, '&lt;'), MARKDOWN_BODY_MAX);
}
