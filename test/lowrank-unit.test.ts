// Lowrank proving units (classes/lowrank-unit.ts): several tiles of one low-rank tensor with
// one lockstep residual sumcheck and three openings for the unit. Honest units verify (pairing
// included) for every residual kind and match the JS reference byte for byte; the prover
// refuses a tile outside the class, naming it; forgeries are rejected: a dense update with
// fabricated a, b for one tile, a non-zero padding row of B, S_E under-reported, a tile's a or
// Δ(ρ) changed, C_A swapped, statements reordered or moved, flipped bytes; a certificate of
// lowrank units verifies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pairingCheck } from '../smdp/accumulator.ts';
import { aggregateBlocks, recordStatements } from '../smdp/aggregate.ts';
import { decodeLowRankUnitProof, encodeLowRankUnitProof, proveLowRankUnit, verifyLowRankUnit, type LowRankUnitProof } from '../smdp/classes/lowrank-unit.ts';
import { commitFactorB, factorRankBits } from '../smdp/classes/lowrank.ts';
import type { BlockInput } from '../smdp/classes/norm.ts';
import type { UnitCheck } from '../smdp/classes/norm-unit.ts';
import { DriftPolicyViolation } from '../smdp/errors.ts';
import { Fr, G1 } from '../smdp/field.ts';
import { jsMsmBackend } from '../smdp/msm.ts';
import { commitSmall } from '../smdp/pst.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';
import type { BlockStatement, ResidualSpec } from '../smdp/statement.ts';
import { testMsm } from './backend.ts';
import { assertFlippedBytesRejected, unitAccepted } from './unit-checks.ts';

const { srs } = devSrs(6);
const ctx = { srs, msm: testMsm };
const TENSOR = 'layers.0.q_proj.weight';
const MU_ROWS = 2;
const MU_COLS = 3;
const ROWS = 1 << MU_ROWS;
const COLS = 1 << MU_COLS;

/** Seeded integers in [lo, hi]. */
function ints(seed: number, n: number, lo: number, hi: number): bigint[] {
  let a = seed >>> 0;
  return Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return BigInt(lo + (a % (hi - lo + 1)));
  });
}

interface Unit {
  readonly inputs: BlockInput[];
  readonly deltas: bigint[][];
  readonly factors: { A: bigint[]; B: bigint[]; cB: ReturnType<typeof G1.BASE.multiply> }[];
}

/** T tiles (4 × 8 each) of a rank-3 tensor, λ = 1 (s_a = s_b = 4, s = 8), Δ_t = A_t·B + noise_t. */
async function unit(residual: ResidualSpec, T = 3, noise = (_t: number, _i: number): bigint => 0n): Promise<Unit> {
  const rank = 3; // κ = 2: K = 4, row 3 of B is padding
  const K = 1 << factorRankBits(rank);
  const B = ints(7, K * COLS, -3, 3).map((x, i) => (Math.floor(i / COLS) < rank ? x : 0n));
  const cB = await commitFactorB(ctx, B, factorRankBits(rank), MU_COLS);
  const inputs: BlockInput[] = [];
  const deltas: bigint[][] = [];
  const factors: Unit['factors'] = [];
  for (let t = 0; t < T; t++) {
    const A = ints(100 + t, ROWS * K, -3, 3).map((x, i) => (i % K < rank ? x : 0n));
    const delta: bigint[] = [];
    for (let r = 0; r < ROWS; r++) for (let c = 0; c < COLS; c++) {
      let s = 0n;
      for (let l = 0; l < K; l++) s += A[r * K + l]! * B[l * COLS + c]!;
      delta.push(s + noise(t, r * COLS + c));
    }
    inputs.push({
      srsId: srs.id,
      job: 'job-lr-units',
      tensor: TENSOR,
      blockIndex: t,
      tensorShape: [ROWS * T, COLS],
      tile: { rowOffset: t * ROWS, colOffset: 0, muRows: MU_ROWS, muCols: MU_COLS },
      fractionalBits: 8,
      drift: { class: 'lowrank', rank, factorBitsA: 4, factorBitsB: 4, residual },
      cBase: await commitSmall(ctx, ints(200 + t, ROWS * COLS, -1000, 1000).map(Number)),
    });
    deltas.push(delta);
    factors.push({ A, B, cB });
  }
  return { inputs, deltas, factors };
}

const accepts = (chk: UnitCheck): boolean => unitAccepted(srs, chk);

const noise = (t: number, i: number): bigint => BigInt(((t * 7 + i * 3) % 5) - 2); // |E| ≤ 2, Σ E² ≤ 4·32
const RESIDUALS: [string, ResidualSpec, (t: number, i: number) => bigint][] = [
  ['none', { kind: 'none' }, () => 0n],
  ['linf', { kind: 'linf', maxAbs: 2n }, noise],
  ['l2', { kind: 'l2', maxSquaredNorm: 200n }, noise],
];

