/**
 * Models straight from S3 (`s3://bucket/key`): a `ModelStorage` over a blob store, so
 * `openModel` reads headers and tensors with ranged GETs — a directory-like prefix with
 * `model.safetensors` or `model.safetensors.index.json`, an index, or one `.safetensors`
 * object, exactly as on disk. Nothing is downloaded whole except while hashing a file.
 */
import { ModelError } from '../model/errors.ts';
import type { ModelStorage, RangeReader } from '../model/safetensors.ts';
import { isBlobNotFound, type BlobStore } from '../infra/stores/blob-store.ts';

/** `s3://bucket/key/with/slashes` → bucket and key (no leading or trailing slash). */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m || m[1] === '') throw new ModelError('NOT_FOUND', `${uri}: not an s3://bucket/key URI`, { file: uri });
  return { bucket: m[1]!, key: m[2]!.replace(/\/+$/, '') };
}

export function s3ModelStorage(store: BlobStore, label: (key: string) => string): ModelStorage {
  return {
    async kind(key) {
      if (key !== '' && (await store.head(key)) !== null) return 'file';
      for await (const _ of store.list(key === '' ? '' : `${key}/`)) return 'dir';
      return 'none';
    },
    async open(key): Promise<RangeReader> {
      const info = await store.head(key);
      if (info === null) throw new ModelError('NOT_FOUND', `${label(key)}: no such object`, { file: label(key) });
      const name = label(key);
      return {
        name,
        size: () => Promise.resolve(info.size),
        async read(offset, length) {
          if (offset + length > info.size) {
            throw new ModelError('TRUNCATED', `${name}: object ends at byte ${info.size}, but bytes ${offset}..${offset + length} are needed (truncated file?)`, { file: name, field: 'data' });
          }
          try {
            return Uint8Array.from(await store.getRange(key, offset, offset + length));
          } catch (e) {
            if (isBlobNotFound(e)) throw new ModelError('NOT_FOUND', `${name}: object disappeared while reading`, { file: name });
            throw e;
          }
        },
        close: () => Promise.resolve(),
      };
    },
  };
}
