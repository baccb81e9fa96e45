// The safetensors reader and writer (model/safetensors.ts, model/range-reader.ts):
// - files written by the official Python package (test/fixtures/make_safetensors.py, versions
//   pinned in test/python-requirements.txt) read with the same bytes, SHA-256s and decoded
//   values as numpy gives — every dtype, all 2^16 F16 and BF16 patterns, empty tensors,
//   scalars, metadata, a sharded model — and files we write read back in Python the same;
// - F16/BF16 encoding rounds to nearest, ties to even (checked exactly, and against numpy);
// - every malformed input of issue 3 is a ModelError with its code, and a message naming the
//   file, tensor and field; random and mutated headers never raise anything else (fuzz);
// - streaming a 64 MB tensor in 1 MB chunks keeps live ArrayBuffer memory bounded.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { ModelError } from '../model/errors.ts';
import { bytesReader } from '../model/range-reader.ts';
import {
  DTYPE_BITS,
  MAX_HEADER_BYTES,
  decodeFloats,
  encodeFloats,
  fileSha256,
  isFloatDtype,
  openModel,
  openSafetensors,
  openSafetensorsFile,
  readTensorBytes,
  readTensorValues,
  safetensorsHeader,
  sha256OfTensor,
  streamTensor,
  writeSafetensors,
  type Dtype,
  type FloatDtype,
  type SafetensorsFile,
  type TensorToWrite,
} from '../model/safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'fti-safetensors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const HELPER = join(import.meta.dirname, 'fixtures', 'make_safetensors.py');
const pythonProbe = spawnSync('python3', ['-c', 'import safetensors, numpy'], { encoding: 'utf8' });
const noPython =
  pythonProbe.status === 0 ? false : 'python3 with the safetensors and numpy packages is not installed (pip install -r test/python-requirements.txt)';

function python(args: string[]): string {
  const r = spawnSync('python3', [HELPER, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, `make_safetensors.py ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

interface Expected {
  readonly metadata: Record<string, string> | null;
  readonly tensors: Record<string, { dtype: string; shape: number[]; sha256: string; values: string | null }>;
}

function readF64(path: string): Float64Array {
  const b = readFileSync(path);
  return new Float64Array(new Uint8Array(b).buffer); // copy: fresh, aligned
}

/** Bitwise equality, except that any NaN equals any NaN (payloads are not part of a value). */
function assertSameFloats(actual: Float64Array, expected: Float64Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Number.isNaN(a) && Number.isNaN(e)) && !Object.is(a, e)) assert.fail(`${what}[${i}]: got ${a}, expected ${e}`);
  }
}

const hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Compare one opened file with what the official package read from it. */
async function checkAgainstPython(f: SafetensorsFile, exp: Expected): Promise<void> {
  assert.deepEqual({ ...f.metadata }, exp.metadata ?? {}, `${f.name}: metadata`);
  assert.deepEqual([...f.tensors.keys()].sort(), Object.keys(exp.tensors).sort(), `${f.name}: tensor names`);
  for (const [name, e] of Object.entries(exp.tensors)) {
    const t = f.tensors.get(name)!;
    assert.equal(t.dtype, e.dtype, name);
    assert.deepEqual([...t.shape], e.shape, name);
    assert.equal(t.elements, e.shape.reduce((a, d) => a * d, 1), name);
    assert.equal(hex(await readTensorBytes(f, name)), e.sha256, `${name}: raw bytes`);
    assert.equal(await sha256OfTensor(f, name, 7), e.sha256, `${name}: streamed SHA-256`);
    if (e.values === null) {
      assert.equal(isFloatDtype(t.dtype), false);
      await assert.rejects(readTensorValues(f, name), (err: unknown) => err instanceof ModelError && err.code === 'UNSUPPORTED_DTYPE' && err.tensor === name && err.field === 'dtype');
      continue;
    }
    const want = readF64(e.values);
    assertSameFloats(await readTensorValues(f, name), want, name);
    // Odd chunk sizes: chunks must be contiguous, in order, and decode the same.
    const streamed = new Float64Array(t.elements);
    let next = 0;
    for await (const c of streamTensor(f, name, 5)) {
      assert.equal(c.start, next, `${name}: chunk start`);
      assert.ok(c.values.length <= 5 && c.values.length > 0);
      streamed.set(c.values, c.start);
      next += c.values.length;
    }
    assert.equal(next, t.elements);
    assertSameFloats(streamed, want, `${name} (streamed)`);
  }
}

/** A file from a header object (JSON.stringify'd, or raw text) and `dataBytes` zero bytes. */
function fileBytes(header: unknown, dataBytes: number, opts: { raw?: string; declaredLength?: bigint } = {}): Uint8Array {
  const h = new TextEncoder().encode(opts.raw ?? JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, opts.declaredLength ?? BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

let fileCounter = 0;
async function openBytes(bytes: Uint8Array): Promise<{ path: string; file: SafetensorsFile }> {
  const path = join(dir, `case-${fileCounter++}.safetensors`);
  writeFileSync(path, bytes);
  return { path, file: await openSafetensorsFile(path) };
}

/** The file must be rejected with `code`, a message matching `re`, naming the file (and where). */
async function rejects(bytes: Uint8Array, code: string, re: RegExp, where: { tensor?: string; field?: string } = {}): Promise<void> {
  const path = join(dir, `bad-${fileCounter++}.safetensors`);
  writeFileSync(path, bytes);
  await assert.rejects(openSafetensorsFile(path), (e: unknown) => {
    assert.ok(e instanceof ModelError, `expected a ModelError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    assert.ok(e.message.startsWith(`${path}: `), `message names the file: ${e.message}`);
    assert.equal(e.file, path);
    if (where.tensor !== undefined) assert.equal(e.tensor, where.tensor, e.message);
    if (where.field !== undefined) assert.equal(e.field, where.field, e.message);
    return true;
  });
}