describe('lowrank proving units', () => {
  for (const [name, residual, nz] of RESIDUALS) {
    it(`residual ${name}: an honest unit verifies, round-trips, and equals the JS reference byte for byte`, async () => {
      const u = await unit(residual, 3, nz);
      const { statements, proof } = await proveLowRankUnit(ctx, u.inputs, u.deltas, u.factors);
      const chk = verifyLowRankUnit(srs.N, statements, proof);
      assert.ok(accepts(chk), chk.valid ? 'pairing' : chk.reason);
      if (chk.valid) assert.equal(chk.summaries.length, 3);
      const bytes = encodeLowRankUnitProof(proof);
      assert.deepEqual(encodeLowRankUnitProof(decodeLowRankUnitProof(bytes)), bytes);
      const js = await proveLowRankUnit({ srs, msm: jsMsmBackend }, u.inputs, u.deltas, u.factors);
      assert.deepEqual(encodeLowRankUnitProof(js.proof), bytes);
      // One Δ opening for the unit: μ quotients, not T·μ.
      assert.equal(proof.quotientsDelta.length, MU_ROWS + MU_COLS);
    });
  }

  it('the prover refuses a tile whose residual is over the bound, naming the tile', async () => {
    const u = await unit({ kind: 'linf', maxAbs: 2n }, 3, (t, i) => (t === 2 && i === 5 ? 3n : 0n));
    await assert.rejects(proveLowRankUnit(ctx, u.inputs, u.deltas, u.factors), (e: unknown) => e instanceof DriftPolicyViolation && e.block === 2 && e.check === 'lowrank.residual');
  });

  it('forgeries are rejected: fabricated a/b for a dense tile, a, Δ(ρ), C_A swapped, S_E, padding b, statements reordered or moved, flipped bytes', async () => {
    const u = await unit({ kind: 'l2', maxSquaredNorm: 200n }, 3, noise);
    const { statements, proof } = await proveLowRankUnit(ctx, u.inputs, u.deltas, u.factors);
    const rej = (sts: readonly BlockStatement[], p: LowRankUnitProof, what: string): void => assert.ok(!accepts(verifyLowRankUnit(srs.N, sts, p)), what);
    // A dense tile 1 (Δ not A·B + small E) with the honest proof of the others: C_ft of tile 1
    // changed to a dense update's commitment; the claimed values cannot follow.
    const dense = ints(999, ROWS * COLS, -500, 500);
    const cDense = await commitSmall(ctx, dense.map(Number));
    rej(statements.map((s, t) => (t === 1 ? { ...s, cFt: s.cBase.add(cDense) } : s)), proof, 'dense tile');
    const a = proof.a.map((at, t) => (t === 1 ? at.map((x, l) => (l === 0 ? Fr.add(x, 1n) : x)) : at));
    rej(statements, { ...proof, a }, 'a changed');
    rej(statements, { ...proof, deltaAtPoint: proof.deltaAtPoint.map((x, t) => (t === 2 ? Fr.add(x, 1n) : x)) }, 'Δ(ρ) changed');
    rej(statements, { ...proof, cA: [proof.cA[1]!, proof.cA[0]!, proof.cA[2]!] }, 'C_A swapped');
    rej(statements, { ...proof, b: proof.b.map((x, l) => (l === 3 ? 1n : x)) }, 'padding b_3 ≠ 0');
    const tiles = proof.residual!.tiles.map((tp, t) => (t === 0 ? { ...tp, squaredNorm: tp.squaredNorm! - 1n } : tp));
    rej(statements, { ...proof, residual: { ...proof.residual!, tiles } }, 'S_E under-reported');
    rej([statements[1]!, statements[0]!, statements[2]!], proof, 'reordered');
    rej(statements.map((s) => ({ ...s, job: 'job-other' })), proof, 'other job');
    rej(statements, { ...proof, cB: proof.cB.add(G1.BASE) }, 'another C_B');
    assertFlippedBytesRejected(encodeLowRankUnitProof(proof), 61, (b) => accepts(verifyLowRankUnit(srs.N, statements, decodeLowRankUnitProof(b))));
  });

  it('a certificate of lowrank units aggregates, and its pairing holds', async () => {
    const u = await unit({ kind: 'linf', maxAbs: 2n }, 5, noise);
    const first = await proveLowRankUnit(ctx, u.inputs.slice(0, 3), u.deltas.slice(0, 3), u.factors.slice(0, 3));
    const second = await proveLowRankUnit(ctx, u.inputs.slice(3), u.deltas.slice(3), u.factors.slice(3));
    const recs = [
      { statements: first.statements, proofBytes: encodeLowRankUnitProof(first.proof) },
      { statements: second.statements, proofBytes: encodeLowRankUnitProof(second.proof) },
    ];
    const agg = aggregateBlocks(srs, recs);
    assert.ok(agg.ok, agg.ok ? '' : agg.failing.reason);
    if (agg.ok) {
      assert.ok(pairingCheck(srs, agg.accumulator));
      assert.equal(agg.tensors[0]?.blocks, 5);
      assert.ok(agg.tensors[0]?.factorCommitment?.equals(u.factors[0]!.cB));
    }
    assert.deepEqual(recs.map((r) => recordStatements(r).length), [3, 2]);
  });
});
