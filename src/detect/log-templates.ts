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

import { takeOldest, touchNewest } from './recency-list.js';

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
  readonly templateId: string;
  /** The template text: tokens joined by spaces, variables as placeholders or `<*>`. */
  readonly template: string;
  /** True when this record created the template. */
  readonly created: boolean;
}

export const WILDCARD = '<*>';

interface Template {
  id: string;
  tokens: string[];
  /** tokens joined by spaces, rebuilt only when a merge changes a token. */
  text: string;
  /**
   * What a record matching this template gets (created false): one object per template text,
   * replaced (never changed) when the text changes, so a match needs no allocation.
   */
  match: TemplateMatch;
  /** The tree node whose leaf holds this template. */
  node: PrefixNode;
  /** Neighbours in the service's recency list (older = matched less recently). */
  older: Template | undefined;
  newer: Template | undefined;
}

interface ServiceTree {
  /** token count -> prefix path -> leaf. */
  root: Map<number, PrefixNode>;
  templates: Map<string, Template>;
  /** Recency list: a match moves its template to `newest`; eviction takes `oldest`. */
  oldest: Template | undefined;
  newest: Template | undefined;
}

interface PrefixNode {
  children: Map<string, PrefixNode>;
  leaf: Template[];
  /** Bumped whenever the leaf changes (a template added, evicted or generalised): see ShapeEntry. */
  version: number;
}

/**
 * What the last record of one body shape in one service gave: its tokens and, while the leaf it
 * was routed to has not changed since, the template it ended in. A body's tokens depend on which
 * characters are digits but never on which digits they are (every mask treats all digits alike
 * and any digit left in a token becomes <NUM>), so bodies equal up to their digits share a shape.
 * A repeat of the shape then skips masking and tokenising; when in addition the leaf is unchanged
 * (same version) the result is the same template again: after a record is mined, its template is
 * the best match for its tokens (a merge only turns differing tokens into wildcards, which keeps
 * it ahead of every other template of the leaf) and merging them again changes nothing.
 */
interface ShapeEntry {
  hash: number;
  /** The decoder's shape id the entry is keyed on, or 0 when it is keyed on `body`. */
  shape: number;
  service: string;
  body: string;
  tokens: string[];
  /**
   * Where body's code location is ([keyStart, keyEnd), empty when it has none): the one place
   * where digits matter, since the tokens keep it as written. A body of the same shape with other
   * digits there takes the neighbouring slot (entryAt).
   */
  keyStart: number;
  keyEnd: number;
  tree: ServiceTree | undefined;
  node: PrefixNode | undefined;
  version: number;
  template: Template | undefined;
}

/** Shapes remembered per miner (a direct-mapped table: colliding shapes replace each other). */
const SHAPE_SLOTS = 4096;
/** Longer bodies are always tokenised: they are rarely repeated, and the table stays small. */
const MAX_SHAPE_CHARS = 512;
const HASHED_ENDS = 12;

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
const PLACEHOLDER_RE = /<(?:STR|URL|UUID|IP|PATH|HEX|LOC)>/g;
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

/**
 * A code location in a log line's header: the statement that wrote it, as logging frameworks print
 * it: a class with its line (logback/log4j `%logger#%line` or `%logger:%line`: `t.s.TravelServiceImpl#457`,
 * `c.e.OrderService:88`, `OrderServiceImpl#361`) or a source file with its line (`%file:%line`,
 * Python's `%(filename)s:%(lineno)d`, Go's caller: `(TravelServiceImpl.java:457)`, `app.py:42`,
 * `handler.go:88:`). A class needs a capital first letter and, with a colon, a package, so values
 * such as `m:0` or `time:16` never count.
 */
