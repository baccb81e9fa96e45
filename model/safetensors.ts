/**
 * safetensors reader and writer (format: an 8-byte little-endian header length N, an N-byte
 * UTF-8 JSON header `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }`,
 * then the tensor data, row-major little-endian).
 *
 * Validation follows the reference implementation (huggingface/safetensors `Metadata::validate`):
 * header ≤ 100 MB and starting with `{`; known keys only; offsets sorted by begin must be
 * contiguous from 0 with no holes or overlaps; `dtype size × Π shape = end − begin` with
 * checked arithmetic (BigInt); the last end equals the data length; no duplicate names
 * (JSON.parse keeps the last duplicate silently, so names are counted with a scan of the
 * parsed object against the raw text's keys — see `findDuplicateKey`). Every error names the
 * file, the tensor and the field.
 *
 * Reads go through a `RangeReader` (local files now, S3 ranged GETs later); tensors are read
 * one at a time, so memory is bounded by the largest tensor, not the model.
 */
import { open, readFile, stat, writeFile, rename, rm, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { ModelError } from './errors.ts';

export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of every safetensors dtype. */
export const DTYPE_SIZES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};
/** Dtypes decoded to float64 (exactly). */
export const FLOAT_DTYPES = ['F64', 'F32', 'F16', 'BF16'] as const;

export interface RangeReader {
  readonly name: string;
  size(): Promise<number>;
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function openLocalFile(path: string): Promise<RangeReader> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `${path}: cannot open (${code ?? String(e)})`, { file: path });
  }
  const handle = fh;
  return {
    name: path,
    size: async () => (await handle.stat()).size,
    read: async (offset, length) => {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await handle.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) throw new ModelError('TRUNCATED', `${path}: file ends at byte ${offset + got}, a read needs ${offset + length}`, { file: path });
        got += bytesRead;
      }
      return buf;
    },
    close: () => handle.close(),
  };
}

export interface TensorInfo {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Absolute byte offset in the file. */
  readonly byteOffset: number;
  readonly byteLength: number;
}

export interface SafetensorsFile {
  readonly reader: RangeReader;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The first key that occurs twice at the top level of a JSON object text, if any. */
function findDuplicateKey(text: string, keys: readonly string[]): string | undefined {
  // Top-level keys are the names JSON.parse returned; count each one's occurrences as a
  // top-level key by scanning the text at depth 1 for `"key":`.
  const counts = new Map<string, number>();
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (k < text.length && /\s/.test(text[k]!)) k++;
        if (text[k] === ':') {
          const key = JSON.parse(text.slice(i, j + 1)) as string;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
      i = j + 1;
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    i++;
  }
  return keys.find((k) => (counts.get(k) ?? 0) > 1);
}

export async function openSafetensors(reader: RangeReader): Promise<SafetensorsFile> {
  const file = reader.name;
  const bad = (code: ConstructorParameters<typeof ModelError>[0], msg: string, tensor?: string, field?: string): never => {
    throw new ModelError(code, `${file}: ${tensor !== undefined ? `tensor ${JSON.stringify(tensor)}: ` : ''}${msg}`, { file, ...(tensor !== undefined ? { tensor } : {}), ...(field !== undefined ? { field } : {}) });
  };
  const size = await reader.size();
  if (size < 8) bad('TRUNCATED', `${size} bytes: too short for the 8-byte header length`);
  const n64 = new DataView((await reader.read(0, 8)).buffer).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) bad('HEADER_TOO_LARGE', `header length ${n64} exceeds the 100 MB limit`, undefined, 'header');
  const n = Number(n64);
  if (8 + n > size) bad('TRUNCATED', `header length ${n} runs past the end of the ${size}-byte file`, undefined, 'header');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await reader.read(8, n));
  } catch (e) {
    if (e instanceof ModelError) throw e;
    return bad('BAD_HEADER', 'header is not valid UTF-8', undefined, 'header');
  }
  if (!text.startsWith('{')) bad('BAD_HEADER', 'header does not start with "{"', undefined, 'header');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return bad('BAD_HEADER', `header is not valid JSON (${(e as Error).message})`, undefined, 'header');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) bad('BAD_HEADER', 'header is not a JSON object', undefined, 'header');
  const obj = parsed as Record<string, unknown>;
  const dup = findDuplicateKey(text, Object.keys(obj));
  if (dup !== undefined) bad('BAD_HEADER', 'appears twice in the header', dup, 'name');
  let metadata: Record<string, string> = {};
  const entries: { name: string; dtype: string; shape: number[]; begin: bigint; end: bigint }[] = [];
  for (const [name, v] of Object.entries(obj)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) bad('BAD_HEADER', '__metadata__ must map strings to strings', undefined, '__metadata__');
      metadata = v as Record<string, string>;
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('BAD_HEADER', 'entry is not an object', name);
    const e = v as Record<string, unknown>;
    for (const k of Object.keys(e)) if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') bad('BAD_HEADER', `unknown key ${JSON.stringify(k)}`, name, k);
    if (typeof e.dtype !== 'string') bad('BAD_HEADER', 'dtype must be a string', name, 'dtype');
    const dtype = e.dtype as string;
    if (DTYPE_SIZES[dtype] === undefined) bad('UNKNOWN_DTYPE', `unknown dtype ${JSON.stringify(dtype)}`, name, 'dtype');
    if (!Array.isArray(e.shape) || !e.shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) bad('BAD_HEADER', 'shape must be a list of non-negative integers', name, 'shape');
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) bad('BAD_HEADER', 'data_offsets must be [begin, end] non-negative integers', name, 'data_offsets');
    const [begin, end] = (off as number[]).map(BigInt) as [bigint, bigint];
    if (end < begin) bad('BAD_OFFSETS', `data_offsets end ${end} is before begin ${begin}`, name, 'data_offsets');
    const shape = e.shape as number[];
    const bytes = shape.reduce((a, d) => a * BigInt(d), BigInt(DTYPE_SIZES[dtype]!));
    if (bytes !== end - begin) bad('BAD_OFFSETS', `dtype ${dtype} × shape [${shape.join(', ')}] is ${bytes} bytes, data_offsets span ${end - begin}`, name, 'data_offsets');
    entries.push({ name, dtype, shape, begin, end });
  }
  entries.sort((a, b) => (a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : a.end < b.end ? -1 : 1));
  let expected = 0n;
  for (const e of entries) {
    if (e.begin !== expected) bad('BAD_OFFSETS', e.begin > expected ? `a hole before begin ${e.begin} (previous data ends at ${expected})` : `data_offsets begin ${e.begin} overlaps data ending at ${expected}`, e.name, 'data_offsets');
    expected = e.end;
  }
  const dataLength = BigInt(size - 8 - n);
  if (expected !== dataLength) bad(expected < dataLength ? 'BAD_OFFSETS' : 'TRUNCATED', `tensor data ends at ${expected}, the file has ${dataLength} data bytes`, undefined, 'data_offsets');
  const tensors = new Map<string, TensorInfo>();
  for (const e of entries) tensors.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, byteOffset: 8 + n + Number(e.begin), byteLength: Number(e.end - e.begin) });
  return { reader, tensors, metadata };
}

