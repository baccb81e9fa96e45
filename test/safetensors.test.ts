// safetensors: files written by the official Python package read byte-identically; files we
// write read back in Python; every malformation of the header is bad input naming the file,
// tensor and field; sharded models via the index; random headers never crash the reader.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { ModelError } from '../model/errors.ts';
import { decodeFloats, encodeFloats, openLocalFile, openModel, openSafetensors, readTensorBytes, writeSafetensors } from '../model/safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'fti-st-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const PY = join(import.meta.dirname, 'fixtures', 'safetensors_ref.py');
const hasPython = spawnSync('python3', ['-c', 'import safetensors, numpy'], { encoding: 'utf8' }).status === 0;

function header(obj: unknown, dataBytes: number, pad = ''): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(obj) + pad);
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

async function openBytes(bytes: Uint8Array, name = 'x.safetensors') {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return openSafetensors(await openLocalFile(p));
}

async function rejects(bytes: Uint8Array, code: string, msg: RegExp): Promise<void> {
  await assert.rejects(openBytes(bytes), (e: unknown) => e instanceof ModelError && e.code === code && msg.test(e.message) && /x\.safetensors/.test(e.message));
}

describe('safetensors', () => {
  it('reads files written by the official package, byte for byte', { skip: hasPython ? false : 'python3 with safetensors+numpy not installed' }, async () => {
    const p = join(dir, 'ref.safetensors');
    assert.equal(spawnSync('python3', [PY, 'write', p]).status, 0);
    const ref = JSON.parse(spawnSync('python3', [PY, 'read', p], { encoding: 'utf8' }).stdout) as Record<string, [string, number[], string]>;
    const f = await openSafetensors(await openLocalFile(p));
    assert.equal(f.metadata.format, 'np');
    for (const [name, [, shape, digest]] of Object.entries(ref)) {
      const t = f.tensors.get(name)!;
      assert.deepEqual([...t.shape], shape, name);
      assert.equal(bytesToHex(sha256(await readTensorBytes(f, name))), digest, name);
    }
    const f16 = decodeFloats(await readTensorBytes(f, 'w.f16'), 'F16', { file: p, tensor: 'w.f16' });
    assert.equal(f16.length, 12);
    await f.reader.close();
  });

  it('files we write read back in Python with the same bytes (F32, BF16, F64, empty, scalar)', { skip: hasPython ? false : 'python3 with safetensors+numpy not installed' }, async () => {
    const p = join(dir, 'ours.safetensors');
    const vals = Float64Array.from([1.5, -2.25, 3e-3, 0, -0, 1e30]);
    await writeSafetensors(
      p,
      new Map([
        ['a', { dtype: 'F32', shape: [2, 3], data: encodeFloats(vals, 'F32') }],
        ['b', { dtype: 'F64', shape: [6], data: encodeFloats(vals, 'F64') }],
        ['e', { dtype: 'F32', shape: [0], data: new Uint8Array(0) }],
        ['s', { dtype: 'F32', shape: [], data: encodeFloats(Float64Array.of(7), 'F32') }],
      ]),
      { by: 'fti' },
    );
    const r = spawnSync('python3', [PY, 'read', p], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const ref = JSON.parse(r.stdout) as Record<string, [string, number[], string]>;
    const f = await openSafetensors(await openLocalFile(p));
    for (const name of ['a', 'b', 'e', 's']) assert.equal(bytesToHex(sha256(await readTensorBytes(f, name))), ref[name]![2], name);
    assert.deepEqual([...decodeFloats(await readTensorBytes(f, 'a'), 'F32', { file: p, tensor: 'a' })], [...Float32Array.from(vals)]);
    await f.reader.close();
  });

  it('BF16 round-trips values that are BF16-representable and rounds to nearest even', () => {
    const vals = Float64Array.from([1, -2, 0.5, 3.140625, 1 + 2 ** -7, 1 + 2 ** -8, 1 + 3 * 2 ** -8]);
    const back = decodeFloats(encodeFloats(vals, 'BF16'), 'BF16', { file: 'f', tensor: 't' });
    assert.deepEqual([...back], [1, -2, 0.5, 3.140625, 1 + 2 ** -7, 1, 1 + 2 ** -6]);
  });

  it('rejects every malformed header with a clear error', async () => {
    const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    await rejects(new Uint8Array(4), 'TRUNCATED', /too short/);
    const big = new Uint8Array(16);
    new DataView(big.buffer).setBigUint64(0, 200_000_000n, true);
    await rejects(big, 'HEADER_TOO_LARGE', /100 MB/);
    const past = header(ok, 8);
    new DataView(past.buffer).setBigUint64(0, 10_000n, true);
    await rejects(past, 'TRUNCATED', /runs past the end/);
    const notObj = header([1], 0);
    await rejects(notObj, 'BAD_HEADER', /does not start with|not a JSON object/);
    await rejects(header({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8], extra: 1 } }, 8), 'BAD_HEADER', /tensor "w": unknown key "extra"/);
    await rejects(header({ w: { dtype: 'F31', shape: [2], data_offsets: [0, 8] } }, 8), 'UNKNOWN_DTYPE', /tensor "w": unknown dtype "F31"/);
    await rejects(header({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), 'BAD_OFFSETS', /tensor "w": dtype F32 × shape \[3\] is 12 bytes, data_offsets span 8/);
    await rejects(header({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, v: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } }, 16), 'BAD_OFFSETS', /tensor "v": a hole/);
    await rejects(header({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, v: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), 'BAD_OFFSETS', /overlaps/);
    await rejects(header({ w: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), 'BAD_OFFSETS', /hole/);
    await rejects(header(ok, 12), 'BAD_OFFSETS', /file has 12 data bytes/);
    await rejects(header({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }, 8), 'BAD_HEADER', /shape/);
    const dup = new TextEncoder().encode('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
    const d = new Uint8Array(8 + dup.length + 4);
    new DataView(d.buffer).setBigUint64(0, BigInt(dup.length), true);
    d.set(dup, 8);
    await rejects(d, 'BAD_HEADER', /tensor "w": appears twice/);
  });

  it('sharded models via model.safetensors.index.json, and index errors', async () => {
    const sd = join(dir, 'sharded');
    await writeSafetensors(join(sd, 'a.safetensors'), new Map([['x', { dtype: 'F32', shape: [1], data: encodeFloats(Float64Array.of(1), 'F32') }]]));
    await writeSafetensors(join(sd, 'b.safetensors'), new Map([['y', { dtype: 'F32', shape: [1], data: encodeFloats(Float64Array.of(2), 'F32') }]]));
    writeFileSync(join(sd, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'a.safetensors', y: 'b.safetensors' } }));
    const m = await openModel(sd);
    assert.deepEqual([...m.tensors.keys()].sort(), ['x', 'y']);
    await m.close();
    writeFileSync(join(sd, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'b.safetensors', y: 'b.safetensors' } }));
    await assert.rejects(openModel(sd), (e: unknown) => e instanceof ModelError && e.code === 'BAD_INDEX' && /tensor "y"|tensor "x"/.test(e.message));
    await assert.rejects(openModel(join(dir, 'nope')), (e: unknown) => e instanceof ModelError && e.code === 'NOT_FOUND');
  });

  it('fuzz: mutated headers give only ModelError', async () => {
    const good = header({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, __metadata__: { a: 'b' } }, 16);
    let s = 12345;
    const rnd = (n: number): number => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % n);
    for (let i = 0; i < 300; i++) {
      const b = good.slice();
      const flips = 1 + rnd(4);
      for (let k = 0; k < flips; k++) b[rnd(b.length)] = rnd(256);
      const cut = rnd(3) === 0 ? b.subarray(0, rnd(b.length)) : b;
      try {
        const f = await openBytes(cut, 'fuzz.safetensors');
        await f.reader.close();
      } catch (e) {
        assert.ok(e instanceof ModelError, `iteration ${i}: ${String(e)}`);
      }
    }
  });
});