const CODE_LOCATION_RE =
  /(?<![\w$.#:])(?:(?:[A-Za-z_$][\w$]*\.)*[A-Z][\w$]*#\d+|(?:[A-Za-z_$][\w$]*\.)+[A-Z][\w$]*:\d+|[\w$-]+\.(?:java|kt|scala|groovy|py|go|js|mjs|cjs|ts|rb|cs|php|rs|c|cc|cpp|h|swift|ex|exs|erl):\d+)(?![\w$.#])/;
/** Only the header is searched: the location is written before the message, whose text is data. */
const CODE_LOCATION_HEADER_TOKENS = 8;
const HEADER_TOKEN_RE = /[^\s,;]+/g;
const LOC = '<LOC>';

/**
 * Where the first code location of the header (the first CODE_LOCATION_HEADER_TOKENS tokens) is
 * in body: [start, end) into `span`, or false. It depends on which characters are digits but never
 * on which digits they are, so bodies of one shape have it at the same place.
 */
export function findCodeLocation(body: string, span: { start: number; end: number }): boolean {
  HEADER_TOKEN_RE.lastIndex = 0;
  for (let i = 0; i < CODE_LOCATION_HEADER_TOKENS; i++) {
    const m = HEADER_TOKEN_RE.exec(body);
    if (m === null) return false;
    if (!HAS_DIGIT_RE.test(m[0])) continue;
    const loc = CODE_LOCATION_RE.exec(m[0]);
    if (loc !== null) {
      span.start = m.index + loc.index;
      span.end = span.start + loc[0].length;
      return true;
    }
  }
  return false;
}

/**
 * True for a token that holds a code location. logTokens turns every other digit into <NUM>, so a
 * mined token holds a digit only when it is one.
 */
function isCodeLocation(token: string): boolean {
  return HAS_DIGIT_RE.test(token);
}

/**
 * Masked tokens of a body: at most maxTokens, any remaining token with a digit becomes `<NUM>`,
 * except a code location in the header (findCodeLocation), which stays as written: two statements
 * of one class differ only in their line, and are two events, however alike their text. `span`
 * gets where it is in body ([0, 0) when there is none or a mask took it in).
 */
export function logTokens(body: string, maxTokens: number, span: { start: number; end: number } = { start: 0, end: 0 }): string[] {
  // Enough characters for maxTokens tokens of any sensible length; the rest is never looked at.
  let text = body.length > maxTokens * 64 ? body.slice(0, maxTokens * 64) : body;
  let location = '';
  if (findCodeLocation(text, span)) {
    location = text.slice(span.start, span.end);
    text = text.slice(0, span.start) + LOC + text.slice(span.end);
  } else {
    span.start = span.end = 0;
  }
  const masked = maskLogBody(text);
  const out: string[] = [];
  for (const raw of masked.split(TOKEN_SPLIT_RE)) {
    if (raw === '') continue;
    let token = HAS_DIGIT_RE.test(raw) && HAS_DIGIT_RE.test(raw.replace(PLACEHOLDER_RE, '')) ? maskDigits(raw) : raw;
    if (location !== '' && token.includes(LOC)) {
      token = token.replace(LOC, location);
      location = '';
    }
    out.push(token);
    if (out.length >= maxTokens) break;
  }
  // A mask took the location in (say, inside a quoted string): it was not kept.
  if (location !== '') span.start = span.end = 0;
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
  private readonly shapes: Array<ShapeEntry | undefined> = new Array<ShapeEntry | undefined>(SHAPE_SLOTS);
  private newestService: string | undefined;
  private newestTree: ServiceTree | undefined;
  private hashedService: string | undefined;
  private serviceHash = 0;
  private readonly span = { start: 0, end: 0 };

  constructor(options: Partial<LogTemplateOptions> = {}) {
    this.options = { ...DEFAULT_LOG_TEMPLATE_OPTIONS, ...options };
  }

  /**
   * Mines one record body of `service`. `shape`, when not 0, is the body's shape id from the
   * receiving decoder (receive/body-shapes.ts: equal ids are bodies equal up to their digits), which
   * saves reading the body to find its shape.
   */
  add(service: string, body: string, shape = 0): TemplateMatch {
    const tree = this.tree(service);
    const entry = this.shapeOf(service, body, shape);
    let tokens: string[];
    if (entry !== undefined && entry.body !== '') {
      const known = entry.template;
      if (known !== undefined && entry.tree === tree && entry.node!.version === entry.version) {
        touchNewest(tree, known);
        return known.match;
      }
      tokens = entry.tokens;
    } else {
      tokens = logTokens(body, this.options.maxTokens, this.span);
    }
    const node = this.leafFor(tree, tokens);
    const leaf = node.leaf;
    const best = this.bestMatch(leaf, tokens);
    let result: TemplateMatch;
    let t: Template;
    if (best !== undefined) {
      if (mergeInto(best, tokens)) node.version++;
      touchNewest(tree, best);
      t = best;
      result = best.match;
    } else {
      const own = tokens.slice();
      const id = `${service}#${this.nextId++}`;
      const text = own.join(' ');
      t = { id, tokens: own, text, match: { templateId: id, template: text, created: false }, node, older: undefined, newer: undefined };
      leaf.push(t);
      node.version++;
      tree.templates.set(t.id, t);
      touchNewest(tree, t);
      if (tree.templates.size > this.options.maxTemplatesPerService) this.evictOldest(tree);
      result = { templateId: t.id, template: t.text, created: true };
    }
    if (entry !== undefined) {
      if (entry.body === '') {
        entry.body = body;
        entry.service = service;
        entry.tokens = tokens;
        entry.keyStart = this.span.start;
        entry.keyEnd = this.span.end;
      }
      entry.tree = tree;
      entry.node = node;
      entry.version = node.version;
      entry.template = t;
    }
    return result;
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
    return this.services.get(service)?.templates.get(templateId)?.text ?? '';
  }

  private tree(service: string): ServiceTree {
    // Records come in runs of one service: the most recent tree needs no recency update.
    if (service === this.newestService && this.newestTree !== undefined) return this.newestTree;
    let tree = this.services.get(service);
    if (tree !== undefined) {
      this.services.delete(service);
      this.services.set(service, tree);
    } else {
      tree = { root: new Map(), templates: new Map(), oldest: undefined, newest: undefined };
      this.services.set(service, tree);
      if (this.services.size > this.options.maxServices) {
        const oldest = this.services.keys().next().value!;
        this.services.delete(oldest);
        this.evictedServices++;
      }
    }
    this.newestService = service;
    this.newestTree = this.services.get(service) === tree ? tree : undefined;
    return tree;
  }

  /**
   * The shape-table entry for this body: the entry of its shape when it holds one, else the slot
   * to fill, cleared (body ''); undefined for bodies too long or empty to be worth remembering.
   */
  private shapeOf(service: string, body: string, shape: number): ShapeEntry | undefined {
    const n = body.length;
    if (n === 0 || n > MAX_SHAPE_CHARS) return undefined;
    if (service !== this.hashedService) {
      this.hashedService = service;
      this.serviceHash = stringHash(service, 0x2545f491);
    }
    if (shape !== 0) return this.entryAt(Math.imul(this.serviceHash ^ shape, 0x9e3779b1) ^ Math.imul((shape / 0x100000000) | 0, 0x85ebca6b), service, body, shape);
    // The hash reads the first and last HASHED_ENDS characters only (the whole body is compared
    // on a hit): lines of one service that differ only in between share a slot and take turns.
    let h = Math.imul(this.serviceHash ^ n, 0x9e3779b1);
    const head = Math.min(n, HASHED_ENDS);
    for (let i = 0; i < head; i++) {
      let c = body.charCodeAt(i);
      if (c >= 48 && c <= 57) c = 48;
      h = Math.imul(h ^ c, 0x01000193);
    }
    for (let i = Math.max(head, n - HASHED_ENDS); i < n; i++) {
      let c = body.charCodeAt(i);
      if (c >= 48 && c <= 57) c = 48;
      h = Math.imul(h ^ c, 0x01000193);
    }
    return this.entryAt(h, service, body, 0);
  }

  /**
   * The entry in the slot of hash h when it holds this shape, else that slot cleared. A shape
   * whose code location's digits differ from the entry's (two statements of one class) uses the
   * neighbouring slot the same way.
   */
  private entryAt(h: number, service: string, body: string, shape: number): ShapeEntry {
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    const slot = h & (SHAPE_SLOTS - 1);
    const e = this.slotEntry(slot, h, service, body, shape);
    if (e.keyEnd === 0 || sameChars(e.body, body, e.keyStart, e.keyEnd)) return e;
    const other = this.slotEntry(slot ^ 1, h, service, body, shape);
    if (other.keyEnd === 0 || sameChars(other.body, body, other.keyStart, other.keyEnd)) return other;
    return this.cleared(other, h, shape);
  }

  private slotEntry(slot: number, h: number, service: string, body: string, shape: number): ShapeEntry {
    const e = this.shapes[slot];
    if (e === undefined) {
      const fresh: ShapeEntry = { hash: h, shape, service: '', body: '', tokens: [], keyStart: 0, keyEnd: 0, tree: undefined, node: undefined, version: 0, template: undefined };
      this.shapes[slot] = fresh;
      return fresh;
    }
    if (e.hash === h && e.shape === shape && e.service === service && (shape !== 0 || sameShape(e.body, body))) return e;
    return this.cleared(e, h, shape);
  }

  private cleared(e: ShapeEntry, h: number, shape: number): ShapeEntry {
    e.hash = h;
    e.shape = shape;
    e.service = '';
    e.body = '';
    e.tokens = [];
    e.keyStart = 0;
    e.keyEnd = 0;
    e.tree = undefined;
    e.node = undefined;
    e.template = undefined;
    return e;
  }

  private leafFor(tree: ServiceTree, tokens: string[]): PrefixNode {
    let node: PrefixNode | undefined = tree.root.get(tokens.length);
    if (node === undefined) {
      node = { children: new Map(), leaf: [], version: 0 };
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
          child = { children: new Map(), leaf: [], version: 0 };
          node.children.set(full ? WILDCARD : key, child);
        }
      }
      node = child;
    }
    return node;
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
        // A different code location or exception class is a different event, however similar the
        // rest of the line (and a location never becomes a wildcard).
        else if (isCodeLocation(a) || isCodeLocation(b)) keyMismatch = true;
        else if (a === WILDCARD) params++;
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
    const oldest = takeOldest(tree)!;
    tree.templates.delete(oldest.id);
    const leaf = oldest.node.leaf;
    const at = leaf.indexOf(oldest);
    if (at >= 0) leaf.splice(at, 1);
    oldest.node.version++;
    this.evictedTemplates++;
  }
}

/** Generalises t to cover tokens (differing positions become wildcards); true when t changed. */
function mergeInto(t: Template, tokens: string[]): boolean {
  let changed = false;
  for (let i = 0; i < tokens.length; i++) {
    if (t.tokens[i] !== tokens[i] && t.tokens[i] !== WILDCARD) {
      t.tokens[i] = WILDCARD;
      changed = true;
    }
  }
  if (changed) {
    t.text = t.tokens.join(' ');
    t.match = { templateId: t.id, template: t.text, created: false };
  }
  return changed;
}

/** True when a and b hold the same characters in [start, end). */
function sameChars(a: string, b: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false;
  return true;
}

/** True when a and b are equal up to which digits they hold. */
function sameShape(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y && !(x >= 48 && x <= 57 && y >= 48 && y <= 57)) return false;
  }
  return true;
}

function stringHash(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}
