import {
  BEAT_INPUT_ATTR,
  MAX_BEAT_ATTRIBUTE_LENGTH,
  MAX_BEAT_ATTRIBUTES,
  MAX_BEAT_KIND_LENGTH,
  MAX_BEAT_INPUT_LENGTH,
  STATUS_ERROR,
  STATUS_OK,
  STATUS_UNSET,
  type AttrValue,
  type Beat,
  type BeatKind,
  type BeatStatus,
  type SpanKindCode,
} from '../model/beat.js';
import { BEAT_ATTR, OTEL_ATTR } from '../model/attributes.js';
import { buildBeatError } from './fingerprint.js';
import { StringInterner } from './intern.js';

/**
 * The span -> beat mapping shared by the protobuf and JSON decoders (docs/beat-conventions.md).
 * Decoders fill a reusable SpanFields with what they read, then BeatBatch.finishSpan turns it
 * into a Beat or a rejection. Keeping the mapping in one place is what makes both encodings of
 * one request produce identical beats.
 */

export interface DecodeOptions {
  /** More attributes than this on one span makes the request malformed (config receive.maxAttributesPerSpan). */
  maxAttributesPerSpan: number;
}

export interface DecodeResult {
  beats: Beat[];
  /** Spans in the request. */
  spans: number;
  /** Spans that could not become beats; the request still succeeds (OTLP partial success). */
  rejected: number;
  /** Why spans were rejected (the first few reasons); '' when none were. */
  rejectMessage: string;
}

// What an attribute key means for the beat. Classified once per distinct key (cached).
export const KEY_OTHER = 0;
export const KEY_SKIP = 1;
export const KEY_SEQUENCE = 2;
export const KEY_SEQUENCE_ID = 3;
export const KEY_MOVEMENT = 4;
export const KEY_NUMBER = 5;
export const KEY_EVENT = 6;
export const KEY_HANDLER = 7;
export const KEY_PLUGIN = 8;
export const KEY_KIND = 9;
export const KEY_CORRELATION_ID = 10;
export const KEY_REQUEST_ID = 11;
export const KEY_CODE_FUNCTION_NAME = 12;
export const KEY_CODE_FUNCTION = 13;
export const KEY_CODE_NAMESPACE = 14;
export const KEY_EXCEPTION_TYPE = 15;
export const KEY_EXCEPTION_MESSAGE = 16;
export const KEY_EXCEPTION_STACKTRACE = 17;

const KNOWN_KEYS = new Map<string, number>([
  [BEAT_ATTR.sequence, KEY_SEQUENCE],
  [BEAT_ATTR.sequenceId, KEY_SEQUENCE_ID],
  [BEAT_ATTR.movement, KEY_MOVEMENT],
  [BEAT_ATTR.number, KEY_NUMBER],
  [BEAT_ATTR.event, KEY_EVENT],
  [BEAT_ATTR.handler, KEY_HANDLER],
  [BEAT_ATTR.plugin, KEY_PLUGIN],
  [BEAT_ATTR.kind, KEY_KIND],
  [BEAT_ATTR.correlationId, KEY_CORRELATION_ID],
  [OTEL_ATTR.requestId, KEY_REQUEST_ID],
  [OTEL_ATTR.codeFunctionName, KEY_CODE_FUNCTION_NAME],
  [OTEL_ATTR.codeFunction, KEY_CODE_FUNCTION],
  [OTEL_ATTR.codeNamespace, KEY_CODE_NAMESPACE],
  [OTEL_ATTR.exceptionType, KEY_EXCEPTION_TYPE],
  [OTEL_ATTR.exceptionMessage, KEY_EXCEPTION_MESSAGE],
  [OTEL_ATTR.exceptionStacktrace, KEY_EXCEPTION_STACKTRACE],
]);

/** High-cardinality attributes never kept in beat.attributes even when short. */
const HIGH_CARDINALITY_KEYS = new Set([
  'http.url',
  'url.full',
  'url.query',
  'http.target',
  'db.statement',
  'db.query.text',
  'http.user_agent',
  'user_agent.original',
  'code.stacktrace',
  'thread.name',
]);

const classified = new Map<string, number>();