export async function readTensorBytes(f: SafetensorsFile, name: string): Promise<Uint8Array> {
  const t = f.tensors.get(name);
  if (!t) throw new ModelError('NOT_FOUND', `${f.reader.name}: no tensor ${JSON.stringify(name)}`, { file: f.reader.name, tensor: name });
  return f.reader.read(t.byteOffset, t.byteLength);
}

/** IEEE half → double, exactly (subnormals, ±Inf, NaN). */
function f16ToF64(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** Decode raw little-endian bytes of a float dtype to float64 (exact). */
export function decodeFloats(bytes: Uint8Array, dtype: string, where: { file: string; tensor: string }): Float64Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = DTYPE_SIZES[dtype];
  if (!(FLOAT_DTYPES as readonly string[]).includes(dtype) || size === undefined) {
    throw new ModelError('UNSUPPORTED_DTYPE', `${where.file}: tensor ${JSON.stringify(where.tensor)}: dtype ${dtype} is not a float dtype (F64, F32, F16, BF16); only frozen or free apply to it`, { ...where, field: 'dtype' });
  }
  const n = bytes.byteLength / size;
  const out = new Float64Array(n);
  if (dtype === 'F64') for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
  else if (dtype === 'F32') for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
  else if (dtype === 'F16') for (let i = 0; i < n; i++) out[i] = f16ToF64(dv.getUint16(2 * i, true));
  else {
    // BF16 is the top half of an F32: shift into place and reinterpret.
    const tmp = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < n; i++) {
      tmp.setUint32(0, dv.getUint16(2 * i, true) << 16);
      out[i] = tmp.getFloat32(0);
    }
  }
  return out;
}

/** Encode float64 values into a float dtype, round-to-nearest-even (F32 via Math.fround). */
export function encodeFloats(values: Float64Array, dtype: 'F32' | 'BF16' | 'F64'): Uint8Array {
  if (dtype === 'F64') return new Uint8Array(Float64Array.from(values).buffer);
  const f32 = Float32Array.from(values);
  if (dtype === 'F32') return new Uint8Array(f32.buffer);
  const u32 = new Uint32Array(f32.buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < u32.length; i++) {
    const x = u32[i]!;
    // round to nearest even on the dropped 16 bits (NaN stays NaN: quiet bit kept)
    out[i] = (((x + 0x7fff + ((x >> 16) & 1)) >>> 16) & 0xffff) | (Number.isNaN(f32[i]) ? 0x40 : 0);
  }
  return new Uint8Array(out.buffer);
}

