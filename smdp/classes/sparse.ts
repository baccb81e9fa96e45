/**
 * Drift class `sparse` (|supp Δ| ≤ k), revealed and hidden — PROTOCOLS.md §5.2, §5.3.
 *
 * Relation (one block, n = 2^μ entries, C_Δ = C_ft − C_base, k = drift.maxNonzeros):
 *   ∃ Δ ∈ Z^n with C(Δ) = C_Δ and |supp Δ| ≤ k'  ≤ k.
 *
 * Revealed (`fti/block/sparse-revealed/v1`): the proof IS the witness, the list of
 * (index, value) pairs of supp Δ, indices strictly increasing, values nonzero signed integers
 * |value| < 2^64. The verifier checks the group equation C_ft − C_base = Σ value·L[index]
 * directly: O(k) group operations, no pairing (accumulator null). It therefore needs the SRS
 * Lagrange points L[index] of the block's basis (the full `Srs`, not only the verifier key):
 * a revealed-sparse verifier must hold, or fetch and check against the SRS digest, the points
 * at the revealed indices. Sound by binding of C (a second opening of C_Δ as a different
 * sparse vector would break the q-type assumptions of §2). Not zero-knowledge: the changes
 * are shown. There are no challenges, hence no transcript: the proof is a witness of a
 * statement about (μ, C_base, C_ft), so it verifies for any statement with those three
 * (a true statement) and for no other — moving it to a block with other commitments fails
 * the group equation.
 *
 * Hidden (`fti/block/sparse-hidden/v1`): the prover commits a selector s ∈ {0,1}^n
 * (commit = subset sum of basis points) and states k' = Σ s_i ≤ k. Transcript: statement,
 * C_s, k'; then r ∈ F^μ, α, β. One degree-3 sumcheck over the tables [eq(r,·), Δ, s] of
 *   Σ_b eq(r,b)·[Δ(b)(1 − s(b)) + α·s(b)(s(b) − 1)] + β·s(b)  =  β·k'.
 * Final claims Δ(ρ), s(ρ) are absorbed, η drawn, and one batched PST opening of
 * C_Δ + η·C_s at ρ to Δ(ρ) + η·s(ρ) is accumulated with commitment terms
 * (C_ft, 1), (C_base, −1), (C_s, η), so no point is combined on its own (§6).
 * Why this proves the relation: write P(b) = Δ(b)(1 − s(b)) + α·s(b)(s(b) − 1). For a fixed
 * b, P(b) is linear in α and vanishes identically iff s_b ∈ {0,1} and (s_b = 1 or Δ_b = 0).
 * So if s is not boolean or does not cover supp Δ, some P(b) ≠ 0 except for one α; then
 * Σ_b eq(r,b)P(b) is a non-zero multilinear polynomial in r; then the total
 * Z + β(Σ s − k') ≠ β·0 is a non-zero linear polynomial in β. With s boolean, Σ s is an
 * integer ≤ n < r, so Σ s = k' as integers and |supp Δ| ≤ Σ s = k' ≤ k.
 * Soundness error ≤ (1 + μ + 1 + 3μ)/|F| = (4μ + 2)/|F| plus PST evaluation binding
 * (≈ 120-bit security on BLS12-381, not 128). v1 reveals k' (PROTOCOLS §8).
 *
 * Δ entries are exact integers that may be negative; they are embedded in Fr as r − |x|.
 */
import { openingAccumulator } from '../accumulator.ts';
import { ByteReader, ByteWriter } from '../bytes.ts';
import { DriftPolicyViolation, badInput, invariant } from '../errors.ts';
import { Fr, frSigned, frToSigned, type G1Affine, type G1Point } from '../field.ts';
import { eqEval, eqTable } from '../mle.ts';
import { msmFull, type MsmBackend } from '../msm.ts';
import { combineVectors, commitBits, openAt, type ProverContext } from '../pst.ts';
import { basisFor, type Srs } from '../srs.ts';
import { blockVars, statementTranscript, type BlockStatement } from '../statement.ts';
import { readSumcheck, writeSumcheck } from '../sumcheck-codec.ts';
import { proveSumcheck, verifySumcheck, type SumcheckProof } from '../sumcheck.ts';
import type { Transcript } from '../transcript.ts';
import { blockRejected, type BlockCheck } from './common.ts';
import type { BlockInput } from './norm.ts';

