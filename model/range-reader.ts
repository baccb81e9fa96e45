/**
 * Byte-range access to a model file, whatever stores it (DESIGN.md "Data flow": the plan step
 * reads each file's header with two ranged reads; the shard step streams one tensor at a
 * time). A local file is read through a `FileHandle` at explicit positions; an S3 object will
 * plug in later with ranged GETs behind the same interface, so the safetensors reader never
 * learns where the bytes live.
 *
 * Contract: `read(offset, length)` returns exactly `length` bytes or throws — a short read
 * (the file ends, or shrank since it was opened) is `TRUNCATED` naming the file, never a
 * silently shorter array. Every returned array is freshly allocated with byteOffset 0, so a
 * caller may view it as a typed array of any element size without copying.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { ModelError } from './errors.ts';

export interface RangeReader {
  /** Where the bytes come from (a path or URI), for messages. */
  readonly name: string;
  size(): Promise<number>;
  /** Exactly `length` bytes starting at `offset`, or a `TRUNCATED` error. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** `read` arguments come from parsed headers; reject anything that is not a safe range. */
function checkRange(name: string, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(offset + length)) {
    throw new ModelError('BAD_VALUE', `${name}: read range (offset ${offset}, length ${length}) is not a pair of non-negative safe integers`, { file: name, field: 'range' });
  }
}

function truncated(name: string, offset: number, length: number, available: number): ModelError {
  return new ModelError('TRUNCATED', `${name}: file ends at byte ${available}, but bytes ${offset}..${offset + length} are needed (truncated file?)`, {
    file: name,
    field: 'data',
  });
}

function ioError(path: string, e: unknown, doing: string): ModelError {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return new ModelError('NOT_FOUND', `${path}: no such file`, { file: path });
  return new ModelError('IO_ERROR', `${path}: cannot ${doing} (${code ?? (e instanceof Error ? e.message : String(e))})`, { file: path });
}

/** Open a local regular file for ranged reads. NOT_FOUND / IO_ERROR name the path. */
export async function openLocalFile(path: string): Promise<RangeReader> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw ioError(path, e, 'open');
  }
  try {
    // A directory opens fine on Linux and only fails at the first read: say so up front.
    if (!(await handle.stat()).isFile()) throw new ModelError('IO_ERROR', `${path}: not a regular file`, { file: path });
  } catch (e) {
    await handle.close();
    throw e instanceof ModelError ? e : ioError(path, e, 'stat');
  }
  let closed = false;
  return {
    name: path,
    async size() {
      try {
        return (await handle.stat()).size;
      } catch (e) {
        throw ioError(path, e, 'stat');
      }
    },
    async read(offset, length) {
      checkRange(path, offset, length);
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        let bytesRead: number;
        try {
          // fs caps one read at 2 GiB − 1; larger ranges loop.
          ({ bytesRead } = await handle.read(buf, got, Math.min(length - got, 0x7fff_f000), offset + got));
        } catch (e) {
          throw ioError(path, e, 'read');
        }
        if (bytesRead === 0) throw truncated(path, offset, length, offset + got);
        got += bytesRead;
      }
      return buf;
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}

/** A reader over bytes already in memory (tests, fuzzing, small uploads). */
export function bytesReader(name: string, bytes: Uint8Array): RangeReader {
  return {
    name,
    size: () => Promise.resolve(bytes.byteLength),
    read(offset, length) {
      checkRange(name, offset, length);
      if (offset + length > bytes.byteLength) return Promise.reject(truncated(name, offset, length, bytes.byteLength));
      return Promise.resolve(bytes.slice(offset, offset + length));
    },
    close: () => Promise.resolve(),
  };
}
