/**
 * Proving units for hidden `sparse`: the blocks of one tensor proven together, with one
 * lockstep zerocheck sumcheck and one batched opening (smdp/README.md item 9).
 *
 * Relation: for every block t of the unit (T ≥ 2 blocks of one tensor, one drift spec, one
 * block size 2^μ), the relation of classes/sparse.ts (hidden): ∃ Δ_t, s_t ∈ {0,1}^n with
 * C(Δ_t) = C_ft,t − C_base,t, C(s_t) = C_s,t, Δ_t(1 − s_t) = 0 and Σ s_t = k'_t ≤ k.
 *
 * Transcript (`fti/unit/sparse-hidden/v1`): the unit transcript; per block `sparse.selector`
 * (C_s,t) and `sparse.nonzeros` (k'_t); r ∈ F^μ, α, β, θ; one sumcheck (`sparse`, degree 3) of
 *   Σ_b Σ_t θ^t·(eq(r,b)·[Δ_t(b)(1 − s_t(b)) + α·s_t(b)(s_t(b) − 1)] + β·s_t(b)) = β·Σ_t θ^t k'_t,
 * ending at one ρ; per block `sparse.evals` (Δ_t(ρ), s_t(ρ)); η; one opening at ρ of
 * Σ_t η^(2t)·(C_ft,t − C_base,t) + η^(2t+1)·C_s,t. Soundness: every block's claim error is
 * fixed before θ, so a false block survives with probability ≤ (T − 1)/|F| beyond the
 * one-block error (classes/sparse.ts); the η batch adds ≤ (2T − 1)/|F|.
 */
import { openingAccumulator } from '../accumulator.ts';
import { ByteReader, ByteWriter } from '../bytes.ts';
import { Fr, frSigned, type G1Point } from '../field.ts';
import { eqEval, eqTable, powers } from '../mle.ts';
import { combineVectors, openAt, powerCombine, type ProverContext } from '../pst.ts';
import { basisFor } from '../srs.ts';
import { blockVars, unitTranscript, type BlockStatement } from '../statement.ts';
import { readSumcheck, writeSumcheck } from '../sumcheck-codec.ts';
import { proveSumcheck, verifySumcheck, type SumcheckProof } from '../sumcheck.ts';
import type { Transcript } from '../transcript.ts';
import type { BlockSummary } from './common.ts';
import type { BlockInput } from './norm.ts';
import { MAX_UNIT_BLOCKS, unitShapeProblem, type UnitCheck } from './norm-unit.ts';
import { HIDDEN_DEGREE, MAX_QUOTIENTS, checkSparseInput, hiddenSummand, sparseCombination, supportOf } from './sparse.ts';

export const SPARSE_UNIT_PROTOCOL = 'fti/unit/sparse-hidden/v1';

export interface SparseHiddenUnitProof {
  /** C_s,t per block. */
  readonly selectorCommitments: readonly G1Point[];
  /** k'_t per block. */
  readonly claimedNonzeros: readonly number[];
  readonly sumcheck: SumcheckProof;
  /** Δ_t(ρ) per block. */
  readonly deltaEvals: readonly bigint[];
  /** s_t(ρ) per block. */
  readonly selectorEvals: readonly bigint[];
  readonly quotients: readonly G1Point[];
}

interface UnitChallenges {
  readonly r: bigint[];
  readonly alpha: bigint;
  readonly beta: bigint;
  readonly thetaPow: bigint[];
}

function challenges(t: Transcript, mu: number, cs: readonly G1Point[], ks: readonly number[]): UnitChallenges {
  cs.forEach((c, k) => {
    t.absorbG1('sparse.selector', c);
    t.absorbU64('sparse.nonzeros', ks[k]!);
  });
  const r = t.challenges('sparse.r', mu);
  const alpha = t.challenge('sparse.alpha');
  const beta = t.challenge('sparse.beta');
  const thetaPow = powers(t.challenge('sparse.theta'), cs.length);
  return { r, alpha, beta, thetaPow };
}

/** v = [eq, Δ_0, s_0, Δ_1, s_1, …] ↦ Σ_t θ^t·hiddenSummand(α, β, eq, Δ_t, s_t). */
function combined(ch: UnitChallenges, v: readonly bigint[]): bigint {
  let out = 0n;
  ch.thetaPow.forEach((tp, t) => (out = Fr.add(out, Fr.mul(tp, hiddenSummand(ch.alpha, ch.beta, v[0]!, v[1 + 2 * t]!, v[2 + 2 * t]!)))));
  return out;
}

