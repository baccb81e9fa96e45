// Hidden-sparse proving units (classes/sparse-unit.ts): several blocks of one tensor with one
// lockstep zerocheck and one batched opening. Honest units verify and equal the JS reference;
// the prover refuses a block over k, naming it; forgeries are rejected: a dense block, k'
// under-reported (alone or compensated by another block), an evaluation changed, selectors
// swapped, statements reordered or moved, flipped bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BlockInput } from '../smdp/classes/norm.ts';
import type { UnitCheck } from '../smdp/classes/norm-unit.ts';
import { decodeSparseHiddenUnitProof, encodeSparseHiddenUnitProof, proveSparseHiddenUnit, verifySparseHiddenUnit, type SparseHiddenUnitProof } from '../smdp/classes/sparse-unit.ts';
import { DriftPolicyViolation } from '../smdp/errors.ts';
import { Fr } from '../smdp/field.ts';
import { jsMsmBackend } from '../smdp/msm.ts';
import { commitSmall } from '../smdp/pst.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';
import type { BlockStatement } from '../smdp/statement.ts';
import { testMsm } from './backend.ts';
import { assertFlippedBytesRejected, unitAccepted } from './unit-checks.ts';

const { srs } = devSrs(6);
const ctx = { srs, msm: testMsm };
const MU = 4;
const n = 1 << MU;

/** Block t: nonzeros at t, t + 5 (and t + 9 for t = 2). */
const deltaOf = (t: number): bigint[] => Array.from({ length: n }, (_, i) => (i === t ? 7n : i === t + 5 ? -3n : t === 2 && i === t + 9 ? 100n : 0n));

async function inputs(T = 3, k = 3): Promise<BlockInput[]> {
  const out: BlockInput[] = [];
  for (let t = 0; t < T; t++) {
    out.push({
      srsId: srs.id,
      job: 'job-sparse-units',
      tensor: 'layers.0.bias.weight',
      blockIndex: t,
      tensorShape: [4 * T, 4],
      tile: { rowOffset: 4 * t, colOffset: 0, muRows: 2, muCols: 2 },
      fractionalBits: 24,
      drift: { class: 'sparse', reveal: false, maxNonzeros: k },
      cBase: await commitSmall(ctx, Array.from({ length: n }, (_, i) => (i * 31 + t) % 97)),
    });
  }
  return out;
}

const accepts = (chk: UnitCheck): boolean => unitAccepted(srs, chk);

describe('hidden-sparse proving units', () => {
  it('an honest unit verifies, reports k′ per block, round-trips, and equals the JS reference', async () => {
    const ins = await inputs();
    const { statements, proof } = await proveSparseHiddenUnit(ctx, ins, [0, 1, 2].map(deltaOf));
    const chk = verifySparseHiddenUnit(srs.N, statements, proof);
    assert.ok(accepts(chk));
    if (chk.valid) assert.deepEqual(chk.summaries.map((s) => s.nonzeros), [2, 2, 3]);
    const bytes = encodeSparseHiddenUnitProof(proof);
    assert.deepEqual(encodeSparseHiddenUnitProof(decodeSparseHiddenUnitProof(bytes)), bytes);
    const js = await proveSparseHiddenUnit({ srs, msm: jsMsmBackend }, ins, [0, 1, 2].map(deltaOf));
    assert.deepEqual(encodeSparseHiddenUnitProof(js.proof), bytes);
    assert.equal(proof.quotients.length, MU);
  });

  it('the prover refuses a block with more than k changes, naming it', async () => {
    const ds = [0, 1, 2].map(deltaOf);
    await assert.rejects(proveSparseHiddenUnit(ctx, await inputs(3, 2), ds), (e: unknown) => e instanceof DriftPolicyViolation && /block 2 of/.test(e.message) && e.block === 2 && e.check === 'sparse.nonzeros');
  });

  it('forgeries are rejected: dense block, k′ under-reported or compensated, evaluations, selectors swapped, statements reordered or moved, flipped bytes', async () => {
    const { statements, proof } = await proveSparseHiddenUnit(ctx, await inputs(), [0, 1, 2].map(deltaOf));
    const rej = (sts: readonly BlockStatement[], p: SparseHiddenUnitProof, what: string): void => assert.ok(!accepts(verifySparseHiddenUnit(srs.N, sts, p)), what);
    const dense = await commitSmall(ctx, Array.from({ length: n }, (_, i) => i + 1));
    rej(statements.map((s, t) => (t === 1 ? { ...s, cFt: s.cBase.add(dense) } : s)), proof, 'dense block');
    rej(statements, { ...proof, claimedNonzeros: [2, 1, 3] }, "k' under-reported");
    rej(statements, { ...proof, claimedNonzeros: [3, 1, 3] }, "k' compensated");
    rej(statements, { ...proof, deltaEvals: proof.deltaEvals.map((x, t) => (t === 1 ? Fr.add(x, 1n) : x)) }, 'Δ(ρ)');
    rej(statements, { ...proof, selectorEvals: proof.selectorEvals.map((x, t) => (t === 0 ? Fr.add(x, 1n) : x)) }, 's(ρ)');
    rej(statements, { ...proof, selectorCommitments: [proof.selectorCommitments[1]!, proof.selectorCommitments[0]!, proof.selectorCommitments[2]!] }, 'selectors swapped');
    rej([statements[2]!, statements[1]!, statements[0]!], proof, 'reordered');
    rej(statements.map((s) => ({ ...s, job: 'job-other' })), proof, 'other job');
    assertFlippedBytesRejected(encodeSparseHiddenUnitProof(proof), 61, (b) => accepts(verifySparseHiddenUnit(srs.N, statements, decodeSparseHiddenUnitProof(b))));
  });
});
