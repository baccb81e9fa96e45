/**
 * BlobStore over a local folder: a key is a relative path under the root. Writes are atomic —
 * the bytes go to a temporary file in `<root>/.tmp/`, are fsynced, then renamed over the
 * target — so a reader (or a crash) never sees half an object, and the last writer wins as
 * on S3. Keys whose first segment is `.tmp` are refused (that folder is ours).
 */
import { randomBytes, createHash } from 'node:crypto';
import { createWriteStream, type Dirent } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobNotFoundError, BlobRangeError, BlobStoreError, checkKey, checkRange, sha256Hex, type BlobInfo, type BlobStore, type PutResult } from './blob-store.ts';

const TMP = '.tmp';

function isNotFound(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export class FsBlobStore implements BlobStore {
  readonly root: string;
  readonly label: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.label = pathToFileURL(this.root).href;
  }

  private path(key: string): string {
    checkKey(key);
    if (key === TMP || key.startsWith(`${TMP}/`)) throw new BlobStoreError('BAD_KEY', key, `blob key ${JSON.stringify(key)}: the ${TMP}/ folder is reserved`);
    return join(this.root, ...key.split('/'));
  }

  uri(key: string): string {
    return pathToFileURL(this.path(key)).href;
  }

  private async tempFile(): Promise<string> {
    const dir = join(this.root, TMP);
    await mkdir(dir, { recursive: true });
    return join(dir, `${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  private async commit(tmp: string, target: string): Promise<void> {
    await mkdir(dirname(target), { recursive: true });
    await rename(tmp, target);
  }

  async put(key: string, bytes: Uint8Array): Promise<PutResult> {
    const target = this.path(key);
    await this.atomically(target, async (tmp) => {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(bytes);
      } finally {
        await fh.close();
      }
    });
    return { key, size: bytes.byteLength, sha256: sha256Hex(bytes) };
  }

  async putStream(key: string, body: Readable | AsyncIterable<Uint8Array>): Promise<PutResult> {
    const target = this.path(key);
    const hash = createHash('sha256');
    let size = 0;
    async function* tap(source: AsyncIterable<unknown>): AsyncGenerator<Uint8Array> {
      for await (const chunk of source) {
        const c = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        hash.update(c);
        size += c.byteLength;
        yield c;
      }
    }
    await this.atomically(target, (tmp) => pipeline(body, tap, createWriteStream(tmp)));
    return { key, size, sha256: hash.digest('hex') };
  }

  /** Write a temp file with `fill`, fsync it, then move it into place; no partial object ever appears. */
  private async atomically(target: string, fill: (tmp: string) => Promise<void>): Promise<void> {
    const tmp = await this.tempFile();
    try {
      await fill(tmp);
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.commit(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const b = await readFile(this.path(key));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      if (isNotFound(e) || (e as NodeJS.ErrnoException).code === 'EISDIR') throw new BlobNotFoundError(this.label, key, { cause: e });
      throw e;
    }
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    const empty = checkRange(key, start, end);
    let fh;
    try {
      fh = await open(this.path(key), 'r');
    } catch (e) {
      if (isNotFound(e)) throw new BlobNotFoundError(this.label, key, { cause: e });
      throw e;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new BlobNotFoundError(this.label, key);
      const size = st.size;
      if (end > size) throw new BlobRangeError(this.label, key, start, end, size);
      const out = new Uint8Array(end - start);
      if (empty) return out;
      let off = 0;
      while (off < out.byteLength) {
        const { bytesRead } = await fh.read(out, off, out.byteLength - off, start + off);
        if (bytesRead === 0) throw new BlobRangeError(this.label, key, start, end, size);
        off += bytesRead;
      }
      return out;
    } finally {
      await fh.close();
    }
  }

  async head(key: string): Promise<BlobInfo | null> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? { key, size: s.size, lastModified: s.mtime } : null;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== null;
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    // Walk only the deepest folder the prefix fully names; the last partial segment filters.
    const cut = prefix.lastIndexOf('/');
    const base = cut >= 0 ? prefix.slice(0, cut) : '';
    if (base !== '') checkKey(base);
    const start = base === '' ? this.root : join(this.root, ...base.split('/'));
    const walk = async function* (dir: string, rel: string, root: boolean): AsyncGenerator<BlobInfo> {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      // Key order: compare names as the full keys would compare ('/' sorts below letters and digits).
      const named = entries.filter((d) => !(root && d.name === TMP)).map((d) => ({ d, k: rel === '' ? d.name : `${rel}/${d.name}` }));
      named.sort((a, b) => {
        const ka = a.d.isDirectory() ? `${a.k}/` : a.k;
        const kb = b.d.isDirectory() ? `${b.k}/` : b.k;
        return Buffer.compare(Buffer.from(ka), Buffer.from(kb)); // S3 lists in UTF-8 byte order
      });
      for (const { d, k } of named) {
        if (d.isDirectory()) {
          if (prefix.startsWith(`${k}/`) || `${k}/`.startsWith(prefix)) yield* walk(join(dir, d.name), k, false);
        } else if (d.isFile() && k.startsWith(prefix)) {
          const s = await stat(join(dir, d.name));
          yield { key: k, size: s.size, lastModified: s.mtime };
        }
      }
    };
    yield* walk(start, base, base === '');
  }

  async delete(key: string): Promise<void> {
    const p = this.path(key);
    try {
      const s = await stat(p);
      if (!s.isFile()) return;
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    await rm(p, { force: true });
    // Prune folders the delete emptied, up to the root (S3 has no folders to leave behind).
    let dir = dirname(p);
    while (dir.startsWith(this.root + sep) && dir !== this.root) {
      try {
        await rmdir(dir); // fails on a non-empty folder, which ends the walk
      } catch {
        break;
      }
      dir = dirname(dir);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
