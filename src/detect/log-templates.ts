/**
 * Streaming log template mining in the manner of Drain (He et al., ICWS 2017): a record's body is
 * masked (numbers, ids, addresses, paths, quoted strings become placeholders), split into tokens
 * and routed down a fixed-depth tree (service, token count, the first few tokens) to a small list
 * of templates; the most similar one above the threshold absorbs it (positions that differ become
 * `<*>`), otherwise the record starts a template of its own. The cost per record is bounded by the
 * tree depth and the leaf size, not by how many templates exist.
 *
 * Memory is bounded per service (maxTemplatesPerService, least recently matched evicted first) and
 * in the number of services (maxServices): telemetry is attacker input, so unique junk lines can
 * churn templates but never grow memory.
 */

export interface LogTemplateOptions {
  /** Tokens that route a record below the token-count level (Drain's depth minus three: depth 4 routes by one). */
  prefixTokens: number;
  /** Share of equal tokens (0..1) a record needs to join a template. */
  similarity: number;
  /** Children per tree node; past it, new tokens share the `<*>` child. */
  maxChildren: number;
  maxTemplatesPerService: number;
  maxServices: number;
  /** Only this many tokens of a body are mined (the rest of a long line is ignored). */
  maxTokens: number;
}

export const DEFAULT_LOG_TEMPLATE_OPTIONS: LogTemplateOptions = {
  prefixTokens: 1,
  similarity: 0.5,
  maxChildren: 100,
  maxTemplatesPerService: 1000,
  maxServices: 1000,
  maxTokens: 64,
};

/** What mining one record gives. */
export interface TemplateMatch {
  /** Stable for the template's life, unique within the miner ("service#n" keeps it readable). */
  templateId: string;
  /** The template text: tokens joined by spaces, variables as placeholders or `<*>`. */
  template: string;
  /** True when this record created the template. */
  created: boolean;
}

export const WILDCARD = '<*>';

interface Template {
  id: string;
  tokens: string[];
  leaf: Template[];
}

interface ServiceTree {
  /** token count -> prefix path -> leaf. */
  root: Map<number, PrefixNode>;
  /** Insertion order is recency order: a match moves its template to the end. */
  templates: Map<string, Template>;
}

interface PrefixNode {
  children: Map<string, PrefixNode>;
  leaf: Template[];
}