const F32_2 = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };

describe('safetensors: agreement with the official Python package', { skip: noPython }, () => {
  let expected: Record<string, Expected> = {};
  const suiteDir = join(dir, 'suite');

  it('reads every tensor of files it wrote: bytes, SHA-256, decoded values, metadata', async () => {
    expected = JSON.parse(python(['suite', suiteDir])) as Record<string, Expected>;
    for (const name of ['single.safetensors', 'all16.safetensors']) {
      const f = await openSafetensorsFile(join(suiteDir, name));
      try {
        await checkAgainstPython(f, expected[name]!);
      } finally {
        await f.close();
      }
    }
    const single = expected['single.safetensors']!;
    // The suite covers what the issue lists: every float dtype, integer dtypes, empty tensors, scalars.
    const dtypes = new Set(Object.values(single.tensors).map((t) => t.dtype));
    for (const d of ['F64', 'F32', 'F16', 'BF16', 'I8', 'U8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64', 'BOOL', 'F8_E4M3', 'F8_E5M2']) assert.ok(dtypes.has(d), d);
    assert.deepEqual(single.tensors['empty.F32']!.shape, [3, 0]);
    assert.deepEqual(single.tensors['scalar.F16']!.shape, []);
  });

  it('decodes all 2^16 F16 and BF16 bit patterns exactly as numpy does', async () => {
    const f = await openSafetensorsFile(join(suiteDir, 'all16.safetensors'));
    try {
      const all = new Uint8Array(new Uint16Array(65536).map((_, i) => i).buffer);
      assert.equal(hex(await readTensorBytes(f, 'f16')), hex(all));
      const exp = expected['all16.safetensors']!.tensors;
      assertSameFloats(await readTensorValues(f, 'f16'), readF64(exp.f16!.values!), 'f16');
      assertSameFloats(await readTensorValues(f, 'bf16'), readF64(exp.bf16!.values!), 'bf16');
      // Spot values, independent of numpy.
      const f16 = await readTensorValues(f, 'f16');
      assert.equal(f16[0x0001], 2 ** -24); // smallest subnormal
      assert.equal(f16[0x03ff], 1023 * 2 ** -24); // largest subnormal
      assert.equal(f16[0x0400], 2 ** -14); // smallest normal
      assert.equal(f16[0x3c00], 1);
      assert.equal(f16[0x7bff], 65504);
      assert.equal(f16[0x7c00], Infinity);
      assert.ok(Number.isNaN(f16[0x7e00]));
      assert.ok(Object.is(f16[0x8000], -0));
      const bf16 = await readTensorValues(f, 'bf16');
      assert.equal(bf16[0x3f80], 1);
      assert.equal(bf16[0x0001], 2 ** -133); // smallest BF16 subnormal
      assert.equal(bf16[0x7f7f], (2 - 2 ** -7) * 2 ** 127);
    } finally {
      await f.close();
    }
  });

  it('opens the sharded model (directory, index path) and checks it against the shards', async () => {
    const sd = join(suiteDir, 'sharded');
    for (const path of [sd, join(sd, 'model.safetensors.index.json')]) {
      const m = await openModel(path, { hashFiles: true });
      try {
        assert.equal(m.indexPath, join(sd, 'model.safetensors.index.json'));
        assert.deepEqual(
          m.files.map((f) => f.name),
          ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'],
        );
        for (const f of m.files) {
          assert.equal(f.sha256, hex(readFileSync(f.path)), f.name);
          assert.equal(await fileSha256(f.path, 5), f.sha256);
          await checkAgainstPython(f.file, expected[`sharded/${f.name}`]!);
        }
        assert.deepEqual([...m.tensors.keys()].sort(), ['a.bias', 'a.weight', 'b.steps', 'b.weight']);
        assert.equal(m.tensors.get('b.steps')!.file.name, join(sd, 'model-00002-of-00002.safetensors'));
        assert.equal(m.tensors.get('b.steps')!.info.dtype, 'I64');
      } finally {
        await m.close();
      }
    }
    // A single file, directly and as a directory's model.safetensors.
    const one = await openModel(join(suiteDir, 'single.safetensors'));
    assert.equal(one.files.length, 1);
    assert.equal(one.files[0]!.sha256, undefined);
    assert.equal(one.tensors.size, Object.keys(expected['single.safetensors']!.tensors).length);
    await one.close();
  });

  it('files we write read back in Python with the same bytes, values and metadata', async () => {
    const specials = [0, -0, 1, -1, 0.1, -2.5, 1e-8, 6e-8, 2 ** -24, 3 * 2 ** -25, 65504, 65519.99, 65520, 1e38, 3.5e38, 1e300, 2 ** -1074, Infinity, -Infinity, NaN];
    let seed = 7;
    const rand = (): number => ((seed = (seed * 48271) % 2147483647), seed / 2147483647);
    const values = Float64Array.from([...specials, ...Array.from({ length: 44 }, () => (rand() - 0.5) * 10 ** Math.floor(rand() * 12 - 6))]);
    const tensors = new Map<string, TensorToWrite>();
    for (const d of ['F64', 'F32', 'F16', 'BF16'] as const) tensors.set(`w.${d}`, { dtype: d, shape: [8, 8], data: encodeFloats(values, d) });
    tensors.set('ids', { dtype: 'I64', shape: [3], data: new Uint8Array(new BigInt64Array([1n, -2n, 3n]).buffer) });
    tensors.set('empty', { dtype: 'BF16', shape: [4, 0, 2], data: new Uint8Array(0) });
    tensors.set('scalar', { dtype: 'F32', shape: [], data: encodeFloats([0.75], 'F32') });
    // Names a naive writer or reader would mangle: integer-like keys (object key order) and __proto__.
    tensors.set('0', { dtype: 'F16', shape: [1], data: encodeFloats([1], 'F16') });
    tensors.set('__proto__', { dtype: 'U8', shape: [2], data: Uint8Array.of(1, 2) });
    tensors.set('ünï cödé', { dtype: 'BOOL', shape: [1], data: Uint8Array.of(1) });
    // A computed key: a literal `'__proto__': …` would set the prototype instead.
    const metadata = { format: 'pt', producer: 'fti test', ['__proto__']: 'kept', clé: 'välue "quoted"' };
    const path = join(dir, 'ours.safetensors');
    await writeSafetensors(path, tensors, metadata);

    const exp = JSON.parse(python(['read', path, join(dir, 'ours-values')])) as Expected;
    assert.deepEqual(exp.metadata, { ...metadata });
    const f = await openSafetensorsFile(path);
    try {
      assert.deepEqual([...f.tensors.keys()], [...tensors.keys()], 'written in map order');
      await checkAgainstPython(f, exp);
      for (const [name, t] of tensors) assert.equal(exp.tensors[name]!.sha256, hex(t.data), name);
      assert.equal(Object.getOwnPropertyDescriptor(f.metadata, '__proto__')?.value, 'kept');
      assert.equal(Object.getPrototypeOf(f.metadata), Object.prototype);
      // The header is 8-byte aligned, as the reference writer makes it.
      assert.equal(f.headerLength % 8, 0);
    } finally {
      await f.close();
    }
  });

  it('F16 encoding rounds exactly as numpy does (ties to even, subnormals, overflow)', () => {
    const xs: number[] = [0, -0, NaN, Infinity, -Infinity, 65504, 65519.99999, 65520, -65520, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -14 - 2 ** -25, 1e-300, 1e300];
    let seed = 11;
    const rand = (): number => ((seed = (seed * 48271) % 2147483647), seed / 2147483647);
    for (let i = 0; i < 3000; i++) {
      const mag = 2 ** Math.floor(rand() * 50 - 30);
      // Half the draws sit exactly on a tie between two F16 neighbours.
      xs.push(i % 2 === 0 ? (rand() - 0.5) * mag : (Math.floor(rand() * 2048) + 0.5) * 2 ** (Math.floor(rand() * 40) - 34));
    }
    const inPath = join(dir, 'f16-in.f64');
    const outPath = join(dir, 'f16-out.u16');
    writeFileSync(inPath, new Uint8Array(Float64Array.from(xs).buffer));
    python(['f16', inPath, outPath]);
    const numpyBits = new Uint16Array(new Uint8Array(readFileSync(outPath)).buffer);
    const ours = new Uint16Array(encodeFloats(xs, 'F16').buffer);
    for (let i = 0; i < xs.length; i++) {
      if (Number.isNaN(xs[i])) assert.ok((ours[i]! & 0x7c00) === 0x7c00 && (ours[i]! & 0x3ff) !== 0, 'NaN stays NaN');
      else assert.equal(ours[i], numpyBits[i], `F16(${xs[i]}): ours 0x${ours[i]!.toString(16)}, numpy 0x${numpyBits[i]!.toString(16)}`);
    }
  });
});

