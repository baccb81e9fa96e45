/**
 * Drift classes `norm` (Σ Δ_i² ≤ T) and `linf` (|Δ_i| ≤ B) — PROTOCOLS.md §5.4.
 *
 * Relation (one block, n = 2^μ entries, C_Δ = C_ft − C_base):
 *   norm: ∃ Δ with C(Δ) = C_Δ, Σ Δ_i² = S ≤ T_total, where B = ⌊√T_total⌋ bounds every |Δ_i|;
 *   linf: ∃ Δ with C(Δ) = C_Δ, |Δ_i| ≤ B.
 * Proof: bit commitments of Δ + B (range.ts), the linear check C_Δ + [B]_1 = Σ w_j C_{β_j},
 * one batched sumcheck, and one batched PST opening of the C_{β_j} at the sumcheck point ρ
 * (η from the transcript). S is revealed (v1); the tensor-level check Σ_b S_b ≤ T_total is
 * the aggregator's (aggregate.ts). Soundness error ≤ (4μ + ℓ + 1)/|F| plus PST binding.
 * The prover derives C_ft = C_base + C_Δ from the bit commitments: no separate MSM of Δ.
 */
import { openingAccumulator } from '../accumulator.ts';
import { ByteReader, ByteWriter } from '../bytes.ts';
import { DriftPolicyViolation, badInput } from '../errors.ts';
import { Fr, type G1Point } from '../field.ts';
import { combinedCommitmentTerms, powerCombine, type ProverContext } from '../pst.ts';
import { blockVars, statementTranscript, type BlockStatement } from '../statement.ts';
import { readSumcheck, writeSumcheck } from '../sumcheck-codec.ts';
import { blockRejected, type BlockCheck } from './common.ts';
import { commitRange, impliedCommitmentMatches, openRangeBits, proveRange, rangeWeights, squareSumFits, verifyRange, type RangeProof } from './range.ts';

export const NORM_PROTOCOL = 'fti/block/norm/v1';

export interface NormProof {
  readonly range: RangeProof;
  /** Opening quotients of Σ η^j C_{β_j} at ρ. */
  readonly quotients: readonly G1Point[];
}

/**
 * ⌊√x⌋ for a non-negative bigint: Newton's method from above (y₀ = 2^⌈bits/2⌉ ≥ √x), which
 * decreases monotonically to ⌊√x⌋ in O(log bits) steps for any x — statements are untrusted,
 * so no step count may depend on a floating-point estimate.
 */
export function isqrt(x: bigint): bigint {
  if (x < 0n) throw new Error(`isqrt: negative input ${x}`);
  if (x < 2n) return x;
  let y = 1n << BigInt(Math.ceil(x.toString(2).length / 2));
  for (;;) {
    const next = (y + x / y) >> 1n;
    if (next >= y) return y;
    y = next;
  }
}

/** The per-entry bound B a norm or linf statement implies. */
export function entryBound(drift: BlockStatement['drift']): bigint {
  if (drift.class === 'norm') return isqrt(drift.maxSquaredNorm);
  if (drift.class === 'linf') return drift.maxAbs;
  throw new Error(`entryBound: class ${drift.class} has no entry bound`);
}

export type BlockInput = Omit<BlockStatement, 'cFt'>;

/**
 * Prove a norm/linf block. `delta` = q(W_ft) − q(W_base) for the tile (length 2^μ, exact
 * integers). Refuses with DriftPolicyViolation when the block is outside its class.
 */
export async function proveNormBound(ctx: ProverContext, input: BlockInput, delta: readonly bigint[]): Promise<{ statement: BlockStatement; proof: NormProof }> {
  const d = input.drift;
  if (d.class !== 'norm' && d.class !== 'linf') throw new Error(`proveNormBound: expected a norm or linf statement, got ${d.class}`);
  const mu = blockVars(input);
  if (delta.length !== 1 << mu) throw new Error(`proveNormBound: expected ${1 << mu} entries, got ${delta.length}`);
  const B = entryBound(d);
  refuseOutOfBound(input, delta, mu, B);
  const wit = await commitRange(ctx, delta, B);
  const statement: BlockStatement = { ...input, cFt: input.cBase.add(wit.deltaCommitment) };
  const t = statementTranscript(NORM_PROTOCOL, statement);
  const rp = proveRange(t, 'norm', wit, d.class === 'norm', ctx.msm.kernels);
  const eta = t.challenge('norm.eta');
  // B = 0 (e.g. `linf` with bound 0): no bits, Δ = 0 is fully proven by C_ft = C_base.
  if (rp.bits.length === 0) return { statement, proof: { range: rp.proof, quotients: [] } };
  const opening = await openRangeBits(ctx, rp.bits, eta, rp.point, null);
  return { statement, proof: { range: rp.proof, quotients: opening.quotients } };
}

/**
 * Refuse (DriftPolicyViolation) a norm/linf block whose Δ is outside its class: Σ Δ² over the
 * budget (norm), an entry above B, or a bound too large for exact square sums in Fr.
 */
