/**
 * Drift classes sparse (revealed, hidden), frozen and free — PROTOCOLS.md §5.1–5.3, §5.6, §9.
 *
 * Forged proofs are built with the protocol's own building blocks (commitBits/commitField,
 * proveSumcheck over a Transcript constructed exactly as the prover does, openAt) fed with
 * dishonest witnesses; `handProveHidden` re-implements the prover's transcript independently
 * and is first shown to produce an ACCEPTED proof from an honest witness, so every rejection
 * below is caused by the witness, not by a transcript mismatch.
 * INSECURE dev SRS (public τ): fine for tests, which never use the trapdoor.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { pairingCheck } from '../smdp/accumulator.ts';
import type { BlockCheck } from '../smdp/classes/common.ts';
import { checkFrozen } from '../smdp/classes/frozen.ts';
import { verifyFree } from '../smdp/classes/free.ts';
import type { BlockInput } from '../smdp/classes/norm.ts';
import {
  SPARSE_HIDDEN_PROTOCOL,
  decodeSparseHiddenProof,
  decodeSparseRevealedProof,
  encodeSparseHiddenProof,
  encodeSparseRevealedProof,
  proveSparseHidden,
  proveSparseRevealed,
  verifySparseHidden,
  verifySparseRevealed,
  type SparseHiddenProof,
  type SparseRevealedProof,
} from '../smdp/classes/sparse.ts';
import { ByteWriter } from '../smdp/bytes.ts';
import { DriftPolicyViolation, SmdpError } from '../smdp/errors.ts';
import { Fr, G1, R, frSigned, type G1Point } from '../smdp/field.ts';
import { eqTable } from '../smdp/mle.ts';
import { testMsm } from './backend.ts';
import { combineVectors, commitBits, commitField, commitSmall, openAt, type ProverContext } from '../smdp/pst.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';
import type { Srs } from '../smdp/srs.ts';
import type { BlockStatement, DriftSpec } from '../smdp/statement.ts';
import { statementTranscript } from '../smdp/statement.ts';
import { proveSumcheck } from '../smdp/sumcheck.ts';

const N = 6;
let srs: Srs;
let ctx: ProverContext;

before(() => {
  srs = devSrs(N).srs;
  ctx = { srs, msm: testMsm };
});

/** A 4 × 4 block (μ = 4) of tensor `layer.w`; 3 nonzero changes, one of them ≥ 2^52. */
const BASE = Array.from({ length: 16 }, (_, i) => ((i * 37) % 101) - 50);
const DELTA: bigint[] = Array.from({ length: 16 }, () => 0n);
DELTA[2] = 7n;
DELTA[9] = -5n;
DELTA[13] = 1n << 60n;
const SUPPORT = [2, 9, 13];
/** Block 1 of the same tensor: other base weights, other changes. */
const BASE1 = Array.from({ length: 16 }, (_, i) => ((i * 53) % 89) - 44);
const DELTA1: bigint[] = Array.from({ length: 16 }, (_, i) => (i === 4 ? -3n : i === 11 ? 12n : 0n));

const revealed = (maxNonzeros: number): DriftSpec => ({ class: 'sparse', reveal: true, maxNonzeros });
const hidden = (maxNonzeros: number): DriftSpec => ({ class: 'sparse', reveal: false, maxNonzeros });

async function inputFor(drift: DriftSpec, base: readonly number[] = BASE, blockIndex = 0, muRows = 2, muCols = 2): Promise<BlockInput> {
  return {
    srsId: srs.id,
    job: 'job-1',
    tensor: 'layer.w',
    blockIndex,
    tensorShape: [8, 4],
    tile: { rowOffset: blockIndex << muRows, colOffset: 0, muRows, muCols },
    fractionalBits: 24,
    drift,
    cBase: await commitSmall(ctx, base),
  };
}

/** C(base + Δ), computed directly (independent of the provers' sparse MSMs). */
function directCommit(base: readonly number[], delta: readonly bigint[]): Promise<G1Point> {
  return commitField(ctx, base.map((b, i) => frSigned(BigInt(b) + delta[i]!)));
}

function assertRejected(check: BlockCheck, pattern?: RegExp): void {
  assert.equal(check.valid, false, 'expected the block to be rejected');
  if (!check.valid && pattern) assert.match(check.reason, pattern);
}