/** x as an exact integer multiple of 2^-1074 (every finite double is one). */
function scaled(x: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, Math.abs(x));
  const bits = dv.getBigUint64(0);
  const exp = Number(bits >> 52n);
  const frac = bits & ((1n << 52n) - 1n);
  return exp === 0 ? frac : (frac | (1n << 52n)) << BigInt(exp - 1);
}

describe('safetensors: float encoding and decoding', () => {
  for (const dtype of ['F16', 'BF16'] as const) {
    const decodeBits = (b: number): number => decodeFloats(new Uint8Array(Uint16Array.of(b).buffer), dtype, { file: 'f', tensor: 't' })[0]!;
    const expMask = dtype === 'F16' ? 0x7c00 : 0x7f80;

    it(`${dtype}: encoding is round to nearest, ties to even (exact check against neighbours)`, () => {
      fc.assert(
        fc.property(fc.oneof(fc.double(), fc.double({ min: -70000, max: 70000 }), fc.double({ min: -1e-4, max: 1e-4 }), fc.double({ min: -1e-38, max: 1e-38 })), (x) => {
          const b = new Uint16Array(encodeFloats([x], dtype).buffer)[0]!;
          const mag = b & 0x7fff;
          if (Number.isNaN(x)) return (b & expMask) === expMask && (b & ~expMask & 0x7fff) !== 0;
          assert.equal(b >> 15, x < 0 || Object.is(x, -0) ? 1 : 0, 'sign');
          if (mag === expMask) {
            // ∞: only when |x| ≥ max + ½ulp, i.e. the largest finite value is not nearer.
            const max = decodeBits(expMask - 1);
            const next = 2 * max - decodeBits(expMask - 2); // max + 1ulp
            return Math.abs(x) === Infinity || 2n * scaled(x) >= scaled(max) + scaled(next);
          }
          const A = scaled(x);
          const V = scaled(decodeBits(mag));
          const d = A > V ? A - V : V - A;
          for (const n of [mag - 1, mag + 1]) {
            if (n < 0 || n >= expMask) continue;
            const N = scaled(decodeBits(n));
            const dn = A > N ? A - N : N - A;
            if (dn < d) return false;
            if (dn === d && (mag & 1) === 1) return false; // tie: must be the even one
          }
          return true;
        }),
        { numRuns: 3000 },
      );
    });

    it(`${dtype}: every non-NaN pattern decodes and re-encodes to itself`, () => {
      const patterns = new Uint16Array(65536).map((_, i) => i);
      const values = decodeFloats(new Uint8Array(patterns.buffer), dtype, { file: 'f', tensor: 't' });
      const back = new Uint16Array(encodeFloats(values, dtype).buffer);
      for (let i = 0; i < 65536; i++) {
        if (Number.isNaN(values[i])) continue;
        if (back[i] !== i) assert.fail(`${dtype} 0x${i.toString(16)} → ${values[i]} → 0x${back[i]!.toString(16)}`);
      }
    });
  }

  it('BF16 rounds once from float64 (no double rounding through F32)', () => {
    // 1 + 2^-8 + 2^-30: F32 keeps 1 + 2^-8 (a BF16 tie that goes to even 1), but the value
    // is above the tie, so the nearest BF16 is 1 + 2^-7.
    const x = 1 + 2 ** -8 + 2 ** -30;
    assert.equal(decodeFloats(encodeFloats([x], 'BF16'), 'BF16', { file: 'f', tensor: 't' })[0], 1 + 2 ** -7);
    assert.deepEqual(
      [...decodeFloats(encodeFloats([1, -2, 0.5, 3.140625, 1 + 2 ** -7, 1 + 2 ** -8, 1 + 3 * 2 ** -8], 'BF16'), 'BF16', { file: 'f', tensor: 't' })],
      [1, -2, 0.5, 3.140625, 1 + 2 ** -7, 1, 1 + 2 ** -6],
    );
  });

  it('decodes from unaligned views and rejects partial elements', () => {
    const raw = encodeFloats([1.5, -2, 3.25], 'F32');
    const shifted = new Uint8Array(raw.length + 1);
    shifted.set(raw, 1);
    assert.deepEqual([...decodeFloats(shifted.subarray(1), 'F32', { file: 'f', tensor: 't' })], [1.5, -2, 3.25]);
    assert.throws(() => decodeFloats(raw.subarray(0, 5), 'F32', { file: 'f', tensor: 't' }), (e: unknown) => e instanceof ModelError && e.code === 'BAD_VALUE');
    assert.throws(() => decodeFloats(raw, 'I32', { file: 'f', tensor: 't' }), (e: unknown) => e instanceof ModelError && e.code === 'UNSUPPORTED_DTYPE' && /can only mark it frozen or free/.test(e.message));
  });
});