/** Prove T ≥ 2 hidden-sparse blocks of one tensor as one unit; refuses like `proveSparseHidden`. */
export async function proveSparseHiddenUnit(ctx: ProverContext, inputs: readonly BlockInput[], deltas: readonly (readonly bigint[])[]): Promise<{ statements: BlockStatement[]; proof: SparseHiddenUnitProof }> {
  const d0 = inputs[0]?.drift;
  const shape = unitShapeProblem(inputs) ?? (d0?.class !== 'sparse' ? `a ${d0?.class} unit takes its own prover` : null);
  if (shape !== null) throw new Error(`proveSparseHiddenUnit: ${shape}`);
  const mu = blockVars(inputs[0]!);
  const statements: BlockStatement[] = [];
  const bitsList: Uint8Array[] = [];
  const ks: number[] = [];
  for (const [t, input] of inputs.entries()) {
    const { maxNonzeros } = checkSparseInput('proveSparseHiddenUnit', input, deltas[t]!, false);
    const entries = supportOf(input, deltas[t]!, maxNonzeros);
    statements.push({ ...input, cFt: input.cBase.add(await sparseCombination(ctx.msm, basisFor(ctx.srs, mu), entries)) });
    const bits = new Uint8Array(deltas[t]!.length);
    for (const e of entries) bits[e.index] = 1;
    bitsList.push(bits);
    ks.push(entries.length);
  }
  const basis = basisFor(ctx.srs, mu);
  const cs = ctx.msm.kernels !== undefined ? await ctx.msm.kernels.commitBitVectors(basis, bitsList) : await Promise.all(bitsList.map((b) => ctx.msm.subsetSum(basis, b)));
  const tr = unitTranscript(SPARSE_UNIT_PROTOCOL, statements);
  const ch = challenges(tr, mu, cs, ks);
  const tables: bigint[][] = [eqTable(ch.r)];
  deltas.forEach((d, t) => tables.push(d.map(frSigned), Array.from(bitsList[t]!, (b) => BigInt(b))));
  const sc = proveSumcheck(tr, 'sparse', tables, HIDDEN_DEGREE, (v) => combined(ch, v));
  const deltaEvals = deltas.map((_, t) => sc.finalValues[1 + 2 * t]!);
  const selectorEvals = deltas.map((_, t) => sc.finalValues[2 + 2 * t]!);
  deltas.forEach((_, t) => tr.absorbScalars('sparse.evals', [deltaEvals[t]!, selectorEvals[t]!]));
  const eta = tr.challenge('sparse.eta');
  const opening = await openAt(ctx, combineVectors(tables.slice(1), eta), sc.point);
  return { statements, proof: { selectorCommitments: cs, claimedNonzeros: ks, sumcheck: sc.proof, deltaEvals, selectorEvals, quotients: opening.quotients } };
}