export const SPARSE_REVEALED_PROTOCOL = 'fti/block/sparse-revealed/v1';
export const SPARSE_HIDDEN_PROTOCOL = 'fti/block/sparse-hidden/v1';

/** Revealed values are signed integers with |value| < 2^64 (q(w) differences are far smaller). */
export const MAX_REVEALED_MAGNITUDE = (1n << 64n) - 1n;
/** Hard cap on revealed entries in untrusted proofs (36 bytes each: ≤ 576 MiB). */
export const MAX_REVEALED_ENTRIES = 1 << 24;
/** Hard cap on opening quotients in untrusted proofs (one per block variable). */
export const MAX_QUOTIENTS = 64;

/** Sumcheck degree of the hidden relation: eq·Δ·(1 − s) is cubic per variable. */
export const HIDDEN_DEGREE = 3;

export interface SparseEntry {
  /** Position in the block (row·2^μy + col), < 2^μ. */
  readonly index: number;
  /** Δ at that position: a nonzero signed integer, |value| < 2^64. */
  readonly value: bigint;
}

export interface SparseRevealedProof {
  /** supp Δ with its values, indices strictly increasing. */
  readonly entries: readonly SparseEntry[];
}

export interface SparseHiddenProof {
  /** C_s, the commitment of the selector s ∈ {0,1}^n. */
  readonly selectorCommitment: G1Point;
  /** k' = Σ s_i, revealed (v1). */
  readonly claimedNonzeros: number;
  readonly sumcheck: SumcheckProof;
  /** Δ(ρ) */
  readonly deltaEval: bigint;
  /** s(ρ) */
  readonly selectorEval: bigint;
  /** Opening quotients of C_Δ + η·C_s at ρ. */
  readonly quotients: readonly G1Point[];
}

export function checkSparseInput(fn: string, input: BlockInput, delta: readonly bigint[], reveal: boolean): { mu: number; maxNonzeros: number } {
  const d = input.drift;
  if (d.class !== 'sparse' || d.reveal !== reveal) {
    throw new Error(`${fn}: expected a sparse statement with reveal = ${reveal}, got ${d.class}${d.class === 'sparse' ? ` with reveal = ${d.reveal}` : ''}`);
  }
  const mu = blockVars(input);
  if (delta.length !== 2 ** mu) throw new Error(`${fn}: expected ${2 ** mu} entries, got ${delta.length}`);
  return { mu, maxNonzeros: d.maxNonzeros };
}

/** supp Δ in increasing index order; refuses when it has more than k entries. */
export function supportOf(input: BlockInput, delta: readonly bigint[], maxNonzeros: number): SparseEntry[] {
  const entries: SparseEntry[] = [];
  delta.forEach((value, index) => {
    if (value !== 0n) entries.push({ index, value });
  });
  if (entries.length > maxNonzeros) {
    throw new DriftPolicyViolation(
      'sparse.nonzeros',
      `${entries.length}`,
      `${maxNonzeros}`,
      `block ${input.blockIndex} of ${input.tensor} has more nonzero changes than the class allows`,
      input.blockIndex,
    );
  }
  return entries;
}

/** Σ value·L[index] with the prover's MSM backend (small-scalar path when the values allow). */
export async function sparseCombination(msm: MsmBackend, basis: readonly G1Affine[], entries: readonly SparseEntry[]): Promise<G1Point> {
  const points = entries.map((e) => basis[e.index]!);
  const small = entries.every((e) => e.value > -(1n << 52n) && e.value < 1n << 52n);
  return small ? msm.msmSmall(points, entries.map((e) => Number(e.value))) : msm.msmFull(points, entries.map((e) => frSigned(e.value)));
}

// ---------------------------------------------------------------------------------------
// Revealed
// ---------------------------------------------------------------------------------------