export interface TensorToWrite {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** Write a safetensors file (atomically: temp file + rename). Tensors in the given order. */
export async function writeSafetensors(path: string, tensors: ReadonlyMap<string, TensorToWrite>, metadata?: Readonly<Record<string, string>>): Promise<void> {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // align data to 8 bytes, as the reference writer does
  const hb = new TextEncoder().encode(json);
  const lenBuf = new Uint8Array(8);
  new DataView(lenBuf.buffer).setBigUint64(0, BigInt(hb.length), true);
  const out = new Uint8Array(8 + hb.length + off);
  out.set(lenBuf, 0);
  out.set(hb, 8);
  let pos = 8 + hb.length;
  for (const t of tensors.values()) {
    out.set(t.data, pos);
    pos += t.data.byteLength;
  }
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, out);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** A model: one safetensors file, a directory, or a sharded `*.index.json`. */
export interface ModelSource {
  readonly path: string;
  readonly files: readonly { readonly name: string; readonly path: string; readonly file: SafetensorsFile }[];
  /** tensor name → the file holding it */
  readonly tensors: ReadonlyMap<string, { readonly info: TensorInfo; readonly file: SafetensorsFile }>;
  close(): Promise<void>;
}

export async function openModel(path: string): Promise<ModelSource> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new ModelError('NOT_FOUND', `${path}: no such file or directory`, { file: path });
  }
  let indexPath: string | undefined;
  let single: string | undefined;
  if (st.isDirectory()) {
    const idx = join(path, 'model.safetensors.index.json');
    const one = join(path, 'model.safetensors');
    if (await exists(idx)) indexPath = idx;
    else if (await exists(one)) single = one;
    else throw new ModelError('NOT_FOUND', `${path}: directory has neither model.safetensors nor model.safetensors.index.json`, { file: path });
  } else if (path.endsWith('.json')) indexPath = path;
  else single = path;

  const opened: { name: string; path: string; file: SafetensorsFile }[] = [];
  const closeAll = async (): Promise<void> => {
    for (const f of opened) await f.file.reader.close();
  };
  try {
    const tensors = new Map<string, { info: TensorInfo; file: SafetensorsFile }>();
    if (single !== undefined) {
      const file = await openSafetensorsFile(single);
      opened.push({ name: basename(single), path: single, file });
      for (const info of file.tensors.values()) tensors.set(info.name, { info, file });
    } else {
      const ip = indexPath!;
      let index: unknown;
      try {
        index = JSON.parse(await readFile(ip, 'utf8'));
      } catch (e) {
        throw new ModelError('BAD_INDEX', `${ip}: not a readable JSON index (${(e as Error).message})`, { file: ip });
      }
      const wm = (index as { weight_map?: unknown } | null)?.weight_map;
      if (typeof wm !== 'object' || wm === null || Array.isArray(wm) || !Object.values(wm).every((v) => typeof v === 'string')) {
        throw new ModelError('BAD_INDEX', `${ip}: weight_map must map tensor names to shard file names`, { file: ip, field: 'weight_map' });
      }
      const map = wm as Record<string, string>;
      for (const shard of [...new Set(Object.values(map))].sort()) {
        if (shard.includes('/') || shard.includes('\\') || shard === '..') throw new ModelError('BAD_INDEX', `${ip}: shard name ${JSON.stringify(shard)} must be a file name in the index's directory`, { file: ip, field: 'weight_map' });
        const sp = join(dirname(ip), shard);
        const file = await openSafetensorsFile(sp);
        opened.push({ name: shard, path: sp, file });
        for (const info of file.tensors.values()) {
          if (map[info.name] !== shard) throw new ModelError('BAD_INDEX', `${ip}: tensor ${JSON.stringify(info.name)} is in shard ${shard} but the weight_map says ${JSON.stringify(map[info.name] ?? null)}`, { file: ip, tensor: info.name });
          tensors.set(info.name, { info, file });
        }
      }
      for (const [name, shard] of Object.entries(map)) {
        if (!tensors.has(name)) throw new ModelError('BAD_INDEX', `${ip}: tensor ${JSON.stringify(name)} is not in shard ${shard}`, { file: ip, tensor: name });
      }
    }
    return { path, files: opened, tensors, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** Open a local file as safetensors; the file is closed again if its header is bad. */
export async function openSafetensorsFile(path: string): Promise<SafetensorsFile> {
  const reader = await openLocalFile(path);
  try {
    return await openSafetensors(reader);
  } catch (e) {
    await reader.close();
    throw e;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** SHA-256 of a whole file, streamed in 4 MB reads (hex). */
export async function fileSha256(reader: RangeReader): Promise<string> {
  const h = sha256.create();
  const size = await reader.size();
  for (let off = 0; off < size; off += 1 << 22) h.update(await reader.read(off, Math.min(1 << 22, size - off)));
  return bytesToHex(h.digest());
}