/** Non-pairing checks of a hidden-sparse unit; on success one accumulator and k'_t per block. */
export function verifySparseHiddenUnit(N: number, statements: readonly BlockStatement[], proof: SparseHiddenUnitProof): UnitCheck {
  const rejected = (reason: string): UnitCheck => ({ valid: false, reason });
  const shape = unitShapeProblem(statements);
  if (shape !== null) return rejected(`sparse unit: ${shape}`);
  const d = statements[0]!.drift;
  if (d.class !== 'sparse' || d.reveal) return rejected('sparse unit: only hidden sparse blocks form units');
  const T = statements.length;
  const mu = blockVars(statements[0]!);
  if (mu > N) return rejected(`block of ${mu} variables exceeds the SRS size ${N}`);
  const { selectorCommitments: cs, claimedNonzeros: ks } = proof;
  if (cs.length !== T || ks.length !== T || proof.deltaEvals.length !== T || proof.selectorEvals.length !== T) return rejected(`sparse unit: ${T} statements, ${cs.length} selectors, ${ks.length} counts, ${proof.deltaEvals.length}/${proof.selectorEvals.length} evaluations`);
  const summaries: BlockSummary[] = [];
  for (const [t, k] of ks.entries()) {
    if (!Number.isSafeInteger(k) || k < 0) return rejected(`sparse: block ${statements[t]!.blockIndex}: claimed nonzero count ${k} is not a non-negative integer`);
    if (k > d.maxNonzeros) return rejected(`sparse: block ${statements[t]!.blockIndex}: claimed ${k} nonzeros exceed the bound ${d.maxNonzeros}`);
    summaries.push({ nonzeros: k });
  }
  if (proof.quotients.length !== mu) return rejected(`sparse: expected ${mu} opening quotients, got ${proof.quotients.length}`);
  const tr = unitTranscript(SPARSE_UNIT_PROTOCOL, statements);
  const ch = challenges(tr, mu, cs, ks);
  let claim = 0n;
  ks.forEach((k, t) => (claim = Fr.add(claim, Fr.mul(ch.thetaPow[t]!, Fr.mul(ch.beta, BigInt(k))))));
  const sc = verifySumcheck(tr, 'sparse', proof.sumcheck, mu, HIDDEN_DEGREE, claim);
  if (!sc.ok) return rejected(sc.reason);
  const v: bigint[] = [eqEval(ch.r, sc.point)];
  for (let t = 0; t < T; t++) v.push(proof.deltaEvals[t]!, proof.selectorEvals[t]!);
  if (combined(ch, v) !== sc.finalClaim) return rejected('sparse: the final sumcheck claim does not match the blocks\' Δ(ρ), s(ρ)');
  for (let t = 0; t < T; t++) tr.absorbScalars('sparse.evals', [proof.deltaEvals[t]!, proof.selectorEvals[t]!]);
  const eta = tr.challenge('sparse.eta');
  // Σ_t η^(2t)·(C_ft,t − C_base,t) + η^(2t+1)·C_s,t, opened to Σ_k η^k·v_{k+1} (v's order).
  const terms: { point: G1Point; scalar: bigint }[] = [];
  let pow = 1n;
  statements.forEach((st, t) => {
    const next = Fr.mul(pow, eta);
    terms.push({ point: st.cFt, scalar: pow }, { point: st.cBase, scalar: Fr.neg(pow) }, { point: cs[t]!, scalar: next });
    pow = Fr.mul(next, eta);
  });
  return { valid: true, accumulator: openingAccumulator(N, terms, powerCombine(v.slice(1), eta), sc.point, proof.quotients), summaries };
}

/** u32 T ‖ T × (C_s ‖ u32 k') ‖ sumcheck ‖ Δ(ρ) list ‖ s(ρ) list ‖ u32 count ‖ quotients. */
export function encodeSparseHiddenUnitProof(p: SparseHiddenUnitProof): Uint8Array {
  const w = new ByteWriter();
  w.u32(p.selectorCommitments.length);
  p.selectorCommitments.forEach((c, t) => w.g1(c).u32(p.claimedNonzeros[t]!));
  writeSumcheck(w, p.sumcheck);
  w.scalars(p.deltaEvals);
  w.scalars(p.selectorEvals);
  w.g1s(p.quotients);
  return w.finish();
}

/** Total decoder of `encodeSparseHiddenUnitProof`'s bytes: throws only SmdpError. */
export function decodeSparseHiddenUnitProof(bytes: Uint8Array, what = 'proof'): SparseHiddenUnitProof {
  const r = new ByteReader(bytes, what);
  const T = r.count('blocks.length', MAX_UNIT_BLOCKS);
  const selectorCommitments: G1Point[] = [];
  const claimedNonzeros: number[] = [];
  for (let t = 0; t < T; t++) {
    selectorCommitments.push(r.proofG1(`selectorCommitments[${t}]`));
    claimedNonzeros.push(r.u32(`claimedNonzeros[${t}]`));
  }
  const sumcheck = readSumcheck(r, 'sumcheck');
  const deltaEvals = r.scalars('deltaEvals', MAX_UNIT_BLOCKS);
  const selectorEvals = r.scalars('selectorEvals', MAX_UNIT_BLOCKS);
  const quotients = r.proofG1s('quotients', MAX_QUOTIENTS);
  r.end();
  return { selectorCommitments, claimedNonzeros, sumcheck, deltaEvals, selectorEvals, quotients };
}
