// The certification steps end to end on an in-memory model (no files): commitBase, plan,
// per-class proofs, aggregation, sealing, self-verification — and every kind of rejection
// the engine must report with the tensor, the check, the measured value and the bound.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { certifyFineTune, commitBase, type CertifyOutcome } from '../activities/certify.ts';
import { exactSquareSum } from '../model/factors.ts';
import fc from 'fast-check';
import type { ModelReader } from '../activities/model-reader.ts';
import { decodeCertificate, encodeCertificate } from '../smdp/certificate.ts';
import { testMsm } from './backend.ts';
import type { ProverContext } from '../smdp/pst.ts';
import type { Srs } from '../smdp/srs.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';
import { verifyCertificate } from '../smdp/verifier.ts';
import { manifestExpectations, type BaseManifest } from '../model/manifest.ts';
import { parsePolicy } from '../model/policy.ts';
import { recordStatements } from '../smdp/aggregate.ts';

interface MemTensor {
  readonly shape: number[];
  readonly values: Float64Array;
}

function reader(label: string, tensors: Map<string, MemTensor>): ModelReader {
  const raw = (t: MemTensor): Uint8Array => new Uint8Array(Float32Array.from(t.values).buffer);
  return {
    label,
    tensors: [...tensors].map(([name, t]) => ({ name, shape: t.shape, dtype: 'F32' })),
    files: () => Promise.resolve([{ name: `${label}.safetensors`, sha256: bytesToHex(sha256(new TextEncoder().encode(label))) }]),
    tensorSha256: (name) => Promise.resolve(bytesToHex(sha256(raw(tensors.get(name)!)))),
    readValues: (name) => Promise.resolve(Float64Array.from(Float32Array.from(tensors.get(name)!.values))),
    close: () => Promise.resolve(),
  };
}

let seed = 1;
function rand(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31 - 0.5;
}
function tensor(shape: number[], f: (i: number) => number): MemTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, values: Float64Array.from({ length: n }, (_, i) => Math.fround(f(i))) };
}

const POLICY = parsePolicy(
  JSON.stringify({
    version: 1,
    fractionalBits: 24,
    default: { class: 'frozen' },
    rules: [
      { match: 'layers.*.attn.q_proj.weight', class: 'lowrank', rank: 2, residualMaxLinf: 0.0001 },
      { match: '*.mlp.up.weight', class: 'norm', maxL2: 0.05 },
      { match: '*.norm.weight', class: 'linf', maxLinf: 0.01 },
      { match: '*.bias', class: 'sparse', maxNonzeros: 2, reveal: true },
      { match: '*.gate', class: 'sparse', maxNonzeros: 3 },
      { match: 'head.weight', class: 'free' },
    ],
  }),
  { format: 'json' },
);

const base = new Map<string, MemTensor>([
  ['embed.weight', tensor([16, 8], () => rand())],
  ['layers.0.attn.q_proj.weight', tensor([8, 8], () => rand())],
  ['layers.0.mlp.up.weight', tensor([8, 8], () => rand())],
  ['layers.0.norm.weight', tensor([8], () => 1 + rand() / 10)],
  ['layers.0.bias', tensor([8], () => rand() / 10)],
  ['layers.0.gate', tensor([4, 4], () => rand())],
  ['head.weight', tensor([4, 8], () => rand())],
]);

function fineTune(): Map<string, MemTensor> {
  const ft = new Map([...base].map(([k, v]) => [k, { shape: v.shape, values: v.values.slice() }]));
  const set = (name: string, f: (v: Float64Array) => void): void => f(ft.get(name)!.values);
  // rank-2 update a·bᵀ + c·dᵀ on q_proj
  const a = [0.01, -0.02, 0.03, 0.0, 0.01, 0.02, -0.01, 0.005];
  const b = [0.02, 0.01, -0.01, 0.03, 0.0, -0.02, 0.01, 0.01];
  set('layers.0.attn.q_proj.weight', (v) => v.forEach((x, i) => (v[i] = Math.fround(x + a[i >> 3]! * b[i & 7]! + a[7 - (i >> 3)]! * b[7 - (i & 7)]! * 0.5))));
  set('layers.0.mlp.up.weight', (v) => v.forEach((x, i) => (v[i] = Math.fround(x + 0.002 * Math.sin(i)))));
  set('layers.0.norm.weight', (v) => v.forEach((x, i) => (v[i] = Math.fround(x + 0.005 * Math.cos(i)))));
  set('layers.0.bias', (v) => {
    v[2] = Math.fround(v[2]! + 0.25);
    v[5] = Math.fround(v[5]! - 0.125);
  });
  set('layers.0.gate', (v) => {
    v[0] = Math.fround(v[0]! + 0.5);
    v[9] = Math.fround(v[9]! - 0.5);
  });
  set('head.weight', (v) => v.forEach((x, i) => (v[i] = Math.fround(x * 3))));
  return ft;
}