/** Rejected by a non-pairing check, or valid only with a failing pairing equation. */
function assertNotAccepted(check: BlockCheck, what: string): void {
  if (!check.valid) return;
  assert.ok(check.accumulator !== null, `${what}: accepted without a pairing check`);
  assert.equal(pairingCheck(srs, check.accumulator.evaluate()), false, `${what}: the pairing check passed`);
}

function assertAccepted(check: BlockCheck): void {
  assert.ok(check.valid, check.valid ? '' : check.reason);
  if (check.accumulator !== null) assert.ok(pairingCheck(srs, check.accumulator.evaluate()), 'pairing check failed');
}

function withDrift(st: BlockStatement, drift: DriftSpec): BlockStatement {
  return { ...st, drift };
}

/** Flip one bit per byte position (bit pos mod 8); each result must be bad input or rejected. */
function flipEveryByte(bytes: Uint8Array, stride: number, tryOne: (b: Uint8Array) => BlockCheck): { decodeErrors: number; rejected: number } {
  let decodeErrors = 0;
  let rejectedCount = 0;
  for (let pos = 0; pos < bytes.length; pos += stride) {
    const b = bytes.slice();
    b[pos] = b[pos]! ^ (1 << (pos % 8));
    let check: BlockCheck;
    try {
      check = tryOne(b);
    } catch (e) {
      assert.ok(e instanceof SmdpError, `byte ${pos}: threw ${String(e)} instead of SmdpError`);
      decodeErrors++;
      continue;
    }
    assertNotAccepted(check, `byte ${pos}`);
    rejectedCount++;
  }
  return { decodeErrors, rejected: rejectedCount };
}

function expectViolation(check: string, measured: string, bound: string): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof DriftPolicyViolation, `expected DriftPolicyViolation, got ${String(e)}`);
    assert.equal(e.check, check);
    assert.equal(e.measured, measured);
    assert.equal(e.bound, bound);
    assert.match(e.message, new RegExp(`measured ${measured}, bound ${bound}`));
    return true;
  };
}

