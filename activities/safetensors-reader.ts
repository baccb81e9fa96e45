/**
 * `ModelReader` over local safetensors models (single file, directory or sharded index).
 * Hashes stream in 4 MB chunks; values are decoded one tensor at a time (memory bounded by
 * the largest tensor, not the model).
 */
import { fileSha256, openModel, readTensorValues, sha256OfTensor } from '../model/safetensors.ts';
import { ModelError } from '../model/errors.ts';
import type { ModelReader } from './model-reader.ts';

export async function openModelReader(path: string): Promise<ModelReader> {
  const src = await openModel(path);
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