let srs: Srs;
let ctx: ProverContext;
let manifest: BaseManifest;
let digest: string;

before(async () => {
  srs = devSrs(6, 'engine-test').srs;
  ctx = { srs, msm: testMsm };
  ({ manifest, digest } = await commitBase(ctx, reader('base', base), 24));
});

async function certify(ft: Map<string, MemTensor>, job = 'job-1'): Promise<CertifyOutcome> {
  return certifyFineTune(ctx, { job, base: reader('base', base), ft: reader('ft', ft), policy: POLICY, manifest });
}

describe('exactSquareSum (the tensor-level Σ Δ² before any proof)', () => {
  const reference = (xs: Float64Array): bigint => xs.reduce((a, x) => a + BigInt(x) * BigInt(x), 0n);
  it('equals the bigint sum at the double-precision seams', () => {
    const edges = [0, 1, -1, 2 ** 26 - 1, -(2 ** 26 - 1), 2 ** 26, -(2 ** 26), 2 ** 26 + 1, 2 ** 53 - 1, -(2 ** 53 - 1), 94906265, 94906266];
    const many = new Float64Array(5000).map((_, i) => edges[i % edges.length]!);
    for (const xs of [new Float64Array(edges), many, new Float64Array(3000).fill(2 ** 26 - 1), new Float64Array(0)]) assert.equal(exactSquareSum(xs), reference(xs));
  });
  it('equals the bigint sum on random safe integers', () => {
    const entry = fc.oneof(fc.integer({ min: -(2 ** 27), max: 2 ** 27 }), fc.maxSafeInteger().map((x) => (x % 2 === 0 ? x : -x)), fc.integer({ min: -1000, max: 1000 }));
    fc.assert(fc.property(fc.array(entry, { maxLength: 400 }), (a) => exactSquareSum(Float64Array.from(a)) === reference(Float64Array.from(a))), { numRuns: 300 });
  });
});

