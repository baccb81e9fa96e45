// norm / linf: honest proofs verify (pairing included); the prover refuses out-of-class
// blocks; forged proofs (moved, altered statements, non-boolean bits, under-reported S,
// flipped bytes) are rejected.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { pairingCheck } from '../smdp/accumulator.ts';
import { decodeNormProof, encodeNormProof, proveNormBound, verifyNormBound, type BlockInput, type NormProof } from '../smdp/classes/norm.ts';
import { commitRange, impliedCommitment, impliedCommitmentMatches, rangeWeights, decomposeInRange } from '../smdp/classes/range.ts';
import type { BlockCheck } from '../smdp/classes/common.ts';
import { DriftPolicyViolation, SmdpError } from '../smdp/errors.ts';
import { Fr, G1, type G1Point } from '../smdp/field.ts';
import { eqTable } from '../smdp/mle.ts';
import { testMsm } from './backend.ts';
import { combineVectors, commitField, commitSmall, openAt, type ProverContext } from '../smdp/pst.ts';
import type { Srs } from '../smdp/srs.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';
import { statementTranscript, type BlockStatement, type DriftSpec } from '../smdp/statement.ts';
import { proveSumcheck } from '../smdp/sumcheck.ts';

let srs: Srs;
let ctx: ProverContext;
before(() => {
  srs = devSrs(6).srs;
  ctx = { srs, msm: testMsm };
});

const MU = 4;
const base = Array.from({ length: 1 << MU }, (_, i) => ((i * 7919) % 2001) - 1000);
const delta = Array.from({ length: 1 << MU }, (_, i) => BigInt(((i * 37) % 13) - 6)); // |Δ| ≤ 6, ΣΔ² = 252

async function input(drift: DriftSpec, over: Partial<BlockInput> = {}): Promise<BlockInput> {
  return {
    srsId: srs.id,
    job: 'job-1',
    tensor: 'layers.0.mlp.up.weight',
    blockIndex: 0,
    tensorShape: [4, 4],
    tile: { rowOffset: 0, colOffset: 0, muRows: 2, muCols: 2 },
    fractionalBits: 24,
    drift,
    cBase: await commitSmall(ctx, base),
    ...over,
  };
}

function accepts(chk: BlockCheck): boolean {
  return chk.valid && (chk.accumulator === null || pairingCheck(srs, chk.accumulator.evaluate()));
}

function rejectsBytes(st: BlockStatement, bytes: Uint8Array): boolean {
  try {
    return !accepts(verifyNormBound(srs.N, st, decodeNormProof(bytes)));
  } catch (e) {
    if (e instanceof SmdpError) return true;
    throw e;
  }
}

const l2: DriftSpec = { class: 'norm', maxSquaredNorm: 300n };
const linf: DriftSpec = { class: 'linf', maxAbs: 6n };

