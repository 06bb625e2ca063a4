import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import type { Admission } from './admission.js';
import type { BodyPool } from './body-pool.js';

/** Why a body could not be read. */
export type BodyFailure =
  /** Larger than maxBytes (compressed or decompressed). */
  | 'too_large'
  /** maxConcurrentBodyBytes is used up by other requests: retry later. */
  | 'budget'
  | 'bad_gzip';

export interface BodyReaderParts {
  /** Largest body, compressed and decompressed. */
  maxBytes: number;
  /** Holds the bytes against receive.maxConcurrentBodyBytes while the body is read and used. */
  admission: Admission;
  pool: BodyPool;
}

/** A request body read into memory; release() once it is no longer used. */
export interface RequestBody {
  bytes: Buffer;
  /** The bytes are a view on a pooled buffer that is reused after release(). */
  pooled: boolean;
  /** Returns a pooled buffer and the reserved bytes; the bytes must not be used afterwards. */
  release(): void;
}

export interface BodyCallbacks {
  onBody(body: RequestBody): void;
  onFailure(failure: BodyFailure, message: string): void;
}

/**
 * Reads a request body as it arrives, holding every byte against the admission's body budget
 * before keeping it: nothing is allocated from what Content-Length promises, except a pooled
 * buffer for a small body, reserved in full first. Failures release what was held and leave the
 * rest of the request to be discarded by the caller.
 */
export function readRequestBody(req: IncomingMessage, gzip: boolean, declared: number, parts: BodyReaderParts, cb: BodyCallbacks): void {
  if (gzip) readGzip(req, parts, cb);
  else readPlain(req, declared, parts, cb);
}

class Holder {
  reserved = 0;
  constructor(private readonly admission: Admission) {}

  take(bytes: number): boolean {
    if (!this.admission.reserveBody(bytes)) return false;
    this.reserved += bytes;
    return true;
  }

  releaseAll(): void {
    this.admission.releaseBody(this.reserved);
    this.reserved = 0;
  }
}

const budgetMessage = (admission: Admission): string =>
  `receiver overloaded: request bodies in progress hold ${admission.maxConcurrentBodyBytes} bytes (receive.maxConcurrentBodyBytes), retry later`;

function readPlain(req: IncomingMessage, declared: number, parts: BodyReaderParts, cb: BodyCallbacks): void {
  const { maxBytes, admission, pool } = parts;
  const held = new Holder(admission);
  // A small body with a known length is copied once into a pooled buffer of the right size,
  // reserved in full when its first bytes arrive; anything else is kept chunk by chunk as it comes.
  const pooled = declared >= 0 && declared <= pool.maxBufferBytes;
  let body: Buffer | undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  const fail = (failure: BodyFailure, message: string): void => {
    failed = true;
    held.releaseAll();
    if (body !== undefined) pool.give(body);
    body = undefined;
    chunks.length = 0;
    cb.onFailure(failure, message);
  };
  req.on('data', (chunk: Buffer) => {
    if (failed) return;
    if (size + chunk.length > maxBytes) {
      fail('too_large', `request larger than ${maxBytes} bytes`);
      return;
    }
    if (pooled && size === 0 && body === undefined) {
      if (!held.take(declared)) {
        fail('budget', budgetMessage(admission));
        return;
      }
      body = pool.take(declared);
    }
    if (body !== undefined && size + chunk.length <= body.length) {
      chunk.copy(body, size);
    } else {
      if (!held.take(chunk.length)) {
        fail('budget', budgetMessage(admission));
        return;
      }
      if (body !== undefined) {
        // More bytes than Content-Length said: node rejects that, but stay correct if it did not.
        chunks.push(Buffer.from(body.subarray(0, size)));
        pool.give(body);
        body = undefined;
      }
      chunks.push(chunk);
    }
    size += chunk.length;
  });
  req.on('close', () => {
    // The client went away before sending everything: nothing will use what was kept.
    if (failed || req.complete) return;
    failed = true;
    held.releaseAll();
    if (body !== undefined) pool.give(body);
    body = undefined;
    chunks.length = 0;
  });
  req.on('end', () => {
    if (failed) return;
    if (body !== undefined) {
      const whole = body;
      cb.onBody({
        bytes: whole.subarray(0, size),
        pooled: true,
        release: () => {
          pool.give(whole);
          held.releaseAll();
        },
      });
    } else {
      cb.onBody({ bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), pooled: false, release: () => held.releaseAll() });
    }
  });
}

function readGzip(req: IncomingMessage, parts: BodyReaderParts, cb: BodyCallbacks): void {
  const { maxBytes, admission } = parts;
  const held = new Holder(admission);
  const gunzip = createGunzip();
  const chunks: Buffer[] = [];
  let compressed = 0;
  let size = 0;
  let failed = false;
  const fail = (failure: BodyFailure, message: string): void => {
    if (failed) return;
    failed = true;
    gunzip.destroy();
    req.unpipe(gunzip);
    held.releaseAll();
    chunks.length = 0;
    cb.onFailure(failure, message);
  };
  req.on('data', (chunk: Buffer) => {
    compressed += chunk.length;
    if (compressed > maxBytes) fail('too_large', `compressed request larger than ${maxBytes} bytes`);
  });
  // Counting decompressed bytes as they come out stops a gzip bomb after maxBytes, not after inflating it.
  gunzip.on('data', (chunk: Buffer) => {
    if (failed) return;
    size += chunk.length;
    if (size > maxBytes) fail('too_large', `request decompresses to more than ${maxBytes} bytes`);
    else if (!held.take(chunk.length)) fail('budget', budgetMessage(admission));
    else chunks.push(chunk);
  });
  gunzip.on('error', (err) => fail('bad_gzip', `invalid gzip body: ${err.message}`));
  gunzip.on('end', () => {
    if (!failed) cb.onBody({ bytes: Buffer.concat(chunks, size), pooled: false, release: () => held.releaseAll() });
  });
  req.on('close', () => {
    if (failed || req.complete) return;
    failed = true;
    gunzip.destroy();
    held.releaseAll();
    chunks.length = 0;
  });
  req.pipe(gunzip);
}
