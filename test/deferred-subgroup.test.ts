/**
 * Deferred subgroup checks (smdp/README.md): a block proof's points are decoded as points of
 * E(Fp) (`decodeProofG1`, no G1 membership test); statement points keep the full check; the
 * pairing check tests every accumulator point for G1 membership first. These tests show each
 * half can reject, on the backend FTI_BACKEND selects (and the native one against JS where
 * the addon is built):
 *   - `decodeG1` rejects points of E(Fp) outside G1, `decodeProofG1` returns them unchanged;
 *     byte and curve errors are the same in both modes;
 *   - a quotient with an order-3 component added passes every non-pairing check and leaves
 *     the G1 part of the accumulator exactly the honest one (the pairing equation alone would
 *     accept it), and is rejected by the G1 test of `pairingCheck`, alone and in a certificate
 *     (the failing block named);
 *   - prefetched decoding never answers a checked request with an unchecked point.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { pairingCheck } from '../smdp/accumulator.ts';
import { aggregateBlocks, locatePairingFailures } from '../smdp/aggregate.ts';
import { decodeNormProof, encodeNormProof, proveNormBound, verifyNormBound, type BlockInput } from '../smdp/classes/norm.ts';
import { curveOps, jsCurveOps, withPrefetchedG1 } from '../smdp/curve-ops.ts';
import { decodeG1, decodeProofG1, encodeG1 } from '../smdp/encoding.ts';
import { SmdpError } from '../smdp/errors.ts';
import { G1, type G1Point } from '../smdp/field.ts';
import { commitSmall, type ProverContext } from '../smdp/pst.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';
import type { Srs } from '../smdp/srs.ts';
import type { DriftSpec } from '../smdp/statement.ts';
import { loadAddon } from '../native/loader.ts';
import { nativeCurveOps } from '../native/backend.ts';
import { testMsm } from './backend.ts';
import { curvePointsBySmallX } from './curve-points.ts';

/** (0, 2): x³ + 4 = 4, an inflection point of y² = x³ + 4, of order 3 — never in G1. */
const T3 = G1.fromAffine({ x: 0n, y: 2n });

/** A point of E(Fp) outside G1 with a large-order cofactor component (smallest such x). */
function offSubgroupPoint(): G1Point {
  for (const { x, y } of curvePointsBySmallX(1000n)) {
    const p = G1.fromAffine({ x, y });
    if (!p.isTorsionFree()) return p;
  }
  throw new Error('no off-subgroup point with x < 1000');
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof SmdpError) return `${e.code} ${e.message}`;
    throw e;
  }
  return 'ok';
}

const loaded = loadAddon();
const native = 'addon' in loaded ? nativeCurveOps(loaded.addon) : null;

describe('decoding: statement points checked, proof points deferred', () => {
  const off = offSubgroupPoint();
  const cases: [string, G1Point][] = [
    ['(0, 2), order 3', T3],
    ['(0, −2), order 3', T3.negate()],
    ['a point with a large cofactor component', off],
    ['that point plus a G1 point', off.add(G1.BASE.multiply(12345n))],
  ];
  for (const [what, p] of cases) {
    it(`${what}: decodeG1 rejects (NOT_IN_SUBGROUP), decodeProofG1 returns the point`, () => {
      const bytes = encodeG1(p);
      assert.equal(p.isTorsionFree(), false, 'the fixture is outside G1');
      assert.throws(() => decodeG1(bytes, 'st.cFt'), (e: unknown) => e instanceof SmdpError && e.code === 'NOT_IN_SUBGROUP' && e.field === 'st.cFt');
      assert.ok(decodeProofG1(bytes, 'proof.q').equals(p));
      for (const ops of native === null ? [jsCurveOps] : [jsCurveOps, native]) {
        assert.ok(ops.decodeG1(bytes, 'q', false).equals(p), `${ops.name}: unchecked decode`);
        assert.ok(ops.decodeG1s([bytes, encodeG1(G1.BASE)], ['a', 'b'], false)[0]!.equals(p), `${ops.name}: unchecked batch`);
        assert.match(codeOf(() => ops.decodeG1(bytes, 'q')), /^NOT_IN_SUBGROUP/, `${ops.name}: checked decode`);
      }
    });
  }

  it('byte and curve errors are the same with and without the subgroup test, on every backend', () => {
    const good = encodeG1(G1.BASE.multiply(99n));
    const noFlag = good.slice();
    noFlag[0] = noFlag[0]! & 0x7f;
    const offCurve = new Uint8Array(48);
    offCurve[0] = 0x80;
    offCurve[47] = 1; // x = 1: 1 + 4 = 5 is not a square mod p
    const bad = [good.subarray(1), noFlag, offCurve, Uint8Array.from([0xc0, ...new Array<number>(46).fill(0), 1])];
    for (const b of bad) {
      const checked = codeOf(() => jsCurveOps.decodeG1(b, 'p'));
      assert.notEqual(checked, 'ok');
      for (const ops of native === null ? [jsCurveOps] : [jsCurveOps, native]) {
        assert.equal(codeOf(() => ops.decodeG1(b, 'p', false)), checked, `${ops.name}`);
        assert.equal(codeOf(() => ops.decodeG1(b, 'p')), checked, `${ops.name}`);
      }
    }
  });

  it('withPrefetchedG1 caches the two modes apart: a checked request never gets an unchecked point', () => {
    const bytes = encodeG1(offSubgroupPoint());
    // The scan announces the encoding as a proof point; the real pass asks for it both ways.
    const run = (): string => codeOf(() => decodeG1(bytes, 'st.cFt'));
    const out = withPrefetchedG1(
      () => void decodeProofG1(bytes, 'p'),
      () => ({ proof: decodeProofG1(bytes, 'p'), statement: run() }),
    );
    assert.ok(!out.proof.isTorsionFree());
    assert.match(out.statement, /^NOT_IN_SUBGROUP/);
    // And the other way round: announced checked (fails the batch), asked unchecked (decodes).
    const back = withPrefetchedG1(
      () => void decodeG1(bytes, 'st.cFt'),
      () => decodeProofG1(bytes, 'p'),
    );
    assert.ok(back.equals(decodeProofG1(bytes, 'p')));
  });
});