/**
 * Prove a revealed-sparse block: the proof lists supp Δ. `delta` = q(W_ft) − q(W_base) for the
 * tile (length 2^μ, exact integers). C_ft = C_base + Σ value·L[index], an MSM over k points.
 */
export async function proveSparseRevealed(
  ctx: ProverContext,
  input: BlockInput,
  delta: readonly bigint[],
): Promise<{ statement: BlockStatement; proof: SparseRevealedProof }> {
  const { mu, maxNonzeros } = checkSparseInput('proveSparseRevealed', input, delta, true);
  const entries = supportOf(input, delta, maxNonzeros);
  for (const e of entries) {
    const a = e.value < 0n ? -e.value : e.value;
    if (a > MAX_REVEALED_MAGNITUDE) {
      throw new DriftPolicyViolation('sparse.value', `|Δ[${e.index}]| = ${a}`, `${MAX_REVEALED_MAGNITUDE}`, `block ${input.blockIndex} of ${input.tensor} has a change too large to reveal`, input.blockIndex);
    }
  }
  const cDelta = await sparseCombination(ctx.msm, basisFor(ctx.srs, mu), entries);
  return { statement: { ...input, cFt: input.cBase.add(cDelta) }, proof: { entries } };
}

/**
 * Check a revealed-sparse block. Needs the SRS Lagrange points at the revealed indices (see
 * the header). No pairing: valid results carry `accumulator: null`.
 */
export function verifySparseRevealed(srs: Srs, st: BlockStatement, proof: SparseRevealedProof): BlockCheck {
  const d = st.drift;
  if (d.class !== 'sparse') return blockRejected(`statement class is ${d.class}, proof is sparse-revealed`);
  if (!d.reveal) return blockRejected('sparse: the statement asks for a hidden support, the proof reveals it');
  const mu = blockVars(st);
  if (mu > srs.N) return blockRejected(`block of ${mu} variables exceeds the SRS size ${srs.N}`);
  const { entries } = proof;
  if (entries.length > d.maxNonzeros) return blockRejected(`sparse: ${entries.length} revealed changes exceed the bound ${d.maxNonzeros}`);
  const n = 2 ** mu;
  let prev = -1;
  for (let k = 0; k < entries.length; k++) {
    const { index, value } = entries[k]!;
    // Strict order makes the list a set, so it has one encoding per Δ and its length is
    // exactly |supp Δ| (a value split over a repeated index would satisfy the group equation).
    if (!Number.isSafeInteger(index) || index <= prev) return blockRejected(`sparse: entry ${k} has index ${index}, not above the previous ${prev}`);
    if (index >= n) return blockRejected(`sparse: entry ${k} has index ${index}, outside the block of ${n} entries`);
    if (value === 0n) return blockRejected(`sparse: entry ${k} (index ${index}) reveals a zero change`);
    if (value > MAX_REVEALED_MAGNITUDE || -value > MAX_REVEALED_MAGNITUDE) return blockRejected(`sparse: entry ${k} (index ${index}) has |value| ≥ 2^64`);
    prev = index;
  }
  const basis = basisFor(srs, mu);
  // C_ft − C_base = Σ value·L[index]
  const implied = msmFull(
    entries.map((e) => basis[e.index]!),
    entries.map((e) => frSigned(e.value)),
  );
  if (!st.cFt.subtract(st.cBase).equals(implied)) return blockRejected('sparse: C_ft − C_base differs from the commitment of the revealed changes');
  return { valid: true, accumulator: null, summary: { nonzeros: entries.length } };
}

/** u32 count ‖ count × (u32 index ‖ value as a 32-byte scalar, negative x ↦ r − |x|). */
export function encodeSparseRevealedProof(p: SparseRevealedProof): Uint8Array {
  const w = new ByteWriter();
  w.u32(p.entries.length);
  for (const e of p.entries) w.u32(e.index).scalar(frSigned(e.value));
  return w.finish();
}

