/**
 * model/factors.ts (issue 3 item 6; PROTOCOLS.md §5.5): LoRA adapters (PEFT naming, scaling
 * alpha/r and alpha/√r, rank/alpha patterns, fan_in_fan_out, embeddings) reproduce
 * (alpha/r)·B·A; the quantized factors and the exact residual E = λ·Δ_q − A·B agree with a
 * naive bigint computation on both arithmetic paths; layouts and padding are those of
 * smdp/classes/lowrank.ts — checked end to end: the factors, sliced per tile with
 * `factorTile`, prove and verify with smdp's `proveLowRank`/`verifyLowRank` under devSrs(6)
 * (INSECURE, tests only) with exactly the computed residual bound, and one unit less is
 * refused. Bad adapters are BAD_ADAPTER naming the tensor or key.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pairingCheck } from '../smdp/accumulator.ts';
import { DriftPolicyViolation } from '../smdp/errors.ts';
import { testMsm } from './backend.ts';
import { commitSmall } from '../smdp/pst.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';
import type { ResidualSpec } from '../smdp/statement.ts';
import type { BlockInput } from '../smdp/classes/norm.ts';
import { commitFactorB, factorRankBits, proveLowRank, verifyLowRank } from '../smdp/classes/lowrank.ts';
import {
  FACTOR_SVD_SEED,
  checkLoraShape,
  defaultFactorBits,
  factorTile,
  factorsFromSvd,
  loraBaseTensorName,
  loraUpdates,
  lowRankFactorsFromDelta,
  parseAdapterConfig,
  parseLoraTensorName,
  quantizeFactors,
  type AdapterTensor,
  type QuantizedFactors,
  type RealFactors,
} from '../model/factors.ts';
import { ModelError } from '../model/errors.ts';
import { SeededRandom, matmul, matrix, roundHalfEven } from '../model/linalg.ts';

function randoms(n: number, seed: number, scale = 1): Float64Array {
  const rng = new SeededRandom(seed);
  return Float64Array.from({ length: n }, () => (rng.next() - 0.5) * scale);
}

function randomInts(n: number, seed: number, lo: number, hi: number): Float64Array {
  const rng = new SeededRandom(seed);
  return Float64Array.from({ length: n }, () => lo + Math.floor(rng.next() * (hi - lo + 1)));
}

/** ΔW of a factor pair: A (rows × rank) · B (rank × cols). */
function product(f: RealFactors): Float64Array {
  return matmul(matrix(f.rows, f.rank, f.A), matrix(f.rank, f.cols, f.B)).data;
}

function closeTo(a: Float64Array, b: Float64Array, tol = 1e-12): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol * Math.max(1, Math.abs(b[i]!)), `entry ${i}: ${a[i]} vs ${b[i]}`);
}

function badAdapter(fn: () => unknown, check: (e: ModelError) => boolean): void {
  assert.throws(fn, (e: unknown) => e instanceof ModelError && e.code === 'BAD_ADAPTER' && check(e));
}