function expectSmdpError(code: string, field?: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof SmdpError, `expected SmdpError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (field) assert.match(e.field, field);
    return true;
  };
}

// ---------------------------------------------------------------------------------------

describe('sparse, revealed', () => {
  let st: BlockStatement;
  let proof: SparseRevealedProof;

  before(async () => {
    ({ statement: st, proof } = await proveSparseRevealed(ctx, await inputFor(revealed(4)), DELTA));
  });

  it('honest proof verifies with no pairing check, C_ft = C(base + Δ), bytes round-trip', async () => {
    assert.ok(st.cFt.equals(await directCommit(BASE, DELTA)));
    assert.deepEqual(
      proof.entries.map((e) => e.index),
      SUPPORT,
    );
    const bytes = encodeSparseRevealedProof(proof);
    assert.equal(bytes.length, 4 + 3 * 36);
    const decoded = decodeSparseRevealedProof(bytes);
    assert.deepEqual(decoded, proof);
    const check = verifySparseRevealed(srs, st, decoded);
    assert.ok(check.valid);
    assert.equal(check.accumulator, null);
    assert.equal(check.summary.nonzeros, 3);
  });

  it('an unchanged block verifies with no entries (C_ft = C_base)', async () => {
    const r = await proveSparseRevealed(ctx, await inputFor(revealed(0)), new Array<bigint>(16).fill(0n));
    assert.ok(r.statement.cFt.equals(r.statement.cBase));
    assert.equal(r.proof.entries.length, 0);
    assertAccepted(verifySparseRevealed(srs, r.statement, r.proof));
  });

  it('property: random sparse Δ (|x| < 2^63) proves, round-trips and verifies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(7), fc.bigInt({ min: -(1n << 63n), max: 1n << 63n })), { maxLength: 5 }), async (changes) => {
        const delta = new Array<bigint>(8).fill(0n);
        for (const [i, x] of changes) delta[i] = x;
        const base = BASE.slice(0, 8);
        const { statement, proof: p } = await proveSparseRevealed(ctx, await inputFor(revealed(8), base, 0, 1, 2), delta);
        assert.ok(statement.cFt.equals(await directCommit(base, delta)));
        const check = verifySparseRevealed(srs, statement, decodeSparseRevealedProof(encodeSparseRevealedProof(p)));
        assert.ok(check.valid && check.summary.nonzeros === delta.filter((x) => x !== 0n).length);
      }),
      { numRuns: 15, seed: 0x5a17 },
    );
  });

  it('the prover refuses too many changes and values it cannot reveal', async () => {
    await assert.rejects(proveSparseRevealed(ctx, await inputFor(revealed(2)), DELTA), expectViolation('sparse.nonzeros', '3', '2'));
    const huge = DELTA.slice();
    huge[0] = -(1n << 64n);
    await assert.rejects(proveSparseRevealed(ctx, await inputFor(revealed(4)), huge), expectViolation('sparse.value', `|Δ[0]| = ${1n << 64n}`, `${(1n << 64n) - 1n}`));
  });

  it('rejects every flipped byte of the encoded proof', () => {
    const bytes = encodeSparseRevealedProof(proof);
    const { decodeErrors, rejected } = flipEveryByte(bytes, 1, (b) => verifySparseRevealed(srs, st, decodeSparseRevealedProof(b)));
    assert.ok(decodeErrors > 0 && rejected > 0);
  });

  it('rejects the proof moved to another block or tensor (other commitments)', async () => {
    const other = await proveSparseRevealed(ctx, await inputFor(revealed(4), BASE1, 1), DELTA1);
    assertAccepted(verifySparseRevealed(srs, other.statement, other.proof));
    assertRejected(verifySparseRevealed(srs, other.statement, proof), /differs from the commitment/);
    assertRejected(verifySparseRevealed(srs, st, other.proof), /differs from the commitment/);
    const otherTensor = { ...other.statement, tensor: 'layer.v', blockIndex: 0 };
    assertRejected(verifySparseRevealed(srs, otherTensor, proof), /differs from the commitment/);
  });

  it('a revealed proof is a witness: under another job with the SAME commitments it still verifies (a true statement)', () => {
    // No challenges, so nothing job-specific to bind: the claim "C_ft − C_base = Σ v·L[i]" is
    // about the commitments only, and it is true. The certificate binds the job (aggregation).
    assertAccepted(verifySparseRevealed(srs, { ...st, job: 'job-2' }, proof));
  });

  it('rejects altered statements: bound lowered, reveal flag flipped, another class, μ > N', () => {
    assertRejected(verifySparseRevealed(srs, withDrift(st, revealed(2)), proof), /3 revealed changes exceed the bound 2/);
    assertRejected(verifySparseRevealed(srs, withDrift(st, hidden(4)), proof), /hidden support/);
    assertRejected(verifySparseRevealed(srs, withDrift(st, { class: 'free' }), proof), /statement class is free/);
    assertRejected(verifySparseRevealed(srs, { ...st, tile: { ...st.tile, muRows: 5 } }, proof), /exceeds the SRS size/);
    assertRejected(verifySparseHidden(N, st, { selectorCommitment: G1.ZERO, claimedNonzeros: 0, sumcheck: { rounds: [] }, deltaEval: 0n, selectorEval: 0n, quotients: [] }), /proof hides them/);
  });

  it('rejects a wrong value, an omitted entry, a zero entry, an index outside the block', () => {
    const e = proof.entries;
    const wrong = e.map((x, k) => (k === 1 ? { ...x, value: x.value + 1n } : x));
    assertRejected(verifySparseRevealed(srs, st, { entries: wrong }), /differs from the commitment/);
    assertRejected(verifySparseRevealed(srs, st, { entries: e.slice(0, 2) }), /differs from the commitment/);
    assertRejected(verifySparseRevealed(srs, st, { entries: [...e, { index: 15, value: 0n }] }), /zero change/);
    assertRejected(verifySparseRevealed(srs, st, { entries: [...e, { index: 16, value: 1n }] }), /outside the block/);
    assertRejected(verifySparseRevealed(srs, st, { entries: [...e.slice(0, 2), { index: 13, value: 1n << 64n }] }), /2\^64/);
  });

  it('rejects duplicate and unsorted indices even when the group equation holds', () => {
    const [a, b, c] = proof.entries as [(typeof proof.entries)[0], (typeof proof.entries)[0], (typeof proof.entries)[0]];
    // Value split over a repeated index: Σ v·L[i] is unchanged, so only the order check catches it.
    const split = [a, { index: b.index, value: b.value - 2n }, { index: b.index, value: 2n }, c];
    assertRejected(verifySparseRevealed(srs, st, { entries: split }), /not above the previous/);
    assertRejected(verifySparseRevealed(srs, st, { entries: [a, c, b] }), /not above the previous/);
  });

  it('the decoder rejects |value| ≥ 2^64, oversized counts, truncation and trailing bytes', () => {
    const big = new ByteWriter().u32(1).u32(3).scalar(1n << 64n).finish();
    assert.throws(() => decodeSparseRevealedProof(big), expectSmdpError('BAD_VALUE', /entries\[0\]\.value/));
    const bigNeg = new ByteWriter().u32(1).u32(3).scalar(R - (1n << 64n)).finish();
    assert.throws(() => decodeSparseRevealedProof(bigNeg), expectSmdpError('BAD_VALUE'));
    const maxNeg = decodeSparseRevealedProof(new ByteWriter().u32(1).u32(3).scalar(R - ((1n << 64n) - 1n)).finish());
    assert.equal(maxNeg.entries[0]!.value, -((1n << 64n) - 1n));
    assert.throws(() => decodeSparseRevealedProof(new ByteWriter().u32((1 << 24) + 1).finish()), expectSmdpError('LIMIT_EXCEEDED'));
    const bytes = encodeSparseRevealedProof(proof);
    assert.throws(() => decodeSparseRevealedProof(bytes.subarray(0, bytes.length - 1)), expectSmdpError('TRUNCATED'));
    assert.throws(() => decodeSparseRevealedProof(new Uint8Array([...bytes, 0])), expectSmdpError('TRAILING_BYTES'));
  });
});

// ---------------------------------------------------------------------------------------

/** The prover's transcript, re-implemented: statement, C_s, k', r, α, β, sumcheck, evals, η. */
async function handProveHidden(st: BlockStatement, delta: readonly bigint[], selector: readonly bigint[], claimedNonzeros: number, selectorCommitment: G1Point): Promise<SparseHiddenProof> {
  const mu = st.tile.muRows + st.tile.muCols;
  const t = statementTranscript(SPARSE_HIDDEN_PROTOCOL, st);
  t.absorbG1('sparse.selector', selectorCommitment);
  t.absorbU64('sparse.nonzeros', claimedNonzeros);
  const r = t.challenges('sparse.r', mu);
  const alpha = t.challenge('sparse.alpha');
  const beta = t.challenge('sparse.beta');
  // eq·[Δ(1 − s) + α·s(s − 1)] + β·s
  const summand = ([e, d, s]: readonly bigint[]): bigint =>
    Fr.add(Fr.mul(e!, Fr.add(Fr.mul(d!, Fr.sub(1n, s!)), Fr.mul(alpha, Fr.mul(s!, Fr.sub(s!, 1n))))), Fr.mul(beta, s!));
  const sc = proveSumcheck(t, 'sparse', [eqTable(r), delta, selector], 3, summand);
  const deltaEval = sc.finalValues[1]!;
  const selectorEval = sc.finalValues[2]!;
  t.absorbScalars('sparse.evals', [deltaEval, selectorEval]);
  const eta = t.challenge('sparse.eta');
  const { quotients } = await openAt(ctx, combineVectors([delta, selector], eta), sc.point);
  return { selectorCommitment, claimedNonzeros, sumcheck: sc.proof, deltaEval, selectorEval, quotients };
}

describe('sparse, hidden', () => {
  let st: BlockStatement;
  let proof: SparseHiddenProof;
  const deltaF = DELTA.map(frSigned);
  const honestSelector = DELTA.map((x) => (x === 0n ? 0n : 1n));

  before(async () => {
    ({ statement: st, proof } = await proveSparseHidden(ctx, await inputFor(hidden(4)), DELTA));
  });

  it('honest proof verifies (pairing included), C_ft = C(base + Δ), bytes round-trip', async () => {
    assert.ok(st.cFt.equals(await directCommit(BASE, DELTA)));
    assert.equal(proof.claimedNonzeros, 3);
    const bytes = encodeSparseHiddenProof(proof);
    const decoded = decodeSparseHiddenProof(bytes);
    assert.deepEqual(encodeSparseHiddenProof(decoded), bytes);
    const check = verifySparseHidden(N, st, decoded);
    assert.ok(check.valid);
    assert.equal(check.summary.nonzeros, 3);
    assert.ok(check.accumulator !== null && pairingCheck(srs, check.accumulator.evaluate()));
  });

  it('verifies an unchanged block (k′ = 0) and a 1 × 32 block (μ = 5)', async () => {
    const zero = await proveSparseHidden(ctx, await inputFor(hidden(0)), new Array<bigint>(16).fill(0n));
    assert.ok(zero.statement.cFt.equals(zero.statement.cBase));
    assertAccepted(verifySparseHidden(N, zero.statement, zero.proof));
    const base32 = Array.from({ length: 32 }, (_, i) => i - 16);
    const delta32 = Array.from({ length: 32 }, (_, i) => (i % 9 === 4 ? BigInt(i - 20) : 0n));
    const wide = await proveSparseHidden(ctx, await inputFor(hidden(4), base32, 0, 0, 5), delta32);
    assert.ok(wide.statement.cFt.equals(await directCommit(base32, delta32)));
    assertAccepted(verifySparseHidden(N, wide.statement, wide.proof));
  });

  it('the prover refuses a block with more nonzeros than k', async () => {
    const dense = DELTA.map((x, i) => (i < 3 ? 1n : x));
    await assert.rejects(proveSparseHidden(ctx, await inputFor(hidden(4)), dense), expectViolation('sparse.nonzeros', '5', '4'));
  });

  it('the hand-run prover (the forgeries below) is accepted with the honest witness', async () => {
    const cS = await commitBits(ctx, honestSelector.map(Number));
    assert.ok(cS.equals(proof.selectorCommitment));
    const p = await handProveHidden(st, deltaF, honestSelector, 3, cS);
    assert.deepEqual(encodeSparseHiddenProof(p), encodeSparseHiddenProof(proof));
    assertAccepted(verifySparseHidden(N, st, p));
  });

  it('rejects every flipped byte of the encoded proof', () => {
    const bytes = encodeSparseHiddenProof(proof);
    const { decodeErrors, rejected } = flipEveryByte(bytes, 1, (b) => verifySparseHidden(N, st, decodeSparseHiddenProof(b)));
    assert.ok(decodeErrors > 0 && rejected > 0);
  });

  it('rejects the proof moved to another block index, tensor, job or SRS', () => {
    for (const moved of [{ ...st, blockIndex: 1 }, { ...st, tensor: 'layer.v' }, { ...st, job: 'job-2' }, { ...st, srsId: '00'.repeat(32) }]) {
      assertRejected(verifySparseHidden(N, moved, proof), /sumcheck|round 0/);
    }
  });

  it('rejects altered statements: bound below k′, bound raised, reveal flag, C_ft, μ > N', () => {
    assertRejected(verifySparseHidden(N, withDrift(st, hidden(2)), proof), /claimed 3 nonzeros exceed the bound 2/);
    assertRejected(verifySparseHidden(N, withDrift(st, hidden(5)), proof), /round 0/);
    assertRejected(verifySparseHidden(N, withDrift(st, revealed(4)), proof), /proof hides them/);
    assertRejected(verifySparseHidden(N, withDrift(st, { class: 'norm', maxSquaredNorm: 10n }), proof), /statement class is norm/);
    assertRejected(verifySparseHidden(N, { ...st, cFt: st.cFt.add(G1.BASE) }, proof), /round 0/);
    assertRejected(verifySparseHidden(N, { ...st, tile: { ...st.tile, muRows: 5 } }, proof), /exceeds the SRS size/);
  });

  it('rejects an under-reported k′ (sumcheck), with the honest selector and with a selector missing a change', async () => {
    const cS = await commitBits(ctx, honestSelector.map(Number));
    assertRejected(verifySparseHidden(N, st, await handProveHidden(st, deltaF, honestSelector, 2, cS)), /round 0/);
    // s misses index 13 although Δ_13 ≠ 0, so Σ s = k′ = 2 holds; the zerocheck term does not.
    const partial = honestSelector.map((x, i) => (i === 13 ? 0n : x));
    const cPartial = await commitBits(ctx, partial.map(Number));
    assertRejected(verifySparseHidden(N, st, await handProveHidden(st, deltaF, partial, 2, cPartial)), /round 0/);
  });

  it('rejects a non-boolean selector that covers supp Δ and has Σ s = k′', async () => {
    // s = 1 on the 3 changes and −1 at index 0 (Δ_0 = 0): Δ(1 − s) = 0 everywhere, Σ s = 2 = k′,
    // only s(s − 1) ≠ 0 at index 0 — the booleanity term must catch it.
    const s = honestSelector.map((x, i) => (i === 0 ? Fr.neg(1n) : x));
    assert.equal(s.reduce((a, b) => Fr.add(a, b), 0n), 2n);
    const cS = await commitField(ctx, s);
    assertRejected(verifySparseHidden(N, withDrift(st, hidden(2)), await handProveHidden(withDrift(st, hidden(2)), deltaF, s, 2, cS)), /round 0/);
    // Entries 2 and −1: s = 2 on one change, −1 off the support, Σ s = 2 + 1 + 1 − 1 = 3.
    const s2 = honestSelector.map((x, i) => (i === 2 ? 2n : i === 0 ? Fr.neg(1n) : x));
    const cS2 = await commitField(ctx, s2);
    assertRejected(verifySparseHidden(N, st, await handProveHidden(st, deltaF, s2, 3, cS2)), /round 0/);
  });

  it('the pairing check rejects a sparse witness for a C_ft that commits a dense update', async () => {
    // The statement's C_ft is base + a dense Δ; the prover runs every step with the sparse Δ.
    const denseDelta = DELTA.map((x, i) => x + BigInt(i + 1));
    const forgedSt: BlockStatement = { ...st, cFt: await directCommit(BASE, denseDelta) };
    const p = await handProveHidden(forgedSt, deltaF, honestSelector, 3, proof.selectorCommitment);
    const check = verifySparseHidden(N, forgedSt, p);
    assert.ok(check.valid, 'non-pairing checks pass: the lie is only in the opening');
    assert.equal(pairingCheck(srs, check.accumulator!.evaluate()), false);
  });

  it('rejects a wrong final value, a missing quotient, swapped quotients, a bad k′', () => {
    assertRejected(verifySparseHidden(N, st, { ...proof, deltaEval: Fr.add(proof.deltaEval, 1n) }), /final sumcheck claim/);
    assertRejected(verifySparseHidden(N, st, { ...proof, selectorEval: Fr.add(proof.selectorEval, 1n) }), /final sumcheck claim/);
    assertRejected(verifySparseHidden(N, st, { ...proof, quotients: proof.quotients.slice(1) }), /expected 4 opening quotients/);
    const q = proof.quotients;
    assertNotAccepted(verifySparseHidden(N, st, { ...proof, quotients: [q[1]!, q[0]!, q[2]!, q[3]!] }), 'swapped quotients');
    assertNotAccepted(verifySparseHidden(N, st, { ...proof, selectorCommitment: proof.selectorCommitment.add(G1.BASE) }), 'shifted C_s');
    assertRejected(verifySparseHidden(N, st, { ...proof, claimedNonzeros: -1 }), /not a non-negative integer/);
  });

  it('the decoder caps the quotient count and rejects truncation and trailing bytes', () => {
    const bytes = encodeSparseHiddenProof(proof);
    const tooMany = bytes.slice(0, bytes.length - 4 * 48);
    new DataView(tooMany.buffer).setUint32(tooMany.length - 4, 65);
    assert.throws(() => decodeSparseHiddenProof(tooMany), expectSmdpError('LIMIT_EXCEEDED', /quotients/));
    assert.throws(() => decodeSparseHiddenProof(bytes.subarray(0, bytes.length - 1)), expectSmdpError('TRUNCATED'));
    assert.throws(() => decodeSparseHiddenProof(new Uint8Array([...bytes, 0])), expectSmdpError('TRAILING_BYTES'));
  });
});

// ---------------------------------------------------------------------------------------

describe('frozen', () => {
  const a = 'ab'.repeat(32);
  const b = 'ab'.repeat(31) + 'ac';

  it('accepts equal digests and rejects different ones, naming the tensor', () => {
    assert.deepEqual(checkFrozen('embed.weight', a, a), { valid: true });
    const v = checkFrozen('embed.weight', a, b);
    assert.equal(v.valid, false);
    if (!v.valid) assert.match(v.reason, /embed\.weight/);
  });

  it('digests that are not 64 lowercase hex characters are bad input naming the field', () => {
    assert.throws(() => checkFrozen('t', a.toUpperCase(), a), expectSmdpError('BAD_VALUE', /baseSha256Hex/));
    assert.throws(() => checkFrozen('t', a, a.slice(2)), expectSmdpError('BAD_VALUE', /ftSha256Hex/));
    assert.throws(() => checkFrozen('t', a, a.slice(1) + 'g'), expectSmdpError('BAD_VALUE', /ftSha256Hex/));
  });
});

describe('free', () => {
  it('is valid with no accumulator for a free statement, rejected for any other class', async () => {
    const st: BlockStatement = { ...(await inputFor({ class: 'free' })), cFt: G1.BASE };
    const check = verifyFree(st);
    assert.ok(check.valid && check.accumulator === null);
    assertRejected(verifyFree(withDrift(st, revealed(4))), /statement class is sparse/);
  });
});