export function decodeSparseRevealedProof(bytes: Uint8Array, what = 'proof'): SparseRevealedProof {
  const r = new ByteReader(bytes, what);
  const count = r.count('entries.length', MAX_REVEALED_ENTRIES);
  const entries: SparseEntry[] = [];
  for (let k = 0; k < count; k++) {
    const index = r.u32(`entries[${k}].index`);
    // Each signed value in (−2^64, 2^64) has exactly one scalar encoding, so this is canonical.
    const value = frToSigned(r.scalar(`entries[${k}].value`));
    if (value > MAX_REVEALED_MAGNITUDE || -value > MAX_REVEALED_MAGNITUDE) {
      badInput('BAD_VALUE', `${what}.entries[${k}].value`, 'revealed values must satisfy |value| < 2^64');
    }
    entries.push({ index, value });
  }
  r.end();
  return { entries };
}

// ---------------------------------------------------------------------------------------
// Hidden
// ---------------------------------------------------------------------------------------

interface HiddenChallenges {
  readonly r: bigint[];
  readonly alpha: bigint;
  readonly beta: bigint;
}

/** Absorb the prover's commitments (C_s, k') and draw r, α, β — shared by prover and verifier. */
function hiddenChallenges(t: Transcript, mu: number, selectorCommitment: G1Point, claimedNonzeros: number): HiddenChallenges {
  t.absorbG1('sparse.selector', selectorCommitment);
  t.absorbU64('sparse.nonzeros', claimedNonzeros);
  const r = t.challenges('sparse.r', mu);
  const alpha = t.challenge('sparse.alpha');
  const beta = t.challenge('sparse.beta');
  return { r, alpha, beta };
}

/** eq·[Δ(1 − s) + α·s(s − 1)] + β·s */
export function hiddenSummand(alpha: bigint, beta: bigint, e: bigint, delta: bigint, s: bigint): bigint {
  const oneMinusS = Fr.sub(1n, s);
  const inner = Fr.sub(Fr.mul(delta, oneMinusS), Fr.mul(alpha, Fr.mul(s, oneMinusS)));
  return Fr.add(Fr.mul(e, inner), Fr.mul(beta, s));
}

/** Δ(ρ), s(ρ) are absorbed before η so the batched opening is bound to them. */
function hiddenEta(t: Transcript, deltaEval: bigint, selectorEval: bigint): bigint {
  t.absorbScalars('sparse.evals', [deltaEval, selectorEval]);
  return t.challenge('sparse.eta');
}

/**
 * Prove a hidden-sparse block: C_Δ by an MSM over supp Δ, C_s by a subset sum, one sumcheck,
 * one batched opening. Refuses (DriftPolicyViolation 'sparse.nonzeros') when |supp Δ| > k.
 */
export async function proveSparseHidden(
  ctx: ProverContext,
  input: BlockInput,
  delta: readonly bigint[],
): Promise<{ statement: BlockStatement; proof: SparseHiddenProof }> {
  const { mu, maxNonzeros } = checkSparseInput('proveSparseHidden', input, delta, false);
  const entries = supportOf(input, delta, maxNonzeros);
  const cDelta = await sparseCombination(ctx.msm, basisFor(ctx.srs, mu), entries);
  const statement: BlockStatement = { ...input, cFt: input.cBase.add(cDelta) };

  const bits = new Uint8Array(delta.length);
  for (const e of entries) bits[e.index] = 1;
  const selectorCommitment = await commitBits(ctx, bits);
  const claimedNonzeros = entries.length;

  const t = statementTranscript(SPARSE_HIDDEN_PROTOCOL, statement);
  const { r, alpha, beta } = hiddenChallenges(t, mu, selectorCommitment, claimedNonzeros);
  const deltaTable = delta.map(frSigned);
  const selectorTable = Array.from(bits, (b) => BigInt(b));
  const sc = proveSumcheck(t, 'sparse', [eqTable(r), deltaTable, selectorTable], HIDDEN_DEGREE, (v) => hiddenSummand(alpha, beta, v[0]!, v[1]!, v[2]!));
  const deltaEval = sc.finalValues[1]!;
  const selectorEval = sc.finalValues[2]!;
  const eta = hiddenEta(t, deltaEval, selectorEval);
  const opening = await openAt(ctx, combineVectors([deltaTable, selectorTable], eta), sc.point);
  invariant(opening.value === Fr.add(deltaEval, Fr.mul(eta, selectorEval)), 'sparse: batched opening value differs from the sumcheck final values');
  return {
    statement,
    proof: { selectorCommitment, claimedNonzeros, sumcheck: sc.proof, deltaEval, selectorEval, quotients: opening.quotients },
  };
}

