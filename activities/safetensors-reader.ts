/**
 * `ModelReader` over safetensors models (single file, directory or sharded index) on local
 * disk or in S3 (`s3://bucket/key`, ranged GETs; S3 settings from FTI_S3_*). Hashes stream in
 * 4 MB chunks; values are decoded one tensor at a time (memory bounded by the largest tensor,
 * not the model).
 */
import { fileSha256, openModel, readTensorValues, sha256OfTensor, type ModelSource } from '../model/safetensors.ts';
import { s3BlobStoreFromEnv } from '../infra/stores/blob-store-s3.ts';
import { parseS3Uri, s3ModelStorage } from './s3-model.ts';
import { ModelError } from '../model/errors.ts';
import type { ModelReader } from './model-reader.ts';

async function openSource(path: string): Promise<ModelSource> {
  if (!path.startsWith('s3://')) return openModel(path);
  const { bucket, key } = parseS3Uri(path);
  const store = s3BlobStoreFromEnv(process.env, { bucket, prefix: '' });
  try {
    const src = await openModel(key, { storage: s3ModelStorage(store, (k) => `s3://${bucket}/${k}`) });
    return { ...src, path, close: async () => { await src.close(); await store.close(); } };
  } catch (e) {
    await store.close();
    throw e;
  }
}

export async function openModelReader(path: string): Promise<ModelReader> {
  const src = await openSource(path);
  const fileOf = (name: string) => {
    const t = src.tensors.get(name);
    if (!t) throw new ModelError('UNKNOWN_TENSOR', `${path}: tensor ${JSON.stringify(name)}: not in this model`, { file: path, tensor: name });
    return t.file;
  };
  return {
    label: path,
    tensors: [...src.tensors.values()].map(({ info }) => ({ name: info.name, shape: info.shape, dtype: info.dtype })),
    files: async () => {
      const out: { name: string; sha256: string }[] = [];
      for (const f of src.files) out.push({ name: f.name, sha256: f.sha256 ?? (await fileSha256(f.file.reader)) });
      return out;
    },
    tensorSha256: (name) => sha256OfTensor(fileOf(name), name),
    readValues: (name) => readTensorValues(fileOf(name), name),
    close: () => src.close(),
  };
}