/** How an attribute key maps onto the beat (KEY_*). */
export function classifyKey(key: string): number {
  const known = KNOWN_KEYS.get(key);
  if (known !== undefined) return known;
  let code = classified.get(key);
  if (code !== undefined) return code;
  code = isSkippedKey(key) ? KEY_SKIP : KEY_OTHER;
  if (classified.size >= 4096) classified.clear();
  classified.set(key, code);
  return code;
}

const BEAT_INPUT_PREFIX = `${BEAT_INPUT_ATTR}.`;

/** beat.* keys without a mapping (captured inputs excepted), identifiers (`*.id`, `*_id`, `*Id`) and known high-cardinality keys. */
function isSkippedKey(key: string): boolean {
  // "__proto__" cannot be an own property of a plain object literal: assigning it would be lost.
  if (key === '__proto__') return true;
  if (key.startsWith('beat.')) return !(key === BEAT_INPUT_ATTR || key.startsWith(BEAT_INPUT_PREFIX));
  if (key.startsWith('exception.')) return true;
  if (key === 'id' || key.endsWith('.id') || key.endsWith('_id') || key.endsWith('Id')) return true;
  return HIGH_CARDINALITY_KEYS.has(key);
}

export const RESOURCE_SERVICE_NAME = 1;
export const RESOURCE_SERVICE_VERSION = 2;
export const RESOURCE_ENVIRONMENT = 3;

/** What a resource attribute key means (0 when it is not used). */
export function classifyResourceKey(key: string): number {
  switch (key) {
    case OTEL_ATTR.serviceName:
      return RESOURCE_SERVICE_NAME;
    case OTEL_ATTR.serviceVersion:
      return RESOURCE_SERVICE_VERSION;
    case OTEL_ATTR.deploymentEnvironment:
    case 'deployment.environment.name':
      return RESOURCE_ENVIRONMENT;
    default:
      return 0;
  }
}

export const UNKNOWN_SERVICE = 'unknown_service';
export const UNKNOWN_HANDLER = 'unknown_handler';
/** Kept in beat.attributes when the resource names its deployment environment. */
export const ENVIRONMENT_ATTRIBUTE = 'deployment.environment';

/**
 * Adds the resource's deployment.environment to a span's kept attributes (`keptCount` of them)
 * when there is one, the span did not set its own, and the attribute limit leaves room.
 */
export function addEnvironment(attributes: Record<string, AttrValue>, keptCount: number, environment: string): void {
  if (environment !== '' && keptCount < MAX_BEAT_ATTRIBUTES && !(ENVIRONMENT_ATTRIBUTE in attributes)) attributes[ENVIRONMENT_ATTRIBUTE] = environment;
}

/** Resource attributes shared by all spans of one ResourceSpans. */
export class ResourceFields {
  service = UNKNOWN_SERVICE;
  serviceVersion = '';
  environment = '';

  reset(): void {
    this.service = UNKNOWN_SERVICE;
    this.serviceVersion = '';
    this.environment = '';
  }

  set(code: number, value: AttrValue): void {
    const s = typeof value === 'string' ? value : String(value);
    if (code === RESOURCE_SERVICE_NAME) this.service = s === '' ? UNKNOWN_SERVICE : s;
    else if (code === RESOURCE_SERVICE_VERSION) this.serviceVersion = s;
    else if (code === RESOURCE_ENVIRONMENT) this.environment = s;
  }
}

function str(value: AttrValue): string {
  return typeof value === 'string' ? value : String(value);
}

const TWO_32_NS_IN_MS = 4294967296 / 1e6;

/** Nanoseconds since the epoch given as two unsigned 32-bit halves, in fractional milliseconds. */
export function nanosToMs(hi: number, lo: number): number {
  return hi * TWO_32_NS_IN_MS + lo / 1e6;
}

/** The beat number a `beat.number` attribute value stands for (0 when it is not a non-negative integer). */
export function beatNumberOf(value: AttrValue): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** A Span.kind wire value as a SpanKindCode (0 for anything outside the enum). */
export function spanKindOf(value: number): SpanKindCode {
  return value >= 0 && value <= 5 && Number.isInteger(value) ? (value as SpanKindCode) : 0;
}

/** The beat kind a `beat.kind` attribute value stands for ('' when it is not a short string). */
export function beatKindOf(value: AttrValue): BeatKind {
  return typeof value === 'string' && value.length <= MAX_BEAT_KIND_LENGTH ? value : '';
}