/** Non-pairing checks of a hidden-sparse block; on success, the block's pending accumulator. */
export function verifySparseHidden(N: number, st: BlockStatement, proof: SparseHiddenProof): BlockCheck {
  const d = st.drift;
  if (d.class !== 'sparse') return blockRejected(`statement class is ${d.class}, proof is sparse-hidden`);
  if (d.reveal) return blockRejected('sparse: the statement asks for revealed changes, the proof hides them');
  const mu = blockVars(st);
  if (mu > N) return blockRejected(`block of ${mu} variables exceeds the SRS size ${N}`);
  const k = proof.claimedNonzeros;
  if (!Number.isSafeInteger(k) || k < 0) return blockRejected(`sparse: claimed nonzero count ${k} is not a non-negative integer`);
  if (k > d.maxNonzeros) return blockRejected(`sparse: claimed ${k} nonzeros exceed the bound ${d.maxNonzeros}`);
  if (proof.quotients.length !== mu) return blockRejected(`sparse: expected ${mu} opening quotients, got ${proof.quotients.length}`);

  const t = statementTranscript(SPARSE_HIDDEN_PROTOCOL, st);
  const { r, alpha, beta } = hiddenChallenges(t, mu, proof.selectorCommitment, k);
  const sc = verifySumcheck(t, 'sparse', proof.sumcheck, mu, HIDDEN_DEGREE, Fr.mul(beta, BigInt(k)));
  if (!sc.ok) return blockRejected(sc.reason);
  // P(eq(r,ρ), Δ(ρ), s(ρ)) must equal the last round's claim; eq(r,ρ) the verifier computes.
  const expected = hiddenSummand(alpha, beta, eqEval(r, sc.point), proof.deltaEval, proof.selectorEval);
  if (expected !== sc.finalClaim) return blockRejected('sparse: the final sumcheck claim does not match Δ(ρ), s(ρ)');
  const eta = hiddenEta(t, proof.deltaEval, proof.selectorEval);
  // Open C_Δ + η·C_s = C_ft − C_base + η·C_s at ρ to Δ(ρ) + η·s(ρ).
  const terms = [
    { point: st.cFt, scalar: 1n },
    { point: st.cBase, scalar: Fr.neg(1n) },
    { point: proof.selectorCommitment, scalar: eta },
  ];
  const acc = openingAccumulator(N, terms, Fr.add(proof.deltaEval, Fr.mul(eta, proof.selectorEval)), sc.point, proof.quotients);
  return { valid: true, accumulator: acc, summary: { nonzeros: k } };
}

/** C_s ‖ u32 k' ‖ sumcheck ‖ Δ(ρ) ‖ s(ρ) ‖ u32 count ‖ quotients. */
export function encodeSparseHiddenProof(p: SparseHiddenProof): Uint8Array {
  const w = new ByteWriter();
  w.g1(p.selectorCommitment).u32(p.claimedNonzeros);
  writeSumcheck(w, p.sumcheck);
  w.scalar(p.deltaEval).scalar(p.selectorEval);
  w.g1s(p.quotients);
  return w.finish();
}

export function decodeSparseHiddenProof(bytes: Uint8Array, what = 'proof'): SparseHiddenProof {
  const r = new ByteReader(bytes, what);
  const selectorCommitment = r.proofG1('selectorCommitment');
  const claimedNonzeros = r.u32('claimedNonzeros');
  const sumcheck = readSumcheck(r, 'sumcheck');
  const deltaEval = r.scalar('deltaEval');
  const selectorEval = r.scalar('selectorEval');
  const quotients = r.proofG1s('quotients', MAX_QUOTIENTS);
  r.end();
  return { selectorCommitment, claimedNonzeros, sumcheck, deltaEval, selectorEval, quotients };
}