describe('norm and linf blocks', () => {
  for (const drift of [l2, linf]) {
    it(`${drift.class}: honest proof verifies, C_ft = C(base + Δ), round-trips`, async () => {
      const { statement, proof } = await proveNormBound(ctx, await input(drift), delta);
      const ft = base.map((b, i) => b + Number(delta[i]));
      assert.ok(statement.cFt.equals(await commitSmall(ctx, ft)));
      const again = decodeNormProof(encodeNormProof(proof));
      const chk = verifyNormBound(srs.N, statement, again);
      assert.ok(accepts(chk));
      if (drift.class === 'norm') assert.equal(chk.valid && chk.summary.squaredNorm, 252n);
    });

    it(`${drift.class}: a proof moved to another block, tensor or job, or an edited statement, is rejected`, async () => {
      const { statement, proof } = await proveNormBound(ctx, await input(drift), delta);
      const edits: Partial<BlockStatement>[] = [
        { blockIndex: 1 },
        { tensor: 'layers.1.mlp.up.weight' },
        { job: 'job-2' },
        { srsId: '00'.repeat(32) },
        { fractionalBits: 23 },
        { tensorShape: [2, 8] },
        { cFt: statement.cFt.add(G1.BASE) },
        { cBase: statement.cBase.add(G1.BASE) },
        { drift: drift.class === 'norm' ? { class: 'norm', maxSquaredNorm: 299n } : { class: 'linf', maxAbs: 7n } },
        { drift: drift.class === 'norm' ? { class: 'linf', maxAbs: 17n } : { class: 'norm', maxSquaredNorm: 36n } },
      ];
      for (const e of edits) assert.ok(!accepts(verifyNormBound(srs.N, { ...statement, ...e }, proof)), JSON.stringify(Object.keys(e)));
    });

    it(`${drift.class}: flipped bytes anywhere are rejected`, async () => {
      const { statement, proof } = await proveNormBound(ctx, await input(drift), delta);
      const bytes = encodeNormProof(proof);
      for (let pos = 0; pos < bytes.length; pos += 7) {
        const b = bytes.slice();
        b[pos] = b[pos]! ^ (1 << pos % 8);
        assert.ok(rejectsBytes(statement, b), `byte ${pos}`);
      }
    });
  }

  it('the prover refuses out-of-class blocks with measured value and bound', async () => {
    await assert.rejects(proveNormBound(ctx, await input({ class: 'norm', maxSquaredNorm: 251n }), delta), (e: unknown) => {
      assert.ok(e instanceof DriftPolicyViolation);
      assert.match(e.message, /252/);
      assert.match(e.message, /251/);
      return true;
    });
    await assert.rejects(proveNormBound(ctx, await input({ class: 'linf', maxAbs: 5n }), delta), (e: unknown) => {
      assert.ok(e instanceof DriftPolicyViolation);
      assert.match(e.message, /measured \|Δ\[\d+\]\| = 6, bound 5/);
      return true;
    });
  });

  it('linf with bound 0 proves an unchanged block and rejects any change', async () => {
    const zero = delta.map(() => 0n);
    const { statement, proof } = await proveNormBound(ctx, await input({ class: 'linf', maxAbs: 0n }), zero);
    assert.ok(statement.cFt.equals(statement.cBase));
    assert.ok(accepts(verifyNormBound(srs.N, statement, decodeNormProof(encodeNormProof(proof)))));
    assert.ok(!accepts(verifyNormBound(srs.N, { ...statement, cFt: statement.cFt.add(G1.BASE) }, proof)));
    await assert.rejects(proveNormBound(ctx, await input({ class: 'linf', maxAbs: 0n }), delta), DriftPolicyViolation);
  });

  it('range weights represent exactly [0, 2B]', () => {
    for (const B of [1n, 2n, 3n, 5n, 6n, 7n, 8n, 100n]) {
      const w = rangeWeights(B);
      const max = w.reduce((a, b) => a + b, 0n);
      assert.equal(max, 2n * B, `B = ${B}`);
      for (let x = 0n; x <= 2n * B; x++) {
        const bits = decomposeInRange(x, w);
        assert.equal(bits.reduce((a, b, j) => a + BigInt(b) * w[j]!, 0n), x);
      }
    }
  });

  it("commitRange's bit vectors are decomposeInRange's, on both sides of the 32-bit fast path", async () => {
    for (const B of [1n, 6n, 1000n, (1n << 30n) - 1n, 1n << 30n, (1n << 31n) + 5n, (1n << 40n) + 3n]) {
      const n = 16;
      const deltas = Array.from({ length: n }, (_, i) => (i === 0 ? B : i === 1 ? -B : ((BigInt(i) * 0x9e3779b97f4a7c15n) % (2n * B + 1n)) - B));
      const wit = await commitRange(ctx, deltas, B);
      const w = rangeWeights(B);
      deltas.forEach((d, i) => {
        const expected = decomposeInRange(d + B, w);
        assert.deepEqual(wit.bits.map((b) => b[i]), expected, `B = ${B}, Δ = ${d}`);
      });
    }
  });

  /**
   * A hand-run prover with a dishonest witness: `bits` are given directly (possibly
   * non-boolean field values) and S is whatever the forger claims.
   */
  async function forge(drift: DriftSpec, bitVectors: bigint[][], claimedS: bigint | null, shift: G1Point = G1.ZERO): Promise<{ statement: BlockStatement; proof: NormProof }> {
    const B = drift.class === 'norm' ? 17n : 6n; // ⌊√300⌋ = 17
    const w = rangeWeights(B);
    const cs = [];
    for (const v of bitVectors) cs.push(await commitField(ctx, v.map((x) => Fr.create(x))));
    const inp = await input(drift);
    const statement: BlockStatement = { ...inp, cFt: inp.cBase.add(impliedCommitment(cs, w, B)).add(shift) };
    const t = statementTranscript('fti/block/norm/v1', statement);
    t.absorbG1s('norm.bits', cs);
    if (claimedS !== null) t.absorbScalar('norm.squaredNorm', Fr.create(claimedS));
    const r = t.challenges('norm.r', MU);
    const alpha = t.challenge('norm.alpha');
    const c = claimedS !== null ? t.challenge('norm.c') : 0n;
    const tables = bitVectors.map((v) => v.map((x) => Fr.create(x)));
    const apow = tables.map((_, j) => Fr.pow(alpha, BigInt(j)));
    const combine = (v: readonly bigint[]): bigint => {
      let bool = 0n;
      let d = Fr.neg(B);
      for (let j = 0; j < tables.length; j++) {
        bool = Fr.add(bool, Fr.mul(apow[j]!, Fr.mul(v[j + 1]!, Fr.sub(v[j + 1]!, 1n))));
        d = Fr.add(d, Fr.mul(Fr.create(w[j]!), v[j + 1]!));
      }
      return Fr.add(Fr.mul(v[0]!, bool), claimedS !== null ? Fr.mul(c, Fr.sqr(d)) : 0n);
    };
    const sc = proveSumcheck(t, 'norm.sumcheck', [eqTable(r), ...tables], 3, combine);
    const bitEvals = sc.finalValues.slice(1);
    t.absorbScalars('norm.bitEvals', bitEvals);
    const eta = t.challenge('norm.eta');
    const opening = await openAt(ctx, combineVectors(tables, eta), sc.point);
    return { statement, proof: { range: { bitCommitments: cs, squaredNorm: claimedS === null ? null : Fr.create(claimedS), sumcheck: sc.proof, bitEvals }, quotients: opening.quotients } };
  }

  function honestBits(B: bigint, d: readonly bigint[]): bigint[][] {
    const w = rangeWeights(B);
    const out = w.map(() => new Array<bigint>(d.length).fill(0n));
    d.forEach((x, i) => decomposeInRange(x + B, w).forEach((b, j) => (out[j]![i] = BigInt(b))));
    return out;
  }

  it('the hand-run forger reproduces honest proofs (so its rejections are the checks at work)', async () => {
    const { statement, proof } = await forge(l2, honestBits(17n, delta), 252n);
    assert.ok(accepts(verifyNormBound(srs.N, statement, proof)));
  });

  it('a C_ft shifted by g1, proven on its own transcript, fails the linear check (norm and linf)', async () => {
    for (const [drift, B, S] of [[l2, 17n, 252n], [linf, 6n, null]] as const) {
      const { statement, proof } = await forge(drift, honestBits(B, delta), S, G1.BASE);
      const chk = verifyNormBound(srs.N, statement, proof);
      assert.ok(!chk.valid, `${drift.class}: accepted`);
      assert.match(chk.reason, /C_ft − C_base differs from the commitment the bit vectors define/);
      // The same forger without the shift is accepted: the shift alone is what fails.
      const honest = await forge(drift, honestBits(B, delta), S);
      assert.ok(accepts(verifyNormBound(srs.N, honest.statement, honest.proof)), `${drift.class}: unshifted rejected`);
    }
  });

  it('an under-reported S is rejected', async () => {
    const { statement, proof } = await forge(l2, honestBits(17n, delta), 200n);
    assert.ok(!accepts(verifyNormBound(srs.N, statement, proof)));
  });

  it('non-boolean bit vectors that satisfy the linear check are rejected (linf and norm)', async () => {
    // Δ_0 = 100 far above B = 6: put 106 = Δ_0 + B into the lowest "bit" (a non-boolean value);
    // the linear check C_Δ + [B]_1 = Σ w_j C_j holds by construction.
    const big = delta.slice();
    big[0] = 100n;
    for (const [drift, B, S] of [
      [linf, 6n, null],
      [l2, 17n, 252n],
    ] as const) {
      const bits = honestBits(B, big.map((x, i) => (i === 0 ? 0n : x)));
      bits.forEach((v) => (v[0] = 0n));
      bits[0]![0] = 100n + B;
      const { statement, proof } = await forge(drift, bits, S);
      const chk = verifyNormBound(srs.N, statement, proof);
      assert.equal(chk.valid, false);
      assert.match(chk.valid ? '' : chk.reason, /non-boolean|final claim|claim/);
    }
  });

  it('a forged quotient or bit evaluation fails (pairing or sumcheck)', async () => {
    const { statement, proof } = await proveNormBound(ctx, await input(l2), delta);
    const q = proof.quotients.slice();
    q[1] = q[1]!.add(G1.BASE);
    assert.ok(!accepts(verifyNormBound(srs.N, statement, { ...proof, quotients: q })));
    const ev = proof.range.bitEvals.slice();
    ev[0] = Fr.add(ev[0]!, 1n);
    assert.ok(!accepts(verifyNormBound(srs.N, statement, { ...proof, range: { ...proof.range, bitEvals: ev } })));
  });
});

