/** `ModelReader` over local safetensors models (single file, directory or sharded index). */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { decodeFloats, fileSha256, openModel, readTensorBytes } from '../model/safetensors.ts';
import { ModelError } from '../model/errors.ts';
import type { ModelReader } from './model-reader.ts';

export async function openModelReader(path: string): Promise<ModelReader> {
  const src = await openModel(path);
  const get = (name: string) => {
    const t = src.tensors.get(name);
    if (!t) throw new ModelError('NOT_FOUND', `${path}: no tensor ${JSON.stringify(name)}`, { file: path, tensor: name });
    return t;
  };
  return {
    label: path,
    tensors: [...src.tensors.values()].map(({ info }) => ({ name: info.name, shape: info.shape, dtype: info.dtype })),
    files: async () => {
      const out: { name: string; sha256: string }[] = [];
      for (const f of src.files) out.push({ name: f.name, sha256: await fileSha256(f.file.reader) });
      return out;
    },
    tensorSha256: async (name) => bytesToHex(sha256(await readTensorBytes(get(name).file, name))),
    readValues: async (name) => {
      const t = get(name);
      return decodeFloats(await readTensorBytes(t.file, name), t.info.dtype, { file: t.file.reader.name, tensor: name });
    },
    close: () => src.close(),
  };
}