describe('safetensors: valid edge cases', () => {
  it('empty header object, null metadata, blank padding, empty tensors sharing an offset', async () => {
    const a = await openBytes(fileBytes({}, 0));
    assert.equal(a.file.tensors.size, 0);
    assert.deepEqual({ ...a.file.metadata }, {});
    await a.file.close();
    const header = { __metadata__: null, z: { dtype: 'F32', shape: [0, 5], data_offsets: [0, 0] }, w: F32_2, y: { dtype: 'BF16', shape: [7, 0], data_offsets: [8, 8] }, x: { dtype: 'F64', shape: [], data_offsets: [8, 16] } };
    const b = await openBytes(fileBytes(null, 16, { raw: `${JSON.stringify(header)}    ` }));
    assert.deepEqual([...b.file.tensors.keys()], ['z', 'w', 'y', 'x'], 'byte order, then name');
    assert.equal(b.file.tensors.get('x')!.elements, 1);
    assert.equal(b.file.tensors.get('y')!.elements, 0);
    assert.equal(b.file.tensors.get('x')!.byteOffset, 8 + b.file.headerLength + 8);
    assert.deepEqual(await readTensorValues(b.file, 'y'), new Float64Array(0));
    const chunks = [];
    for await (const c of streamTensor(b.file, 'z')) chunks.push(c);
    assert.equal(chunks.length, 0);
    assert.equal(await sha256OfTensor(b.file, 'z'), hex(new Uint8Array(0)));
    await b.file.close();
  });

  it('unknown tensors and non-float decoding are clear errors', async () => {
    const { file } = await openBytes(fileBytes({ w: F32_2, ids: { dtype: 'I32', shape: [1], data_offsets: [8, 12] } }, 12));
    await assert.rejects(readTensorBytes(file, 'nope'), (e: unknown) => e instanceof ModelError && e.code === 'UNKNOWN_TENSOR' && /tensor "nope": not in this file/.test(e.message));
    await assert.rejects(
      (async () => {
        for await (const _ of streamTensor(file, 'ids')) assert.fail('no chunk expected');
      })(),
      (e: unknown) => e instanceof ModelError && e.code === 'UNSUPPORTED_DTYPE' && /tensor "ids": dtype: I32 cannot be decoded/.test(e.message),
    );
    // Raw bytes and hashes are available for every dtype (frozen and free tensors need them).
    assert.equal((await readTensorBytes(file, 'ids')).length, 4);
    await file.close();
  });
});