/** Everything read from one span; reused from span to span to avoid allocation. */
export class SpanFields {
  traceId = '';
  spanId = '';
  parentSpanId = '';
  name = '';
  startHi = 0;
  startLo = 0;
  endHi = 0;
  endLo = 0;
  statusCode = 0;
  statusMessage = '';
  /** OTLP Span.kind as sent (0 when absent or out of range). */
  spanKind: SpanKindCode = 0;
  /** First reason this span cannot become a beat ('' when it can). */
  invalid = '';
  attributeCount = 0;

  sequence: string | undefined = undefined;
  sequenceId: string | undefined = undefined;
  movement = '';
  beatNumber = 0;
  event = '';
  handler: string | undefined = undefined;
  plugin = '';
  kind: BeatKind | '' = '';
  correlationId: string | undefined = undefined;
  requestId: string | undefined = undefined;
  codeFunctionName: string | undefined = undefined;
  codeFunction: string | undefined = undefined;
  codeNamespace: string | undefined = undefined;
  /** exception.* given as span attributes (some instrumentations do that instead of an event). */
  attrExceptionType = '';
  attrExceptionMessage = '';
  attrExceptionStacktrace = '';
  /** From the first event named "exception". */
  hasExceptionEvent = false;
  exceptionType = '';
  exceptionMessage = '';
  exceptionStacktrace = '';

  kept: Record<string, AttrValue> = {};
  keptCount = 0;
  /**
   * The kept attributes as one shared, frozen object, environment included (the protobuf
   * decoder's AttributeTemplates); when set it is the beat's attributes and `kept` is not used.
   */
  sharedKept: Readonly<Record<string, AttrValue>> | undefined = undefined;
  /** sharedKept's `http.route` (AttributeTemplates.lastRoute), when sharedKept is set. */
  sharedRoute: AttrValue | undefined = undefined;

  /**
   * Clears every field for the next span. `freshKept` false leaves `kept` to the caller, who
   * must give it a new object before anything is kept (the protobuf decoder builds it at the end).
   */
  reset(freshKept = true): void {
    this.traceId = '';
    this.spanId = '';
    this.parentSpanId = '';
    this.name = '';
    this.startHi = 0;
    this.startLo = 0;
    this.endHi = 0;
    this.endLo = 0;
    this.statusCode = 0;
    this.statusMessage = '';
    this.spanKind = 0;
    this.invalid = '';
    this.attributeCount = 0;
    this.sequence = undefined;
    this.sequenceId = undefined;
    this.movement = '';
    this.beatNumber = 0;
    this.event = '';
    this.handler = undefined;
    this.plugin = '';
    this.kind = '';
    this.correlationId = undefined;
    this.requestId = undefined;
    this.codeFunctionName = undefined;
    this.codeFunction = undefined;
    this.codeNamespace = undefined;
    this.attrExceptionType = '';
    this.attrExceptionMessage = '';
    this.attrExceptionStacktrace = '';
    this.hasExceptionEvent = false;
    this.exceptionType = '';
    this.exceptionMessage = '';
    this.exceptionStacktrace = '';
    // A fresh object per span: it becomes beat.attributes.
    if (freshKept) this.kept = {};
    this.keptCount = 0;
    this.sharedKept = undefined;
    this.sharedRoute = undefined;
  }

  reject(reason: string): void {
    if (this.invalid === '') this.invalid = reason;
  }

