/**
 * The blob store: where the pipeline keeps blocks, proofs, manifests and certificates, by key
 * (`blocks/sha256/<hex>`, `certificates/<digest>.bin`, …). Two implementations with the same
 * semantics, tested against each other's contract (test/infra-blob-store.test.ts):
 *   - S3BlobStore (blob-store-s3.ts): any S3-compatible server, path-style, multipart uploads
 *     for large objects, ranged GETs;
 *   - FsBlobStore (blob-store-fs.ts): a folder, atomic writes (temp file + rename), for the
 *     embedded engine and single-machine runs.
 *
 * Keys are '/'-separated relative paths of non-empty segments other than `.` and `..`, at most
 * 1024 bytes (the S3 limit), so every key means the same object in both stores. Content
 * addressing is computed here (SHA-256 of the bytes we wrote), never trusted from the server:
 * S3 ETags are MD5s or multipart composites.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

export interface BlobInfo {
  readonly key: string;
  readonly size: number;
  readonly lastModified?: Date;
}

export interface PutResult {
  readonly key: string;
  readonly size: number;
  /** SHA-256 (hex) of the bytes written, computed by the store client. */
  readonly sha256: string;
}

export interface PutOptions {
  readonly contentType?: string;
}

export interface BlobStore {
  /** Where the store is, for messages (`s3://bucket/prefix`, `file:///dir`). */
  readonly label: string;
  /** Write an object (replacing any object under the key); large ones go multipart on S3. */
  put(key: string, bytes: Uint8Array, opts?: PutOptions): Promise<PutResult>;
  /** Write an object from a stream of unknown length (multipart on S3); bounded memory. */
  putStream(key: string, body: Readable | AsyncIterable<Uint8Array>, opts?: PutOptions): Promise<PutResult>;
  /** The whole object; BlobNotFoundError when absent. */
  get(key: string): Promise<Uint8Array>;
  /**
   * Bytes [start, end) of an object; BlobNotFoundError when absent, BlobRangeError when the
   * object is shorter than `end`.
   */
  getRange(key: string, start: number, end: number): Promise<Uint8Array>;
  /** Size and modification time, or null when absent. */
  head(key: string): Promise<BlobInfo | null>;
  exists(key: string): Promise<boolean>;
  /** Every object whose key starts with `prefix` (any string, not only whole segments), in key order. */
  list(prefix: string): AsyncIterable<BlobInfo>;
  /** Remove an object; removing an absent object is not an error. */
  delete(key: string): Promise<void>;
  /** The URI of a key (`s3://bucket/key`, `file:///…`). */
  uri(key: string): string;
  close(): Promise<void>;
}

export type BlobErrorCode = 'BLOB_NOT_FOUND' | 'BLOB_RANGE' | 'BAD_KEY' | 'NO_SUCH_BUCKET';

/** A blob store failure a caller can act on (anything else is a transport error: retry). */
export class BlobStoreError extends Error {
  readonly code: BlobErrorCode;
  readonly key: string;
  constructor(code: BlobErrorCode, key: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BlobStoreError';
    this.code = code;
    this.key = key;
  }
}

export class BlobNotFoundError extends BlobStoreError {
  readonly store: string;
  constructor(store: string, key: string, options?: ErrorOptions) {
    super('BLOB_NOT_FOUND', key, `${store}: no object ${JSON.stringify(key)}`, options);
    this.name = 'BlobNotFoundError';
    this.store = store;
  }
}

export class BlobRangeError extends BlobStoreError {
  constructor(store: string, key: string, start: number, end: number, size: number | null, options?: ErrorOptions) {
    super('BLOB_RANGE', key, `${store}: range [${start}, ${end}) of ${JSON.stringify(key)} is outside the object${size !== null ? ` (${size} bytes)` : ''}`, options);
    this.name = 'BlobRangeError';
  }
}

export function isBlobNotFound(e: unknown): e is BlobNotFoundError {
  return e instanceof BlobStoreError && e.code === 'BLOB_NOT_FOUND';
}

const MAX_KEY_BYTES = 1024;

/** Check a key against the rules above; returns it unchanged. */
export function checkKey(key: string): string {
  const bad = (why: string): never => {
    throw new BlobStoreError('BAD_KEY', key, `blob key ${JSON.stringify(key)}: ${why}`);
  };
  if (typeof key !== 'string' || key === '') bad('expected a non-empty string');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) bad(`longer than ${MAX_KEY_BYTES} bytes`);
  if (key.startsWith('/')) bad('expected a relative key, got a leading /');
  if (key.includes('\\')) bad('backslashes are not allowed');
  if (/[\u0000-\u001f\u007f]/.test(key)) bad('control characters are not allowed');
  for (const seg of key.split('/')) {
    if (seg === '') bad('empty path segment');
    if (seg === '.' || seg === '..') bad(`segment ${JSON.stringify(seg)} is not allowed`);
  }
  return key;
}

/** Check a byte range request; returns whether it is empty. */
export function checkRange(key: string, start: number, end: number): boolean {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new BlobStoreError('BLOB_RANGE', key, `getRange(${JSON.stringify(key)}): expected 0 <= start <= end (integers), got [${start}, ${end})`);
  }
  return start === end;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `blocks/sha256/<hex>`-style content address of bytes under a prefix. */
export function contentKey(prefix: string, bytes: Uint8Array): string {
  return `${prefix.replace(/\/+$/, '')}/sha256/${sha256Hex(bytes)}`;
}