describe('certification engine (in-memory model)', () => {
  it('commitBase: hashes and tile commitments for every float tensor', () => {
    assert.equal(manifest.tensors.length, base.size);
    assert.equal(manifest.tensors.find((t) => t.name === 'embed.weight')!.tiles.length, 2); // 16×8 = 128 > 2^6
    assert.ok(manifest.tensors.every((t) => /^[0-9a-f]{64}$/.test(t.sha256)));
  });

  it('accepts an in-policy fine-tune with a certificate the verifier accepts', async () => {
    const out = await certify(fineTune());
    assert.equal(out.verdict, 'accepted', out.verdict === 'rejected' ? JSON.stringify(out.violations) : '');
    if (out.verdict !== 'accepted') return;
    const classes = Object.fromEntries(out.tensors.map((t) => [t.name, t.class]));
    assert.deepEqual(classes, {
      'embed.weight': 'frozen',
      'layers.0.attn.q_proj.weight': 'lowrank',
      'layers.0.mlp.up.weight': 'norm',
      'layers.0.norm.weight': 'linf',
      'layers.0.bias': 'sparse',
      'layers.0.gate': 'sparse',
      'head.weight': 'free',
    });
    const { json, blob } = encodeCertificate(out.certificate);
    const back = decodeCertificate(json, blob);
    const v = verifyCertificate(srs, back, { baseManifestDigest: digest, baseTensors: manifestExpectations(manifest) });
    assert.equal(v.valid, true, v.valid ? '' : v.reason);
    // bound to this base: another base manifest digest is rejected
    assert.equal(verifyCertificate(srs, back, { baseManifestDigest: '00'.repeat(32) }).valid, false);
  });

  it('rejects a changed frozen weight, naming the tensor, the count and the index', async () => {
    const ft = fineTune();
    ft.get('embed.weight')!.values[37] = Math.fround(ft.get('embed.weight')!.values[37]! + 1e-3);
    const out = await certify(ft);
    assert.equal(out.verdict, 'rejected');
    if (out.verdict !== 'rejected') return;
    assert.equal(out.violations.length, 1);
    assert.equal(out.violations[0]!.check, 'frozen');
    assert.match(out.violations[0]!.detail, /embed\.weight changed: 1 of 128 entries differ, first at flat index 37/);
  });

  it('rejects bounds exceeded with measured value and bound (norm, linf, sparse, lowrank)', async () => {
    const ft = fineTune();
    ft.get('layers.0.mlp.up.weight')!.values[3] = Math.fround(ft.get('layers.0.mlp.up.weight')!.values[3]! + 1);
    ft.get('layers.0.norm.weight')!.values[1] = Math.fround(ft.get('layers.0.norm.weight')!.values[1]! + 0.5);
    ft.get('layers.0.bias')!.values[7] = Math.fround(ft.get('layers.0.bias')!.values[7]! + 0.5);
    const q = ft.get('layers.0.attn.q_proj.weight')!.values;
    q.forEach((x, i) => (q[i] = Math.fround(x + 0.01 * Math.sin(7 * i * i))));
    const out = await certify(ft);
    assert.equal(out.verdict, 'rejected');
    if (out.verdict !== 'rejected') return;
    const byCheck = new Map(out.violations.map((v) => [v.check, v]));
    assert.match(byCheck.get('norm.l2')!.detail, /layers\.0\.mlp\.up\.weight: ‖Δ‖₂ = 1\.0\d* exceeds the bound 0\.05/);
    assert.match(byCheck.get('linf')!.detail, /layers\.0\.norm\.weight: \|Δ\| = 0\.50\d* at flat index 1 exceeds the bound 0\.0099\d*/);
    assert.equal(byCheck.get('sparse.nonzeros')!.measured, '3');
    assert.equal(byCheck.get('sparse.nonzeros')!.bound, '2');
    assert.ok(byCheck.get('lowrank.residual'), JSON.stringify(out.violations));
  });

  it('rejects tensors added (unless free), removed, reshaped', async () => {
    const ft = fineTune();
    ft.set('extra.weight', tensor([2, 2], () => 1));
    ft.delete('layers.0.gate');
    ft.set('head.weight', tensor([8, 4], () => 1));
    const out = await certify(ft);
    assert.equal(out.verdict, 'rejected');
    if (out.verdict !== 'rejected') return;
    const kinds = out.violations.map((v) => `${v.check}:${v.tensor}`).sort();
    assert.deepEqual(kinds, ['tensors.added:extra.weight', 'tensors.removed:layers.0.gate', 'tensors.reshaped:head.weight']);
  });

  it('proves many-tile norm and low-rank tensors in units (default, or of a chosen size); every split gives a certificate the verifier accepts', async () => {
    // 32 × 16 = 512 weights: 8 tiles of 2^6 under this SRS — a norm tensor and a low-rank one
    // (a rank-2 update, factors from the SVD of Δ).
    const b = new Map([
      ['big.mlp.up.weight', tensor([32, 16], () => rand())],
      ['layers.1.attn.q_proj.weight', tensor([32, 16], () => rand())],
    ]);
    const update = (name: string, x: number, i: number): number => {
      if (name === 'big.mlp.up.weight') return x + 0.001 * Math.cos(i);
      const [r, c] = [i >> 4, i & 15];
      return x + 0.01 * Math.sin(r + 1) * Math.cos(c) + 0.005 * Math.cos(3 * r) * Math.sin(c + 2);
    };
    const f = new Map([...b].map(([k, v]) => [k, { shape: v.shape, values: v.values.map((x, i) => Math.fround(update(k, x, i))) }]));
    const m = await commitBase(ctx, reader('base', b), 24);
    const records: number[][] = [];
    for (const unitBlocks of [undefined, 3, 1]) {
      const out = await certifyFineTune(ctx, { job: 'job-units', base: reader('base', b), ft: reader('ft', f), policy: POLICY, manifest: m.manifest, ...(unitBlocks !== undefined ? { unitBlocks } : {}) });
      assert.equal(out.verdict, 'accepted', out.verdict === 'rejected' ? JSON.stringify(out.violations) : '');
      if (out.verdict !== 'accepted') return;
      assert.equal(out.tensors.find((t) => t.name === 'big.mlp.up.weight')?.blocks, 8);
      assert.equal(out.tensors.find((t) => t.name === 'layers.1.attn.q_proj.weight')?.blocks, 8);
      const { json, blob } = encodeCertificate(out.certificate);
      const back = decodeCertificate(json, blob);
      const v = verifyCertificate(srs, back, { baseManifestDigest: m.digest, baseTensors: manifestExpectations(m.manifest) });
      assert.equal(v.valid, true, v.valid ? '' : v.reason);
      records.push(back.blocks.map((r) => recordStatements(r).length));
    }
    const ones = [1, 1, 1, 1, 1, 1, 1, 1];
    assert.deepEqual(records, [
      [8, 8],
      [2, 3, 3, 2, 3, 3],
      [...ones, ...ones],
    ]);
  });
});