export function refuseOutOfBound(input: BlockInput, delta: readonly bigint[], mu: number, B: bigint): void {
  const d = input.drift;
  let maxAbs = 0n;
  let maxAt = 0;
  let S = 0n;
  delta.forEach((x, i) => {
    const a = x < 0n ? -x : x;
    if (a > maxAbs) {
      maxAbs = a;
      maxAt = i;
    }
    S += x * x;
  });
  if (d.class === 'norm' && S > d.maxSquaredNorm) {
    throw new DriftPolicyViolation('norm.l2', `Σ Δ² = ${S}`, `${d.maxSquaredNorm}`, `block ${input.blockIndex} of ${input.tensor} exceeds the squared-norm budget`, input.blockIndex);
  }
  if (maxAbs > B) {
    throw new DriftPolicyViolation(d.class === 'linf' ? 'linf' : 'norm.l2', `|Δ[${maxAt}]| = ${maxAbs}`, `${B}`, `block ${input.blockIndex} of ${input.tensor} has an entry above the bound`, input.blockIndex);
  }
  if (!squareSumFits(mu, B)) throw new DriftPolicyViolation('norm.field', `n·B² with n = 2^${mu}, B = ${B}`, 'r', 'the bound is too large for exact arithmetic in Fr; use smaller blocks', input.blockIndex);
}

/** Non-pairing checks of a norm/linf block; on success, the block's pending accumulator. */
export function verifyNormBound(N: number, st: BlockStatement, proof: NormProof): BlockCheck {
  const d = st.drift;
  if (d.class !== 'norm' && d.class !== 'linf') return blockRejected(`statement class is ${d.class}, proof is norm/linf`);
  const mu = blockVars(st);
  if (mu > N) return blockRejected(`block of ${mu} variables exceeds the SRS size ${N}`);
  const B = entryBound(d);
  const t = statementTranscript(NORM_PROTOCOL, st);
  const v = verifyRange(t, 'norm', proof.range, mu, B, d.class === 'norm');
  if (!v.ok) return blockRejected(v.reason);
  // Linear check: C_ft − C_base = Σ_j w_j C_{β_j} − [B]_1.
  if (!impliedCommitmentMatches(proof.range.bitCommitments, rangeWeights(B), B, st.cFt, st.cBase)) {
    return blockRejected('norm: C_ft − C_base differs from the commitment the bit vectors define');
  }
  const S = proof.range.squaredNorm;
  if (d.class === 'norm' && (S === null || S > d.maxSquaredNorm)) {
    return blockRejected(`norm: block squared norm ${S} exceeds the bound ${d.maxSquaredNorm}`);
  }
  const summary = S === null ? {} : { squaredNorm: S };
  if (proof.range.bitCommitments.length === 0) {
    // B = 0: the linear check above already forced C_ft = C_base; there is nothing to open.
    if (proof.quotients.length !== 0) return blockRejected('norm: a bound of 0 takes no opening quotients');
    return { valid: true, accumulator: null, summary };
  }
  if (proof.quotients.length !== mu) return blockRejected(`norm: expected ${mu} opening quotients, got ${proof.quotients.length}`);
  const eta = t.challenge('norm.eta');
  const acc = openingAccumulator(N, combinedCommitmentTerms(proof.range.bitCommitments, eta), powerCombine(proof.range.bitEvals, eta), v.point, proof.quotients);
  return { valid: true, accumulator: acc, summary };
}

export function writeRangeProof(w: ByteWriter, p: RangeProof): void {
  writeRangeCommitments(w, p);
  writeSumcheck(w, p.sumcheck);
  w.scalars(p.bitEvals);
}

export function readRangeProof(r: ByteReader): RangeProof {
  const { bitCommitments, squaredNorm } = readRangeCommitments(r, '');
  const sumcheck = readSumcheck(r, 'sumcheck');
  const bitEvals = r.scalars('bitEvals', 256);
  return { bitCommitments, squaredNorm, sumcheck, bitEvals };
}

/** u32 ℓ ‖ ℓ × G1 (bit commitments) ‖ u8 S present ‖ [S]: a range proof's committed part. */
export function writeRangeCommitments(w: ByteWriter, p: Pick<RangeProof, 'bitCommitments' | 'squaredNorm'>): void {
  w.g1s(p.bitCommitments);
  w.u8(p.squaredNorm === null ? 0 : 1);
  if (p.squaredNorm !== null) w.scalar(Fr.create(p.squaredNorm));
}

/** The reader of `writeRangeCommitments`; `prefix` names the fields (e.g. `tiles[2].`). */
export function readRangeCommitments(r: ByteReader, prefix: string): Pick<RangeProof, 'bitCommitments' | 'squaredNorm'> {
  const bitCommitments = r.proofG1s(`${prefix}bits`, 256);
  const hasS = r.u8(`${prefix}squaredNorm.present`);
  if (hasS > 1) badInput('BAD_VALUE', `${r.what}.${prefix}squaredNorm.present`, `expected 0 or 1, got ${hasS}`);
  const squaredNorm = hasS === 1 ? r.scalar(`${prefix}squaredNorm`) : null;
  return { bitCommitments, squaredNorm };
}

export function encodeNormProof(p: NormProof): Uint8Array {
  const w = new ByteWriter();
  writeRangeProof(w, p.range);
  w.g1s(p.quotients);
  return w.finish();
}

export function decodeNormProof(bytes: Uint8Array, what = 'proof'): NormProof {
  const r = new ByteReader(bytes, what);
  const range = readRangeProof(r);
  const quotients = r.proofG1s('quotients', 64);
  r.end();
  return { range, quotients };
}