describe('LoRA adapters (PEFT)', () => {
  const r = 4;
  const config = parseAdapterConfig({ peft_type: 'LORA', r, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'], lora_dropout: 0.05, bias: 'none' });

  it('tensor names: saved, in-memory and embedding forms map to the base tensor', () => {
    assert.deepEqual(parseLoraTensorName('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'), { module: 'model.layers.0.self_attn.q_proj', part: 'A', embedding: false });
    assert.deepEqual(parseLoraTensorName('base_model.model.model.layers.0.self_attn.q_proj.lora_B.default.weight'), { module: 'model.layers.0.self_attn.q_proj', part: 'B', embedding: false });
    assert.deepEqual(parseLoraTensorName('base_model.model.model.embed_tokens.lora_embedding_A'), { module: 'model.embed_tokens', part: 'A', embedding: true });
    assert.deepEqual(parseLoraTensorName('transformer.h.0.attn.c_attn.lora_B.weight'), { module: 'transformer.h.0.attn.c_attn', part: 'B', embedding: false });
    for (const n of ['base_model.model.model.layers.0.self_attn.q_proj.bias', 'x.lora_A', 'x.lora_embedding_A.weight', 'lora_A.weight', 'x.lora_C.weight']) assert.equal(parseLoraTensorName(n), null, n);
    assert.equal(loraBaseTensorName('model.layers.0.q_proj'), 'model.layers.0.q_proj.weight');
    assert.equal(loraBaseTensorName('model.layers.0.q_proj', new Set(['layers.0.q_proj.weight'])), 'layers.0.q_proj.weight');
    assert.equal(loraBaseTensorName('layers.0.q_proj', new Set(['model.layers.0.q_proj.weight'])), 'model.layers.0.q_proj.weight');
    assert.equal(loraBaseTensorName('layers.0.q_proj', new Set(['other.weight'])), null);
  });

  it('linear, fan_in_fan_out and embedding updates reproduce (alpha/r)·B·A in the base layout', () => {
    const out = 12;
    const inn = 10;
    const A = randoms(r * inn, 1);
    const B = randoms(out * r, 2);
    const tensors: AdapterTensor[] = [
      { name: 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', shape: [r, inn], data: A },
      { name: 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight', shape: [out, r], data: B },
      { name: 'base_model.model.model.layers.0.self_attn.q_proj.bias', shape: [out], data: randoms(out, 3) },
    ];
    const baseNames = new Set(['model.layers.0.self_attn.q_proj.weight']);
    const { updates, others } = loraUpdates(tensors, config, { baseNames });
    assert.deepEqual(others, ['base_model.model.model.layers.0.self_attn.q_proj.bias']);
    assert.equal(updates.length, 1);
    const u = updates[0]!;
    assert.equal(u.tensor, 'model.layers.0.self_attn.q_proj.weight');
    assert.equal(u.scaling, 2);
    assert.deepEqual([u.factors.rows, u.factors.cols, u.factors.rank], [out, inn, r]);
    // Reference: ΔW = (alpha/r)·B·A, out × in.
    const ref = matmul(matrix(out, r, B), matrix(r, inn, A)).data.map((x) => 2 * x);
    closeTo(product(u.factors), ref);
    checkLoraShape(u, [out, inn]);
    badAdapter(() => checkLoraShape(u, [inn, out]), (e) => e.tensor === u.tensor && e.field === 'shape');

    // GPT-2 Conv1D stores W as in × out: ΔW_stored = ΔWᵀ.
    const gpt = parseAdapterConfig({ r, lora_alpha: 8, fan_in_fan_out: true });
    const g = loraUpdates(
      [
        { name: 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight', shape: [r, inn], data: A },
        { name: 'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight', shape: [out, r], data: B },
      ],
      gpt,
    ).updates[0]!;
    assert.equal(g.tensor, 'transformer.h.0.attn.c_attn.weight');
    assert.deepEqual([g.factors.rows, g.factors.cols], [inn, out]);
    const refT = new Float64Array(inn * out);
    for (let i = 0; i < out; i++) for (let j = 0; j < inn; j++) refT[j * out + i] = ref[i * inn + j]!;
    closeTo(product(g.factors), refT);

    // Embedding: A_e r × vocab, B_e dim × r, ΔW (vocab × dim) = scaling·(B_e·A_e)ᵀ.
    const vocab = 9;
    const dim = 6;
    const Ae = randoms(r * vocab, 4);
    const Be = randoms(dim * r, 5);
    const e = loraUpdates(
      [
        { name: 'base_model.model.model.embed_tokens.lora_embedding_A', shape: [r, vocab], data: Ae },
        { name: 'base_model.model.model.embed_tokens.lora_embedding_B', shape: [dim, r], data: Be },
      ],
      config,
    ).updates[0]!;
    assert.equal(e.tensor, 'model.embed_tokens.weight');
    const be = matmul(matrix(dim, r, Be), matrix(r, vocab, Ae)).data;
    const refE = new Float64Array(vocab * dim);
    for (let i = 0; i < dim; i++) for (let j = 0; j < vocab; j++) refE[j * dim + i] = 2 * be[i * vocab + j]!;
    closeTo(product(e.factors), refE);
  });

  it('scaling: rsLoRA alpha/√r; rank_pattern and alpha_pattern per module; lora_alpha defaults to r', () => {
    const mk = (module: string, rank: number): AdapterTensor[] => [
      { name: `base_model.model.${module}.lora_A.weight`, shape: [rank, 3], data: randoms(rank * 3, 6) },
      { name: `base_model.model.${module}.lora_B.weight`, shape: [5, rank], data: randoms(5 * rank, 7) },
    ];
    const rs = loraUpdates(mk('layers.0.q_proj', 4), parseAdapterConfig({ r: 4, lora_alpha: 16, use_rslora: true })).updates[0]!;
    assert.equal(rs.scaling, 8);
    const pat = parseAdapterConfig({ r: 8, lora_alpha: 16, rank_pattern: { q_proj: 2 }, alpha_pattern: { 'layers.1.q_proj': 6 } });
    const { updates } = loraUpdates([...mk('layers.0.q_proj', 2), ...mk('layers.1.q_proj', 2), ...mk('layers.0.v_proj', 8)], pat);
    assert.deepEqual(
      updates.map((u) => [u.module, u.factors.rank, u.scaling]),
      [
        ['layers.0.q_proj', 2, 8],
        ['layers.0.v_proj', 8, 2],
        ['layers.1.q_proj', 2, 3],
      ],
    );
    assert.equal(loraUpdates(mk('m', 4), parseAdapterConfig({ r: 4 })).updates[0]!.scaling, 1);
  });

  it('bad adapters and configs are BAD_ADAPTER naming the tensor or key', () => {
    const A = { name: 'base_model.model.m.lora_A.weight', shape: [4, 3], data: randoms(12, 8) };
    const B = { name: 'base_model.model.m.lora_B.weight', shape: [5, 4], data: randoms(20, 9) };
    badAdapter(() => loraUpdates([A], config), (e) => e.tensor === A.name && /no lora_B/.test(e.message));
    badAdapter(() => loraUpdates([A, B], parseAdapterConfig({ r: 8 })), (e) => e.field === 'shape' && /differs from the configured r = 8/.test(e.message));
    badAdapter(() => loraUpdates([A, B, { name: 'base_model.model.m.lora_magnitude_vector', shape: [5], data: randoms(5, 1) }], config), (e) => /DoRA/.test(e.message));
    badAdapter(() => loraUpdates([A, B], config, { baseNames: new Set(['x.weight']) }), (e) => e.tensor === A.name && /no base tensor/.test(e.message));
    badAdapter(() => loraUpdates([A, A, B], config), (e) => /duplicate/.test(e.message));
    badAdapter(() => loraUpdates([{ ...A, shape: [4, 3, 1] }, B], config), (e) => e.field === 'shape');
    badAdapter(() => loraUpdates([{ ...A, data: A.data.map((x, i) => (i === 2 ? Number.NaN : x)) }, B], config), (e) => /not finite/.test(e.message));
    badAdapter(() => parseAdapterConfig({ r: 4, use_dora: true }, 'adapter_config.json'), (e) => e.field === 'use_dora' && e.file === 'adapter_config.json');
    badAdapter(() => parseAdapterConfig({ peft_type: 'IA3', r: 4 }), (e) => e.field === 'peft_type');
    badAdapter(() => parseAdapterConfig({ r: 0 }), (e) => e.field === 'r');
    badAdapter(() => parseAdapterConfig({ r: 2.5 }), (e) => e.field === 'r');
    badAdapter(() => parseAdapterConfig({ r: 4, lora_alpha: 'x' }), (e) => e.field === 'lora_alpha');
    badAdapter(() => parseAdapterConfig({ r: 4, rank_pattern: { q: -1 } }), (e) => e.field === 'rank_pattern.q');
    badAdapter(() => parseAdapterConfig({ r: 4, target_modules: 3 }), (e) => e.field === 'target_modules');
    badAdapter(() => parseAdapterConfig([]), () => true);
  });
});

/** E = λ·Δ − A·B by naive bigint arithmetic from the quantized layouts. */
function naiveResidual(q: QuantizedFactors, deltaQ: ArrayLike<number>): { max: bigint; sq: bigint; nz: number } {
  const K = 2 ** q.kappa;
  let max = 0n;
  let sq = 0n;
  let nz = 0;
  for (let i = 0; i < q.rows; i++) {
    for (let c = 0; c < q.cols; c++) {
      let e = q.lambda * BigInt(deltaQ[i * q.cols + c]!);
      for (let l = 0; l < K; l++) e -= q.A[i * K + l]! * q.B[l * q.paddedCols + c]!;
      if (e === 0n) continue;
      nz++;
      const a = e < 0n ? -e : e;
      if (a > max) max = a;
      sq += e * e;
    }
  }
  return { max, sq, nz };
}

describe('quantized factors and the exact residual', () => {
  it('layouts: A rows × 2^κ, B 2^κ × paddedCols, padding zero; κ = ⌈log2 rank⌉', () => {
    const rows = 5;
    const cols = 6;
    for (const rank of [1, 2, 3, 4, 5]) {
      const f: RealFactors = { rows, cols, rank, A: randoms(rows * rank, 10 + rank, 4), B: randoms(rank * cols, 20 + rank, 4) };
      const q = quantizeFactors(f, new Float64Array(rows * cols), { fractionalBits: 8, paddedCols: 8 });
      assert.equal(q.kappa, factorRankBits(rank));
      const K = 2 ** q.kappa;
      assert.equal(q.A.length, rows * K);
      assert.equal(q.B.length, K * 8);
      assert.deepEqual([q.factorBitsA, q.factorBitsB, q.lambda], [4, 4, 1n]);
      for (let i = 0; i < rows; i++) {
        for (let l = 0; l < K; l++) assert.equal(q.A[i * K + l], l < rank ? BigInt(roundHalfEven(f.A[i * rank + l]! * 16)) : 0n);
      }
      for (let l = 0; l < K; l++) {
        for (let c = 0; c < 8; c++) assert.equal(q.B[l * 8 + c], l < rank && c < cols ? BigInt(roundHalfEven(f.B[l * cols + c]! * 16)) : 0n);
      }
    }
    assert.equal(quantizeFactors({ rows: 2, cols: 5, rank: 1, A: new Float64Array(2), B: new Float64Array(5) }, new Float64Array(10), { fractionalBits: 8 }).paddedCols, 8);
    assert.throws(() => quantizeFactors({ rows: 2, cols: 5, rank: 1, A: new Float64Array(2), B: new Float64Array(5) }, new Float64Array(10), { fractionalBits: 8, paddedCols: 6 }), /power of two/);
    assert.throws(() => quantizeFactors({ rows: 2, cols: 5, rank: 1, A: new Float64Array(2), B: new Float64Array(5) }, new Float64Array(10), { fractionalBits: 8, factorBitsA: 2, factorBitsB: 3 }), /below s = 8/);
  });

  it('the residual equals a naive bigint computation on the float64 path, near its 2^52 limit, and on the bigint path', () => {
    const rows = 9;
    const cols = 7;
    const rank = 3;
    const deltaQ = randomInts(rows * cols, 30, -5000, 5000);
    const cases: [string, Parameters<typeof quantizeFactors>[2], number][] = [
      ['float64, λ = 1', { fractionalBits: 10 }, 1],
      ['float64, λ = 2^6', { fractionalBits: 10, factorBitsA: 8, factorBitsB: 8 }, 1],
      // |A_int|, |B_int| ≤ 2^23 and λ = 2^32: every partial sum stays below 2^52, the float64 limit.
      ['float64 near the limit', { fractionalBits: 8, factorBitsA: 20, factorBitsB: 20 }, 16],
      // λ = 2^72 and products ≈ 2^80: only bigints are exact.
      ['bigint path', { fractionalBits: 8, factorBitsA: 40, factorBitsB: 40 }, 1],
    ];
    for (const [name, opts, scale] of cases) {
      const f: RealFactors = { rows, cols, rank, A: randoms(rows * rank, 31, scale), B: randoms(rank * cols, 32, scale) };
      const q = quantizeFactors(f, deltaQ, opts);
      const n = naiveResidual(q, deltaQ);
      assert.equal(q.residualMaxAbs, n.max, name);
      assert.equal(q.residualSquaredNorm, n.sq, name);
      assert.equal(q.residualNonzeros, n.nz, name);
    }
  });

  it('Σ E² stays exact past 2^53 (many mid-size entries) and with entries ≥ 2^26', () => {
    const rows = 64;
    const cols = 64;
    const f: RealFactors = { rows, cols, rank: 1, A: new Float64Array(rows), B: new Float64Array(cols) };
    // E = λ·Δ with A = B = 0: entries 2^25 + i (squares ≈ 2^50, 4096 of them ≈ 2^62) and a few 2^30.
    const deltaQ = Float64Array.from({ length: rows * cols }, (_, i) => (i % 97 === 0 ? 2 ** 30 + i : -(2 ** 25) - i));
    const q = quantizeFactors(f, deltaQ, { fractionalBits: 0 });
    let want = 0n;
    for (const d of deltaQ) want += BigInt(d) * BigInt(d);
    assert.equal(q.residualSquaredNorm, want);
    assert.equal(q.residualMaxAbs, BigInt(2 ** 30 + 97 * 42));
  });

  it('SVD factors: exact low-rank integer Δ leaves only rounding residual; zero Δ gives zero factors', () => {
    const rows = 24;
    const cols = 20;
    const U = randomInts(rows * 2, 40, -20, 20);
    const V = randomInts(2 * cols, 41, -20, 20);
    const deltaQ = matmul(matrix(rows, 2, U), matrix(2, cols, V)).data;
    const s = 8;
    const f = factorsFromSvd(deltaQ, rows, cols, 2, { fractionalBits: s });
    const back = product(f).map((x) => x * 2 ** s);
    closeTo(back, deltaQ, 1e-9);
    // With s_a = s_b = s the factors are fine enough that E is a few units of 2^-(s_a+s_b) per
    // unit of Δ: far below λ·|Δ| (= 2^s·|Δ|).
    const q = quantizeFactors(f, deltaQ, { fractionalBits: s, factorBitsA: s, factorBitsB: s });
    const maxDelta = deltaQ.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    assert.ok(Number(q.residualMaxAbs) < 0.01 * 2 ** s * maxDelta, `${q.residualMaxAbs}`);
    const z = lowRankFactorsFromDelta(new Float64Array(rows * cols), rows, cols, 4, { fractionalBits: s });
    assert.ok(z.A.every((x) => x === 0n) && z.B.every((x) => x === 0n));
    assert.deepEqual([z.residualMaxAbs, z.residualSquaredNorm, z.residualNonzeros], [0n, 0n, 0]);
    // Rank above min(rows, cols): the extra columns are zero.
    const wide = factorsFromSvd(deltaQ.slice(0, 3 * cols), 3, cols, 5, { fractionalBits: s });
    for (let i = 0; i < 3; i++) for (let l = 3; l < 5; l++) assert.equal(wide.A[i * 5 + l], 0);
  });

  it('deterministic: the same Δ and options give the same factors, bit for bit; another seed may not', () => {
    const rows = 40;
    const cols = 33;
    const deltaQ = matmul(matrix(rows, 3, randomInts(rows * 3, 50, -9, 9)), matrix(3, cols, randomInts(3 * cols, 51, -9, 9))).data.map((x, i) => x + (i % 5) - 2);
    const a = lowRankFactorsFromDelta(deltaQ, rows, cols, 3, { fractionalBits: 8 });
    const b = lowRankFactorsFromDelta(deltaQ, rows, cols, 3, { fractionalBits: 8 });
    assert.deepEqual(a, b);
    assert.equal(FACTOR_SVD_SEED, 'fti/factors/svd/v1');
    const c = lowRankFactorsFromDelta(deltaQ, rows, cols, 3, { fractionalBits: 8, seed: 'other' });
    assert.equal(c.rank, 3);
  });

  it('factorTile slices whole rows and zero-pads past the tensor end', () => {
    const q = { rows: 6, kappa: 1, A: Array.from({ length: 12 }, (_, i) => BigInt(i + 1)) };
    assert.deepEqual(factorTile(q, 0, 4), [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    assert.deepEqual(factorTile(q, 4, 4), [9n, 10n, 11n, 12n, 0n, 0n, 0n, 0n]);
    assert.throws(() => factorTile(q, 6, 4), /outside/);
    assert.throws(() => factorTile(q, 0, 0), /≥ 1 rows/);
  });
});

describe('end to end with smdp lowrank (devSrs(6), INSECURE): layouts agree', () => {
  const N = 6;
  const { srs } = devSrs(N);
  const ctx = { srs, msm: testMsm };
  // A 6 × 7 tensor: columns pad to 8 (μy = 3), tiles of 4 whole rows (μt = 2), rows 6, 7 padding.
  const rows = 6;
  const cols = 7;
  const muCols = 3;
  const muRows = 2;
  const s = 8;

  /** Δ and base of one tile, padded to 2^μt × 2^μy, in smdp's index row·2^μy + col. */
  function tileOf(values: ArrayLike<number>, rowOffset: number): number[] {
    const out = new Array<number>((1 << muRows) << muCols).fill(0);
    for (let r = 0; r < 1 << muRows; r++) {
      if (rowOffset + r >= rows) break;
      for (let c = 0; c < cols; c++) out[(r << muCols) + c] = values[(rowOffset + r) * cols + c]!;
    }
    return out;
  }

  async function proveTensor(q: QuantizedFactors, deltaQ: Float64Array, baseQ: Float64Array, residual: ResidualSpec): Promise<boolean[]> {
    const cB = await commitFactorB(ctx, q.B, q.kappa, muCols);
    const verdicts: boolean[] = [];
    for (const [blockIndex, rowOffset] of [0, 4].entries()) {
      const base = tileOf(baseQ, rowOffset);
      const input: BlockInput = {
        srsId: srs.id,
        job: 'factors-e2e',
        tensor: 'layers.0.q_proj.weight',
        blockIndex,
        tensorShape: [rows, cols],
        tile: { rowOffset, colOffset: 0, muRows, muCols },
        fractionalBits: s,
        drift: { class: 'lowrank', rank: q.rank, factorBitsA: q.factorBitsA, factorBitsB: q.factorBitsB, residual },
        cBase: await commitSmall(ctx, base),
      };
      const delta = tileOf(deltaQ, rowOffset).map(BigInt);
      const { statement, proof } = await proveLowRank(ctx, input, delta, { A: factorTile(q, rowOffset, 1 << muRows), B: q.B, cB });
      const chk = verifyLowRank(N, statement, proof);
      verdicts.push(chk.valid && chk.accumulator !== null && pairingCheck(srs, chk.accumulator.evaluate()) && chk.summary.factorCommitment?.equals(cB) === true);
    }
    return verdicts;
  }

  const baseQ = randomInts(rows * cols, 60, -300, 300);
  // Rank-3 integer update plus ±1 noise: the residual is non-zero.
  const lowRankQ = matmul(matrix(rows, 3, randomInts(rows * 3, 61, -4, 4)), matrix(3, cols, randomInts(3 * cols, 62, -4, 4))).data;
  const noisyQ = lowRankQ.map((x, i) => x + ((i * 7) % 3) - 1);

  it('SVD factors (rank 3, one padding row of B) verify with residual linf = the computed max |E|; one less is refused', async () => {
    const q = lowRankFactorsFromDelta(noisyQ, rows, cols, 3, { fractionalBits: s, paddedCols: 1 << muCols });
    assert.deepEqual([q.kappa, q.factorBitsA, q.factorBitsB, q.lambda], [2, 4, 4, 1n]);
    assert.ok(q.residualMaxAbs > 0n);
    assert.deepEqual(await proveTensor(q, noisyQ, baseQ, { kind: 'linf', maxAbs: q.residualMaxAbs }), [true, true]);
    assert.deepEqual(await proveTensor(q, noisyQ, baseQ, { kind: 'l2', maxSquaredNorm: q.residualSquaredNorm }), [true, true]);
    await assert.rejects(proveTensor(q, noisyQ, baseQ, { kind: 'linf', maxAbs: q.residualMaxAbs - 1n }), (e: unknown) => e instanceof DriftPolicyViolation && e.check === 'lowrank.residual');
  });

  it('adapter factors that are exact (E = 0) verify with residual none', async () => {
    const { factorBitsA, factorBitsB } = defaultFactorBits(s);
    // Integer factors scaled into real units: A_int·B_int = λ·Δ_q exactly.
    const Ai = randomInts(rows * 2, 63, -3, 3);
    const Bi = randomInts(2 * cols, 64, -3, 3);
    const deltaQ = matmul(matrix(rows, 2, Ai), matrix(2, cols, Bi)).data;
    const f: RealFactors = { rows, cols, rank: 2, A: Ai.map((x) => x * 2 ** -factorBitsA), B: Bi.map((x) => x * 2 ** -factorBitsB) };
    const q = quantizeFactors(f, deltaQ, { fractionalBits: s, paddedCols: 1 << muCols });
    assert.deepEqual([q.residualMaxAbs, q.residualSquaredNorm], [0n, 0n]);
    assert.deepEqual(await proveTensor(q, deltaQ, baseQ, { kind: 'none' }), [true, true]);
    await assert.rejects(proveTensor(q, noisyQ, baseQ, { kind: 'none' }), (e: unknown) => e instanceof DriftPolicyViolation && e.check === 'lowrank.residual');
  });
});