  /** Applies one span attribute; `code` is classifyKey(key). */
  setAttribute(code: number, key: string, value: AttrValue): void {
    switch (code) {
      case KEY_OTHER:
        if (typeof value === 'string' && value.length > MAX_BEAT_ATTRIBUTE_LENGTH && (value.length > MAX_BEAT_INPUT_LENGTH || !key.startsWith(BEAT_INPUT_ATTR))) return;
        this.keep(key, value);
        return;
      case KEY_SKIP:
        return;
      case KEY_SEQUENCE:
        this.sequence = str(value);
        return;
      case KEY_SEQUENCE_ID:
        this.sequenceId = str(value);
        // No Beat field holds the sequence id, so it stays visible as an attribute.
        this.keep(key, this.sequenceId);
        return;
      case KEY_MOVEMENT:
        this.movement = str(value);
        return;
      case KEY_NUMBER:
        this.beatNumber = beatNumberOf(value);
        return;
      case KEY_EVENT:
        this.event = str(value);
        return;
      case KEY_HANDLER:
        this.handler = str(value);
        return;
      case KEY_PLUGIN:
        this.plugin = str(value);
        return;
      case KEY_KIND:
        this.kind = beatKindOf(value);
        return;
      case KEY_CORRELATION_ID:
        this.correlationId = str(value);
        return;
      case KEY_REQUEST_ID:
        this.requestId = str(value);
        return;
      case KEY_CODE_FUNCTION_NAME:
        this.codeFunctionName = str(value);
        return;
      case KEY_CODE_FUNCTION:
        this.codeFunction = str(value);
        return;
      case KEY_CODE_NAMESPACE:
        this.codeNamespace = str(value);
        return;
      case KEY_EXCEPTION_TYPE:
        this.attrExceptionType = str(value);
        return;
      case KEY_EXCEPTION_MESSAGE:
        this.attrExceptionMessage = str(value);
        return;
      default:
        this.attrExceptionStacktrace = str(value);
    }
  }

  /** Applies one attribute of the first "exception" event. */
  setExceptionAttribute(code: number, value: AttrValue): void {
    if (code === KEY_EXCEPTION_TYPE) this.exceptionType = str(value);
    else if (code === KEY_EXCEPTION_MESSAGE) this.exceptionMessage = str(value);
    else if (code === KEY_EXCEPTION_STACKTRACE) this.exceptionStacktrace = str(value);
  }

  // Attribute keys are unique within a span (OTLP requires it), so no duplicate check: a
  // duplicate overwrites its value and merely uses up one more of the slots.
  private keep(key: string, value: AttrValue): void {
    if (this.keptCount >= MAX_BEAT_ATTRIBUTES) return;
    this.kept[key] = value;
    this.keptCount++;
  }
}

const MAX_REASONS = 3;

export const HTTP_ROUTE_ATTRIBUTE = 'http.route';

/**
 * A span's name as a handler or sequence name. A name that carries no path, on a span that
 * knows its route (`http.route`), gets the route added: Express 5's instrumentation names every
 * route's handler span `request handler`, and one key for all routes would mix their latencies
 * and errors. Child spans get ` - <route>` (Express 4's own form, so both versions give the same
 * key), a root span ` <route>` (the HTTP semantic conventions' `{method} {http.route}`).
 */
export function routeQualifiedName(name: string, route: AttrValue | undefined, root: boolean, interner?: StringInterner): string {
  if (typeof route !== 'string' || route === '' || name.includes('/')) return name;
  const qualified = name === '' ? route : root ? `${name} ${route}` : `${name} - ${route}`;
  return interner ? interner.intern(qualified) : qualified;
}

/** Route-qualified root (index 1) and child (index 0) labels already built, by span name then route. */
const qualifiedLabels = [new Map<string, Map<string, string>>(), new Map<string, Map<string, string>>()];
/** Bound of each map above (names, and routes per name); a full map starts over, like the interner. */
const MAX_QUALIFIED = 4096;

/**
 * routeQualifiedName for decoded spans, remembered per (name, route): every root span of a
 * route would otherwise build the same string again and look it up in the interner.
 */
function qualifiedLabel(name: string, route: AttrValue | undefined, root: boolean, interner: StringInterner): string {
  if (typeof route !== 'string' || route === '') return name;
  const byName = qualifiedLabels[root ? 1 : 0]!;
  let byRoute = byName.get(name);
  const known = byRoute?.get(route);
  if (known !== undefined) return known;
  const label = routeQualifiedName(name, route, root, interner);
  if (byRoute === undefined) {
    if (byName.size >= MAX_QUALIFIED) byName.clear();
    byRoute = new Map();
    byName.set(name, byRoute);
  } else if (byRoute.size >= MAX_QUALIFIED) {
    byRoute.clear();
  }
  byRoute.set(route, label);
  return label;
}

/** Collects the beats of one request. */
export class BeatBatch {
  readonly beats: Beat[] = [];
  spans = 0;
  rejected = 0;
  private reasons: string[] = [];
  /**
   * Root spans' trace ids and sequences, for spans whose sequence is not given. Kept as two
   * lists and only turned into a map when some span needs it: most requests carry sequences.
   */
  private readonly rootTraces: string[] = [];
  private readonly rootSequences: string[] = [];
  private unresolved = false;