describe('impliedCommitmentMatches (one MSM) agrees with impliedCommitment equality', () => {
  const pt = (k: bigint): G1Point => G1.BASE.multiply(k);
  it('on random commitments, targets equal and off by a point, the identity and B = 0', () => {
    for (const B of [0n, 1n, 6n, 17n, 1000n, (1n << 40n) + 3n]) {
      const w = rangeWeights(B);
      const sets: G1Point[][] = [
        w.map((_, j) => pt(BigInt(j) * 7919n + 11n)),
        w.map((_, j) => (j % 2 === 0 ? G1.ZERO : pt(BigInt(j) + 5n))),
        w.map(() => G1.ZERO),
      ];
      for (const cs of sets) {
        const implied = impliedCommitment(cs, w, B);
        const targets = [implied, implied.add(G1.BASE), implied.subtract(pt(3n)), G1.ZERO, implied.double(), implied.negate()];
        for (const target of targets) {
          const want = implied.equals(target);
          assert.equal(impliedCommitmentMatches(cs, w, B, target), want, `B = ${B}, target ${want ? 'equal' : 'different'}`);
          // As C_ft and C_base apart: target = (target + Q) − Q, and with C_ft = C_base.
          const q = pt(101n);
          assert.equal(impliedCommitmentMatches(cs, w, B, target.add(q), q), want, `B = ${B}, target + Q minus Q`);
          assert.equal(impliedCommitmentMatches(cs, w, B, q, q), implied.is0(), `B = ${B}, C_ft = C_base`);
          assert.equal(impliedCommitmentMatches(cs, w, B, target, target), implied.is0(), `B = ${B}, target minus itself`);
        }
      }
    }
  });

  it('the identity target: matches exactly when the implied commitment is the identity', () => {
    assert.equal(impliedCommitmentMatches([], [], 0n, G1.ZERO), true, 'B = 0, no bits');
    assert.equal(impliedCommitmentMatches([], [], 0n, G1.BASE), false, 'B = 0, target g1');
    const w = rangeWeights(1n); // [1, 2]: Σ = C_0 + 2·C_1 − g1
    assert.equal(impliedCommitmentMatches([G1.BASE, G1.ZERO], w, 1n, G1.ZERO), true, 'C_0 = g1, C_1 = O, B = 1');
    assert.equal(impliedCommitmentMatches([G1.ZERO, G1.ZERO], w, 1n, G1.ZERO), false, 'all bits zero, B = 1');
    assert.equal(impliedCommitmentMatches([G1.ZERO, G1.ZERO], w, 1n, G1.BASE.negate()), true, 'target −g1');
  });
});

describe('norm/linf statement limits (untrusted bounds)', () => {
  it('isqrt is exact and fast for every size, including near r', async () => {
    const { isqrt } = await import('../smdp/classes/norm.ts');
    const { R } = await import('../smdp/field.ts');
    for (const x of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, (1n << 52n) + 1n, 4n * R, R * R, (1n << 1000n) - 1n]) {
      const y = isqrt(x);
      assert.ok(y * y <= x && (y + 1n) * (y + 1n) > x, `isqrt(${x})`);
    }
  });

  it('a linf statement with 2B ≥ r is rejected, not wrapped', async () => {
    const { R } = await import('../smdp/field.ts');
    const { statement, proof } = await proveNormBound(ctx, await input(linf), delta);
    const chk = verifyNormBound(srs.N, { ...statement, drift: { class: 'linf', maxAbs: R } }, proof);
    assert.equal(chk.valid, false);
  });
});