describe('the G1 test of pairingCheck rejects what the pairing equation alone would not', () => {
  const N = 6;
  let srs: Srs;
  let ctx: ProverContext;
  const drift: DriftSpec = { class: 'norm', maxSquaredNorm: 400n };
  const input = async (blockIndex: number): Promise<BlockInput> => ({
    srsId: srs.id,
    job: 'job-deferred',
    tensor: 'layers.0.attn.q.weight',
    blockIndex,
    tensorShape: [8, 4],
    tile: { rowOffset: 4 * blockIndex, colOffset: 0, muRows: 2, muCols: 2 },
    fractionalBits: 24,
    drift,
    cBase: await commitSmall(ctx, Array.from({ length: 16 }, (_, i) => ((i * 7919 + blockIndex) % 2001) - 1000)),
  });
  const delta = (b: number): bigint[] => Array.from({ length: 16 }, (_, i) => BigInt(((i * 37 + b) % 9) - 4));
  before(() => {
    srs = devSrs(N).srs;
    ctx = { srs, msm: testMsm };
  });

  it('a quotient plus an order-3 point: non-pairing checks pass, the G1 part is honest, pairingCheck rejects', async () => {
    const { statement, proof } = await proveNormBound(ctx, await input(0), delta(0));
    const quotients = [...proof.quotients];
    quotients[1] = quotients[1]!.add(T3);
    const bytes = encodeNormProof({ ...proof, quotients });
    const decoded = decodeNormProof(bytes);
    assert.ok(!decoded.quotients[1]!.isTorsionFree(), 'the tampered quotient decodes, outside G1');
    const honest = verifyNormBound(srs.N, statement, proof);
    const check = verifyNormBound(srs.N, statement, decoded);
    assert.ok(honest.valid && honest.accumulator !== null && check.valid && check.accumulator !== null, 'quotients are absorbed after ρ: the non-pairing checks pass');
    assert.ok(pairingCheck(srs, honest.accumulator.evaluate()), 'the honest block passes');
    const acc = check.accumulator.evaluate();
    // The accumulator is the honest one plus a multiple of T3 in the quotient's slots: its G1
    // part (what a pairing of the projection would see) is exactly the honest accumulator.
    const torsion = acc.map((p, j) => p.subtract(honest.accumulator!.evaluate()[j]!));
    assert.ok(torsion.some((t) => !t.is0()), 'the tampering shows in the accumulator');
    assert.ok(torsion.every((t) => t.is0() || t.multiply(3n).is0()), 'and only as order-3 components');
    assert.equal(pairingCheck(srs, acc), false, 'rejected: an accumulator point is outside G1');
    for (const ops of native === null ? [] : [jsCurveOps, native]) assert.equal(ops.pairingCheck(srs, acc), false, `${ops.name}: rejected`);
    assert.equal(curveOps().pairingCheck(srs, honest.accumulator.evaluate()), true);
  });

  it('in a certificate: aggregation folds it, the final pairing rejects, the block is named', async () => {
    const blocks = [];
    for (let b = 0; b < 2; b++) {
      const { statement, proof } = await proveNormBound(ctx, await input(b), delta(b));
      blocks.push({ statement, proofBytes: encodeNormProof(proof) });
    }
    const honest = aggregateBlocks(srs, blocks);
    assert.ok(honest.ok && pairingCheck(srs, honest.accumulator), 'the honest pair verifies');
    const p = decodeNormProof(blocks[1]!.proofBytes);
    const quotients = [...p.quotients];
    quotients[0] = quotients[0]!.add(T3.negate());
    const tampered = [blocks[0]!, { statement: blocks[1]!.statement, proofBytes: encodeNormProof({ ...p, quotients }) }];
    const r = aggregateBlocks(srs, tampered);
    assert.ok(r.ok, 'every non-pairing check passes');
    assert.equal(pairingCheck(srs, r.accumulator), false, 'the root accumulator is outside G1');
    assert.deepEqual(locatePairingFailures(srs, tampered), [1]);
  });
});