describe('safetensors: malformed files', () => {
  it('header length: truncated, too large, past the end', async () => {
    await rejects(new Uint8Array(5), 'TRUNCATED', /the file is 5 bytes, too short for the 8-byte header length/, { field: 'header length' });
    await rejects(fileBytes({}, 0, { declaredLength: BigInt(MAX_HEADER_BYTES + 1) }), 'HEADER_TOO_LARGE', /header length 100000001 bytes exceeds the 100 MB limit/);
    await rejects(fileBytes({}, 0, { declaredLength: 2n ** 64n - 1n }), 'HEADER_TOO_LARGE', /18446744073709551615 bytes exceeds/);
    await rejects(fileBytes({ w: F32_2 }, 8, { declaredLength: 10_000n }), 'TRUNCATED', /header length 10000 runs past the end of the \d+-byte file/);
  });

  it('header text: not starting with {, empty, not UTF-8, not JSON', async () => {
    await rejects(fileBytes(null, 8, { raw: ` ${JSON.stringify({ w: F32_2 })}` }), 'BAD_HEADER', /header: the header must start with "\{", found byte 0x20/, { field: 'header' });
    await rejects(fileBytes(null, 0, { raw: '\ufeff{}' }), 'BAD_HEADER', /must start with "\{", found byte 0xef/);
    await rejects(fileBytes(null, 0, { raw: '[1]' }), 'BAD_HEADER', /must start with "\{"/);
    await rejects(fileBytes(null, 0, { raw: '' }), 'BAD_HEADER', /the header is empty/);
    const notUtf8 = fileBytes(null, 0, { raw: '{"w":1}' });
    notUtf8[10] = 0xff;
    await rejects(notUtf8, 'BAD_HEADER', /not valid UTF-8/);
    await rejects(fileBytes(null, 0, { raw: '{"w":' }), 'BAD_HEADER', /invalid JSON at character 5: unexpected end of header/);
    await rejects(fileBytes(null, 0, { raw: '{}x' }), 'BAD_HEADER', /invalid JSON at character 2: unexpected character "x" after the JSON value/);
    await rejects(fileBytes(null, 0, { raw: '{}\u0000\u0000' }), 'BAD_HEADER', /invalid JSON at character 2/);
    await rejects(fileBytes(null, 0, { raw: "{'w':1}" }), 'BAD_HEADER', /expected a key string/);
    await rejects(fileBytes(null, 0, { raw: '{"\\ud800":1}' }), 'BAD_HEADER', /lone high surrogate/);
    await rejects(fileBytes(null, 0, { raw: `{"__metadata__":{"a":${'['.repeat(40)}${']'.repeat(40)}}}` }), 'BAD_HEADER', /nested deeper than 32 levels/);
    await rejects(fileBytes(null, 0, { raw: '{"w":01}' }), 'BAD_HEADER', /invalid JSON/);
  });

  it('entries: unknown or missing keys, bad dtype, bad shape, bad metadata', async () => {
    await rejects(fileBytes({ w: { ...F32_2, extra: 1 } }, 8), 'BAD_HEADER', /tensor "w": extra: unknown key "extra"/, { tensor: 'w', field: 'extra' });
    await rejects(fileBytes({ w: { dtype: 'F32', shape: [2] } }, 8), 'BAD_HEADER', /tensor "w": data_offsets: missing key/, { tensor: 'w', field: 'data_offsets' });
    await rejects(fileBytes({ w: [1, 2] }, 0), 'BAD_HEADER', /tensor "w": expected an object \{ dtype, shape, data_offsets \}, got an array/);
    await rejects(fileBytes({ w: { ...F32_2, dtype: 'F31' } }, 8), 'UNKNOWN_DTYPE', /tensor "w": dtype: unknown dtype "F31"/, { tensor: 'w', field: 'dtype' });
    await rejects(fileBytes({ w: { ...F32_2, dtype: 32 } }, 8), 'BAD_HEADER', /tensor "w": dtype: expected a dtype string, got the number 32/);
    await rejects(fileBytes({ w: { ...F32_2, shape: [-2] } }, 8), 'BAD_SHAPE', /tensor "w": shape\[0\]: expected a non-negative integer, got -2/, { tensor: 'w', field: 'shape[0]' });
    await rejects(fileBytes(null, 8, { raw: '{"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}' }), 'BAD_SHAPE', /got 2\.0/);
    await rejects(fileBytes(null, 0, { raw: '{"w":{"dtype":"F32","shape":[0,9007199254740993],"data_offsets":[0,0]}}' }), 'BAD_SHAPE', /shape\[1\]: 9007199254740993 is larger than 2\^53 − 1/);
    await rejects(fileBytes({ w: { ...F32_2, shape: 2 } }, 8), 'BAD_SHAPE', /tensor "w": shape: expected a list of non-negative integers, got the number 2/);
    await rejects(fileBytes({ w: { dtype: 'F4', shape: [3], data_offsets: [0, 1] } }, 1), 'BAD_SHAPE', /dtype F4 × shape \[3\] is 12 bits, not a whole number of bytes/);
    await rejects(fileBytes({ __metadata__: { a: 1 }, w: F32_2 }, 8), 'BAD_HEADER', /__metadata__\.a: expected a string, got the number 1/, { field: '__metadata__.a' });
    await rejects(fileBytes({ __metadata__: ['a'] }, 0), 'BAD_HEADER', /__metadata__: expected an object of strings, got an array/);
  });

  it('offsets: size mismatch, hole, overlap, not from 0, end before begin, short or long data', async () => {
    const w = (begin: number, end: number, shape = [2], dtype = 'F32'): unknown => ({ dtype, shape, data_offsets: [begin, end] });
    await rejects(fileBytes({ w: w(0, 8, [3]) }, 8), 'BAD_OFFSETS', /tensor "w": data_offsets: dtype F32 × shape \[3\] is 12 bytes, but data_offsets \[0, 8\] span 8/, {
      tensor: 'w',
      field: 'data_offsets',
    });
    await rejects(fileBytes({ w: w(0, 0, [2 ** 52, 2 ** 52]) }, 0), 'BAD_OFFSETS', /is 81129638414606681695789005144064 bytes/); // checked arithmetic, no overflow
    await rejects(fileBytes({ w: w(0, 8), v: w(12, 20) }, 20), 'BAD_OFFSETS', /tensor "v": data_offsets: a hole: bytes 8\.\.12 belong to no tensor \(tensor "w" ends at 8\)/, { tensor: 'v' });
    await rejects(fileBytes({ w: w(0, 8), v: w(4, 12) }, 12), 'BAD_OFFSETS', /tensor "v": data_offsets: \[4, 12\] overlaps tensor "w", which ends at 8/, { tensor: 'v' });
    await rejects(fileBytes({ w: w(4, 12) }, 12), 'BAD_OFFSETS', /tensor "w": data_offsets: the data does not start at offset 0 \(begin is 4\)/);
    await rejects(fileBytes({ w: w(8, 0) }, 8), 'BAD_OFFSETS', /end 0 is before begin 8/);
    await rejects(fileBytes({ w: { ...F32_2, data_offsets: [0] } }, 8), 'BAD_OFFSETS', /expected \[begin, end\], got a list of 1/);
    await rejects(fileBytes({ w: { ...F32_2, data_offsets: [0, -8] } }, 8), 'BAD_OFFSETS', /end: expected a non-negative integer, got -8/);
    await rejects(fileBytes({ w: w(0, 8) }, 12), 'BAD_OFFSETS', /the tensors end at data offset 8 but the file holds 12 data bytes: 4 bytes belong to no tensor/, { field: 'data_offsets' });
    await rejects(fileBytes({ w: w(0, 8), v: w(8, 16) }, 12), 'TRUNCATED', /tensor "v": data_offsets: the tensors need 16 data bytes but the file holds 12 after the header \(truncated file\?\)/);
    await rejects(fileBytes({}, 3), 'BAD_OFFSETS', /3 bytes belong to no tensor/);
  });

  it('duplicate names (JSON.parse would keep the last one silently)', async () => {
    const dup = '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    await rejects(fileBytes(null, 4, { raw: dup }), 'DUPLICATE_TENSOR', /tensor "w": name: the name appears twice in the header/, { tensor: 'w', field: 'name' });
    // An escaped spelling is the same name.
    await rejects(fileBytes(null, 4, { raw: dup.replace('"w":{', '"\\u0077":{') }), 'DUPLICATE_TENSOR', /tensor "w"/);
    await rejects(fileBytes(null, 4, { raw: '{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}' }), 'BAD_HEADER', /tensor "w": dtype: key "dtype" appears twice/);
    await rejects(fileBytes(null, 0, { raw: '{"__metadata__":{"a":"1","a":"2"}}' }), 'BAD_HEADER', /__metadata__\.a: key "a" appears twice/);
    await rejects(fileBytes(null, 0, { raw: '{"__metadata__":{},"__metadata__":{}}' }), 'BAD_HEADER', /"__metadata__" appears twice/);
  });

  it('a file truncated mid-data after opening: reads fail with TRUNCATED naming the file', async () => {
    const { path, file } = await openBytes(fileBytes({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 16));
    truncateSync(path, 8 + file.headerLength + 6);
    await assert.rejects(readTensorValues(file, 'w'), (e: unknown) => e instanceof ModelError && e.code === 'TRUNCATED' && e.file === path && /file ends at byte \d+, but bytes \d+\.\.\d+ are needed/.test(e.message));
    await file.close();
    await file.close(); // idempotent
  });

  it('index errors: wrong shard, unlisted tensor, missing tensor, missing shard, unsafe names, bad JSON', async () => {
    const sd = join(dir, 'index-cases');
    mkdirSync(sd, { recursive: true });
    const one = (v: number): Map<string, TensorToWrite> => new Map([['x', { dtype: 'F32', shape: [1], data: encodeFloats([v], 'F32') }]]);
    await writeSafetensors(join(sd, 'a.safetensors'), one(1));
    await writeSafetensors(join(sd, 'b.safetensors'), new Map([['y', { dtype: 'F32', shape: [1], data: encodeFloats([2], 'F32') }]]));
    await writeSafetensors(join(sd, 'c.safetensors'), one(3)); // a second "x"
    const idx = join(sd, 'model.safetensors.index.json');
    const expectIndex = async (index: unknown, code: string, re: RegExp, raw?: string): Promise<void> => {
      writeFileSync(idx, raw ?? JSON.stringify(index));
      await assert.rejects(openModel(sd), (e: unknown) => {
        assert.ok(e instanceof ModelError, String(e));
        assert.equal(e.code, code, e.message);
        assert.match(e.message, re);
        return true;
      });
    };
    writeFileSync(idx, JSON.stringify({ metadata: { total_size: 8 }, weight_map: { x: 'a.safetensors', y: 'b.safetensors' } }));
    const ok = await openModel(sd);
    assert.deepEqual([...ok.tensors.keys()], ['x', 'y']);
    await ok.close();
    await expectIndex({ weight_map: { x: 'b.safetensors', y: 'b.safetensors' } }, 'BAD_INDEX', /index\.json: tensor "x": weight_map puts it in shard b\.safetensors, which does not contain it/);
    await expectIndex({ weight_map: { x: 'a.safetensors', y: 'a.safetensors' } }, 'BAD_INDEX', /tensor "y": weight_map puts it in shard a\.safetensors, which does not contain it/);
    await expectIndex({ weight_map: { x: 'a.safetensors', z: 'b.safetensors' } }, 'BAD_INDEX', /tensor "y": in shard b\.safetensors but not in the index's weight_map/);
    await expectIndex({ weight_map: { x: 'a.safetensors', y: 'b.safetensors', q: 'c.safetensors' } }, 'DUPLICATE_TENSOR', /tensor "x": in two shards, a\.safetensors and c\.safetensors/);
    await expectIndex({ weight_map: { x: 'a.safetensors', y: 'gone.safetensors' } }, 'NOT_FOUND', /weight_map: shard "gone\.safetensors" \(tensor "y" and others\) does not exist/);
    await expectIndex({ weight_map: { x: '../a.safetensors' } }, 'BAD_INDEX', /tensor "x": weight_map: shard "\.\.\/a\.safetensors" is not a plain file name/);
    await expectIndex({ weight_map: { x: 1 } }, 'BAD_INDEX', /tensor "x": weight_map: expected a shard file name, got the number 1/);
    await expectIndex({ weight_map: { x: 'a.safetensors' }, extra: true }, 'BAD_INDEX', /extra: unknown key "extra"/);
    await expectIndex({ metadata: {} }, 'BAD_INDEX', /weight_map: missing key/);
    await expectIndex(null, 'BAD_INDEX', /tensor "x": weight_map: the tensor is listed twice in weight_map/, '{"weight_map":{"x":"a.safetensors","x":"a.safetensors"}}');
    await expectIndex(null, 'BAD_INDEX', /invalid JSON at character/, '{"weight_map":');
    writeFileSync(join(sd, 'model.safetensors'), readFileSync(join(sd, 'a.safetensors')));
    await expectIndex({ weight_map: { x: 'a.safetensors', y: 'b.safetensors' } }, 'BAD_INDEX', /has both model\.safetensors and model\.safetensors\.index\.json/);
    rmSync(join(sd, 'model.safetensors'));
    mkdirSync(join(dir, 'empty-dir'), { recursive: true });
    await assert.rejects(openModel(join(dir, 'empty-dir')), (e: unknown) => e instanceof ModelError && e.code === 'NOT_FOUND' && /neither model\.safetensors nor/.test(e.message));
    await assert.rejects(openModel(join(dir, 'nope')), (e: unknown) => e instanceof ModelError && e.code === 'NOT_FOUND' && /no such file or directory/.test(e.message));
    await assert.rejects(openModel(join(dir, 'nope.safetensors')), (e: unknown) => e instanceof ModelError && e.code === 'NOT_FOUND');
  });

  it('the writer refuses what the reader would reject', async () => {
    const bad = async (t: Map<string, TensorToWrite>, code: string, re: RegExp): Promise<void> =>
      assert.rejects(writeSafetensors(join(dir, 'w.safetensors'), t), (e: unknown) => e instanceof ModelError && e.code === code && re.test(e.message));
    await bad(new Map([['w', { dtype: 'F32', shape: [3], data: new Uint8Array(8) }]]), 'BAD_VALUE', /tensor "w": data: dtype F32 × shape \[3\] needs 96 bits, the data has 8 bytes/);
    await bad(new Map([['w', { dtype: 'F33' as Dtype, shape: [2], data: new Uint8Array(8) }]]), 'UNKNOWN_DTYPE', /unknown dtype "F33"/);
    await bad(new Map([['__metadata__', { dtype: 'F32', shape: [2], data: new Uint8Array(8) }]]), 'BAD_VALUE', /reserved/);
    await bad(new Map([['w', { dtype: 'F32', shape: [-2], data: new Uint8Array(8) }]]), 'BAD_SHAPE', /non-negative integers/);
    await bad(new Map([['w\ud800', { dtype: 'F32', shape: [2], data: new Uint8Array(8) }]]), 'BAD_VALUE', /lone surrogate/);
  });
});

describe('safetensors: fuzz (only ModelError, never another exception)', () => {
  /** Open, then read every tensor every way; anything but a ModelError fails the property. */
  async function exercise(bytes: Uint8Array): Promise<void> {
    let f: SafetensorsFile;
    try {
      f = await openSafetensors(bytesReader('fuzz.safetensors', bytes));
    } catch (e) {
      if (e instanceof ModelError) return;
      throw e;
    }
    for (const t of f.tensors.values()) {
      assert.equal((await readTensorBytes(f, t.name)).length, t.byteLength);
      await sha256OfTensor(f, t.name, 3);
      if (isFloatDtype(t.dtype)) assert.equal((await readTensorValues(f, t.name)).length, t.elements);
      else await assert.rejects(readTensorValues(f, t.name), ModelError);
    }
  }

  const validHeader = JSON.stringify({
    __metadata__: { format: 'pt' },
    'a.w': { dtype: 'F16', shape: [2, 2], data_offsets: [0, 8] },
    b: { dtype: 'BF16', shape: [], data_offsets: [8, 10] },
    c: { dtype: 'I8', shape: [0], data_offsets: [10, 10] },
  });
  const valid = fileBytes(null, 10, { raw: validHeader });

  it('mutations of a valid file: byte changes, insertions, deletions, truncations', async () => {
    await exercise(valid); // the seed itself is valid
    // 'header' mutates the JSON text and fixes the length prefix, so the parser and validator
    // are reached; 'file' mutates any byte of the file (length prefix included).
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('header', 'file'),
        fc.integer({ min: -2, max: 2 }),
        fc.option(fc.nat(), { nil: undefined }),
        async (edits, target, dataDelta, cut) => {
          const mutate = (bytes: Uint8Array): number[] => {
            const b = Array.from(bytes);
            for (const [at, v, op] of edits) {
              const i = at % (b.length + 1);
              if (op === 'set' && i < b.length) b[i] = v;
              else if (op === 'insert') b.splice(i, 0, v);
              else if (op === 'delete') b.splice(i, 1);
            }
            return b;
          };
          if (target === 'header') {
            const h = Uint8Array.from(mutate(new TextEncoder().encode(validHeader)));
            const out = new Uint8Array(8 + h.length + Math.max(0, 10 + dataDelta));
            new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
            out.set(h, 8);
            await exercise(out);
          } else {
            const b = mutate(valid);
            await exercise(Uint8Array.from(cut === undefined ? b : b.slice(0, cut % (b.length + 1))));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('structured random headers (random JSON, random dtypes, shapes and offsets)', async () => {
    const dtypeArb = fc.oneof(fc.constantFrom(...(Object.keys(DTYPE_BITS) as Dtype[])), fc.string({ maxLength: 4 }));
    const entry = fc.record(
      {
        dtype: fc.oneof(dtypeArb, fc.jsonValue({ maxDepth: 1 })),
        shape: fc.oneof(fc.array(fc.oneof(fc.nat(4), fc.integer({ min: -3, max: 2 ** 53 + 2 }), fc.double()), { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
        data_offsets: fc.oneof(fc.tuple(fc.nat(40), fc.nat(40)), fc.array(fc.nat(40), { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
        extra: fc.jsonValue({ maxDepth: 1 }),
      },
      { requiredKeys: [] },
    );
    const headerArb = fc.dictionary(fc.oneof(fc.constantFrom('__metadata__', 'w', 'v', '0'), fc.string({ maxLength: 3 })), fc.oneof(entry, fc.jsonValue({ maxDepth: 2 })), { maxKeys: 4 });
    await fc.assert(
      fc.asyncProperty(headerArb, fc.nat(48), async (header, dataBytes) => {
        await exercise(fileBytes(header, dataBytes));
      }),
      { numRuns: 1500 },
    );
  });
});

describe('safetensors: streaming memory', () => {
  it('streams a 64 MB tensor in 1 MB chunks with bounded ArrayBuffer memory', async () => {
    // A forced GC before each sample measures what is still reachable, which is what
    // "bounded memory" means; without it the sample would measure V8's GC timing instead.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const elements = 16 << 20; // 16 Mi F32 = 64 MiB
    const path = join(dir, 'big.safetensors');
    const header = safetensorsHeader([['big', { dtype: 'F32', shape: [4096, 4096], byteLength: elements * 4 }]]);
    const fh = await openFile(path, 'w');
    await fh.write(header, 0, header.length, 0);
    const chunk = new Float32Array(1 << 18); // 1 MiB
    for (let c = 0; c < elements / chunk.length; c++) {
      for (let i = 0; i < chunk.length; i++) chunk[i] = ((c * chunk.length + i) % 1024) - 512;
      await fh.write(new Uint8Array(chunk.buffer), 0, chunk.byteLength, header.length + c * chunk.byteLength);
    }
    await fh.close();

    const f = await openSafetensorsFile(path);
    gc();
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let count = 0;
    let checksum = 0;
    for await (const c of streamTensor(f, 'big', 1 << 18)) {
      // Check some values, and keep nothing from this chunk.
      assert.equal(c.values[0], ((c.start % 1024) - 512));
      for (let i = 0; i < c.values.length; i += 4099) checksum += c.values[i]!;
      count += c.values.length;
      gc();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    }
    gc();
    const shaBase = process.memoryUsage().arrayBuffers;
    await sha256OfTensor(f, 'big', 1 << 20);
    await f.close();
    assert.equal(count, elements);
    assert.ok(Number.isFinite(checksum));
    assert.ok(peak <= 32 << 20, `ArrayBuffer growth while streaming ${peak} bytes > 32 MiB`);
    // V8 frees ArrayBuffer backing stores on a background thread: let the sweep finish.
    for (let k = 0; k < 3; k++) {
      gc();
      await new Promise((r) => setTimeout(r, 50));
    }
    const shaGrowth = process.memoryUsage().arrayBuffers - shaBase;
    assert.ok(shaGrowth <= 32 << 20, `ArrayBuffer growth after hashing ${shaGrowth} bytes > 32 MiB`);
  });
});

// Type-only use, so the FloatDtype export stays checked by this file.
const _floatDtypes: readonly FloatDtype[] = ['F64', 'F32', 'F16', 'BF16'];
void _floatDtypes;