  constructor(private readonly interner: StringInterner) {}

  /** Turns the span in `f` into a beat, or counts it as rejected. */
  finishSpan(f: SpanFields, resource: ResourceFields): void {
    const index = this.spans++;
    if (f.invalid === '') {
      if (f.traceId === '') f.reject('missing trace_id');
      else if (f.spanId === '') f.reject('missing span_id');
      else if (f.startHi === 0 && f.startLo === 0) f.reject('missing start_time_unix_nano');
    }
    // Exact integer nanoseconds as long as the span lasts under ~104 days.
    const durationNs = (f.endHi - f.startHi) * 4294967296 + (f.endLo - f.startLo);
    if (f.invalid === '' && durationNs < 0) f.reject('end_time_unix_nano before start_time_unix_nano');
    if (f.invalid !== '') {
      this.rejected++;
      if (this.reasons.length < MAX_REASONS) this.reasons.push(`span ${index}: ${f.invalid}`);
      return;
    }

    let handler = f.handler ?? f.codeFunctionName;
    if (handler === undefined && f.codeFunction !== undefined) {
      handler =
        f.codeNamespace !== undefined && f.codeNamespace !== ''
          ? this.interner.intern(`${f.codeNamespace}.${f.codeFunction}`)
          : f.codeFunction;
    }
    const shared = f.sharedKept;
    const label = qualifiedLabel(f.name, shared !== undefined ? f.sharedRoute : f.kept[HTTP_ROUTE_ATTRIBUTE], f.parentSpanId === '', this.interner);
    if (handler === undefined || handler === '') handler = label === '' ? UNKNOWN_HANDLER : label;

    let sequence = f.sequence ?? f.sequenceId ?? '';
    if (f.parentSpanId === '') {
      if (sequence === '') sequence = label;
      this.rootTraces.push(f.traceId);
      this.rootSequences.push(sequence);
    } else if (sequence === '') {
      this.unresolved = true;
    }

    const status: BeatStatus = f.statusCode === STATUS_ERROR ? STATUS_ERROR : f.statusCode === STATUS_OK ? STATUS_OK : STATUS_UNSET;
    let error = undefined;
    if (status === STATUS_ERROR) {
      const fromEvent = f.hasExceptionEvent;
      const type = (fromEvent ? f.exceptionType : f.attrExceptionType) || 'Error';
      const message = (fromEvent ? f.exceptionMessage : f.attrExceptionMessage) || f.statusMessage;
      const stack = fromEvent ? f.exceptionStacktrace : f.attrExceptionStacktrace;
      error = buildBeatError(type, message, stack);
    }
    let attributes = shared;
    if (attributes === undefined) {
      addEnvironment(f.kept, f.keptCount, resource.environment);
      attributes = f.kept;
    }

    this.beats.push({
      service: resource.service,
      serviceVersion: resource.serviceVersion,
      sequence,
      movement: f.movement,
      beatNumber: f.beatNumber,
      event: f.event,
      handler,
      plugin: f.plugin,
      kind: f.kind,
      correlationId: f.correlationId ?? f.requestId ?? '',
      startMs: nanosToMs(f.startHi, f.startLo),
      durationMs: durationNs / 1e6,
      status,
      error,
      traceId: f.traceId,
      spanId: f.spanId,
      parentSpanId: f.parentSpanId,
      spanName: f.name,
      spanKind: f.spanKind,
      attributes,
    });
  }

  result(): DecodeResult {
    if (this.unresolved && this.rootTraces.length > 0) {
      // Later roots of one trace win, as the spans arrived.
      const roots = new Map<string, string>();
      for (let i = 0; i < this.rootTraces.length; i++) roots.set(this.rootTraces[i]!, this.rootSequences[i]!);
      for (const beat of this.beats) {
        if (beat.sequence === '') beat.sequence = roots.get(beat.traceId) ?? '';
      }
    }
    let rejectMessage = this.reasons.join('; ');
    if (this.rejected > this.reasons.length) rejectMessage += ` (and ${this.rejected - this.reasons.length} more)`;
    return { beats: this.beats, spans: this.spans, rejected: this.rejected, rejectMessage };
  }
}

/** The interner shared by both decoders for strings built or parsed outside the byte cache. */
export const sharedInterner = new StringInterner();