// Masks, applied in this order: whole quoted strings first (they may contain anything), then
// things with structure (uuids, addresses, paths, hex ids), then any token still holding a digit.
const QUOTED_RE = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g;
const UUID_RE = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;
const URL_RE = /\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s"'<>]+/g;
const IPV4_RE = /\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g;
const IPV6_RE = /\b(?:[0-9a-fA-F]{1,4}:){3,7}[0-9a-fA-F]{1,4}\b/g;
const PATH_RE = /(?:^|(?<=[\s=:([,]))(?:\/[\w.@%+~-]+){2,}\/?|\b[A-Za-z]:\\(?:[\w.@%+~-]+\\)*[\w.@%+~-]*/g;
const HEX_RE = /\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b/g;
const HAS_DIGIT_RE = /\d/;
const PLACEHOLDER_RE = /<(?:STR|URL|UUID|IP|PATH|HEX)>/g;
const TOKEN_SPLIT_RE = /[\s,;]+/;

/** The masks in the order maskLogBody applies them (a test checks the skipped ones change nothing). */
export const LOG_BODY_MASKS: ReadonlyArray<readonly [RegExp, string]> = [
  [QUOTED_RE, '<STR>'],
  [URL_RE, '<URL>'],
  [UUID_RE, '<UUID>'],
  [IPV4_RE, '<IP>'],
  [IPV6_RE, '<IP>'],
  [PATH_RE, '<PATH>'],
  [HEX_RE, '<HEX>'],
];

/**
 * The body with its variable parts replaced by placeholders (what templates are mined from).
 * A mask whose required character is not in the body is skipped: placeholders only add letters
 * and angle brackets, so a character missing from the body is missing at every step, and the
 * skipped replace would have changed nothing (it would only have cost a scan per record).
 */
export function maskLogBody(body: string): string {
  let s = body;
  if (s.includes('"') || s.includes("'") || s.includes('`')) s = s.replace(QUOTED_RE, '<STR>');
  const colon = s.includes(':');
  if (colon && s.includes('//')) s = s.replace(URL_RE, '<URL>');
  if (s.includes('-')) s = s.replace(UUID_RE, '<UUID>');
  if (s.includes('.')) s = s.replace(IPV4_RE, '<IP>');
  if (colon) s = s.replace(IPV6_RE, '<IP>');
  if (s.includes('/') || s.includes('\\')) s = s.replace(PATH_RE, '<PATH>');
  if (HAS_DIGIT_RE.test(s)) s = s.replace(HEX_RE, '<HEX>');
  return s;
}

/** Masked tokens of a body: at most maxTokens, any remaining token with a digit becomes `<NUM>`. */
export function logTokens(body: string, maxTokens: number): string[] {
  // Enough characters for maxTokens tokens of any sensible length; the rest is never looked at.
  const masked = maskLogBody(body.length > maxTokens * 64 ? body.slice(0, maxTokens * 64) : body);
  const out: string[] = [];
  for (const raw of masked.split(TOKEN_SPLIT_RE)) {
    if (raw === '') continue;
    out.push(HAS_DIGIT_RE.test(raw) && HAS_DIGIT_RE.test(raw.replace(PLACEHOLDER_RE, '')) ? maskDigits(raw) : raw);
    if (out.length >= maxTokens) break;
  }
  return out;
}

/**
 * Digit runs inside a token become <NUM> and the rest stays: "id=42" -> "id=<NUM>", "35ms" ->
 * "<NUM>ms", "OrderServiceImpl#361" -> "OrderServiceImpl#<NUM>" (a logger name still routes).
 */
function maskDigits(token: string): string {
  return token.replace(DIGIT_RUN_RE, '<NUM>');
}
const DIGIT_RUN_RE = /\d+(?:[.,:]\d+)*/g;

/** Exception and error class names: a template only absorbs a line whose ones are the same. */
const KEY_TOKEN_RE = /(?:Exception|Error|Panic|Fault)\b/;

export class LogTemplateMiner {
  private readonly options: LogTemplateOptions;
  private readonly services = new Map<string, ServiceTree>();
  private nextId = 1;
  /** Templates dropped to stay within maxTemplatesPerService, and whole services within maxServices. */
  evictedTemplates = 0;
  evictedServices = 0;

  constructor(options: Partial<LogTemplateOptions> = {}) {
    this.options = { ...DEFAULT_LOG_TEMPLATE_OPTIONS, ...options };
  }

  /** Mines one record body of `service`. */
  add(service: string, body: string): TemplateMatch {
    const tokens = logTokens(body, this.options.maxTokens);
    const tree = this.tree(service);
    const leaf = this.leafFor(tree, tokens);
    const best = this.bestMatch(leaf, tokens);
    if (best !== undefined) {
      mergeInto(best, tokens);
      // Recency for eviction: move to the end of the insertion order.
      tree.templates.delete(best.id);
      tree.templates.set(best.id, best);
      return { templateId: best.id, template: best.tokens.join(' '), created: false };
    }
    const t: Template = { id: `${service}#${this.nextId++}`, tokens, leaf };
    leaf.push(t);
    tree.templates.set(t.id, t);
    if (tree.templates.size > this.options.maxTemplatesPerService) this.evictOldest(tree);
    return { templateId: t.id, template: tokens.join(' '), created: true };
  }

  /** Templates currently held for a service. */
  templateCount(service: string): number {
    return this.services.get(service)?.templates.size ?? 0;
  }

  get serviceCount(): number {
    return this.services.size;
  }

  /** The current text of a template ('' when unknown or evicted). */
  templateText(service: string, templateId: string): string {
    return this.services.get(service)?.templates.get(templateId)?.tokens.join(' ') ?? '';
  }

  private tree(service: string): ServiceTree {
    let tree = this.services.get(service);
    if (tree !== undefined) {
      this.services.delete(service);
      this.services.set(service, tree);
      return tree;
    }
    tree = { root: new Map(), templates: new Map() };
    this.services.set(service, tree);
    if (this.services.size > this.options.maxServices) {
      const oldest = this.services.keys().next().value!;
      this.services.delete(oldest);
      this.evictedServices++;
    }
    return tree;
  }

  private leafFor(tree: ServiceTree, tokens: string[]): Template[] {
    let node: PrefixNode | undefined = tree.root.get(tokens.length);
    if (node === undefined) {
      node = { children: new Map(), leaf: [] };
      tree.root.set(tokens.length, node);
    }
    const depth = Math.min(this.options.prefixTokens, tokens.length);
    for (let i = 0; i < depth; i++) {
      const token = tokens[i]!;
      // Variables must not decide the route: they would scatter one template over many leaves.
      const key = token.startsWith('<') && token.endsWith('>') ? WILDCARD : token;
      let child: PrefixNode | undefined = node.children.get(key);
      if (child === undefined) {
        const full: boolean = node.children.size >= this.options.maxChildren;
        child = full ? node.children.get(WILDCARD) : undefined;
        if (child === undefined) {
          child = { children: new Map(), leaf: [] };
          node.children.set(full ? WILDCARD : key, child);
        }
      }
      node = child;
    }
    return node.leaf;
  }

  private bestMatch(leaf: Template[], tokens: string[]): Template | undefined {
    let best: Template | undefined;
    let bestSim = -1;
    let bestParams = -1;
    for (const t of leaf) {
      let equal = 0;
      let params = 0;
      let keyMismatch = false;
      for (let i = 0; i < tokens.length; i++) {
        const a = t.tokens[i]!;
        const b = tokens[i]!;
        if (a === b) equal++;
        else if (a === WILDCARD) params++;
        // A different exception class is a different event, however similar the rest of the line.
        else if (KEY_TOKEN_RE.test(a) || KEY_TOKEN_RE.test(b)) keyMismatch = true;
      }
      if (keyMismatch) continue;
      const sim = tokens.length === 0 ? 1 : equal / tokens.length;
      // Drain's tie-break: among equally similar templates, the one with more parameters.
      if (sim > bestSim || (sim === bestSim && params > bestParams)) {
        best = t;
        bestSim = sim;
        bestParams = params;
      }
    }
    return best !== undefined && bestSim >= this.options.similarity ? best : undefined;
  }

  private evictOldest(tree: ServiceTree): void {
    const oldest = tree.templates.values().next().value!;
    tree.templates.delete(oldest.id);
    const at = oldest.leaf.indexOf(oldest);
    if (at >= 0) oldest.leaf.splice(at, 1);
    this.evictedTemplates++;
  }
}

function mergeInto(t: Template, tokens: string[]): void {
  for (let i = 0; i < tokens.length; i++) if (t.tokens[i] !== tokens[i]) t.tokens[i] = WILDCARD;
}
