/**
 * PST13 multilinear KZG (PROTOCOLS.md §2), Lagrange-basis SRS of `srs.ts`.
 *
 * Commit:  C(v) = Σ_b v_b·L[b] = [ṽ(τ)]_1 — one MSM (small signed scalars for weights).
 * Open at ρ ∈ F^μ: for i = 1..μ with f_0, f_1 the even/odd halves of the current table,
 *   q_i = f_1 − f_0,  next table = f_0 + ρ_i·q_i,  π_i = C(q_i) over the basis of X_{i+1}..X_μ.
 *   Then ṽ(X) − ṽ(ρ) = Σ_i (X_i − ρ_i)·q̃_i(X_{i+1..μ}), which the verifier checks at τ:
 * Verify:  e(C − [y]_1, [1]_2) = Π_i e(π_i, [τ_{N−μ+i}]_2 − [ρ_i]_2), used in the
 *   accumulation form of `accumulator.ts`.
 * Batch at one point: open Σ_k η^k·v_k to Σ_k η^k·y_k against Σ_k η^k·C_k.
 *
 * Security: evaluation binding under the q-SDH-type assumptions of PST13; knowledge
 * soundness in the algebraic group model. BLS12-381 gives ≈ 120-bit security (not 128).
 */
import { Fr, type G1Point } from './field.ts';
import { foldLowest, log2Exact } from './mle.ts';
import type { MsmBackend } from './msm.ts';
import { basisFor, type Srs } from './srs.ts';
import { openingAccumulator, pairingCheck, type CommitmentTerms } from './accumulator.ts';
import type { VerifierKey } from './srs.ts';

export interface ProverContext {
  readonly srs: Srs;
  readonly msm: MsmBackend;
}

/** C(v) for signed safe-integer values (|v| < 2^52). */
export async function commitSmall(ctx: ProverContext, values: ArrayLike<number>): Promise<G1Point> {
  const mu = log2Exact(values.length, 'commitSmall: vector length');
  return ctx.msm.msmSmall(basisFor(ctx.srs, mu), values);
}

/** C(v) for a 0/1 vector: a subset sum of basis points. */
export async function commitBits(ctx: ProverContext, bits: ArrayLike<number>): Promise<G1Point> {
  const mu = log2Exact(bits.length, 'commitBits: vector length');
  return ctx.msm.subsetSum(basisFor(ctx.srs, mu), bits);
}

/** C(v) for field-element values. */
export async function commitField(ctx: ProverContext, values: readonly bigint[]): Promise<G1Point> {
  const mu = log2Exact(values.length, 'commitField: vector length');
  return ctx.msm.msmFull(basisFor(ctx.srs, mu), values);
}

export interface PstOpening {
  /** y = ṽ(ρ) */
  readonly value: bigint;
  /** π_1..π_μ */
  readonly quotients: readonly G1Point[];
}

/** Open the MLE of `values` (field elements, length 2^μ) at `point` (length μ). */
export async function openAt(ctx: ProverContext, values: readonly bigint[], point: readonly bigint[]): Promise<PstOpening> {
  const mu = log2Exact(values.length, 'openAt: vector length');
  if (point.length !== mu) throw new Error(`openAt: expected a point of ${mu} coordinates, got ${point.length}`);
  const quotients: G1Point[] = [];
  let table: readonly bigint[] = values;
  for (let i = 0; i < mu; i++) {
    const half = table.length >> 1;
    const q = new Array<bigint>(half);
    for (let j = 0; j < half; j++) q[j] = Fr.sub(table[2 * j + 1]!, table[2 * j]!);
    quotients.push(await ctx.msm.msmFull(basisFor(ctx.srs, mu - i - 1), q));
    table = foldLowest(table, point[i]!);
  }
  return { value: table[0]!, quotients };
}

/** Σ_k η^k·x_k in Fr. */
export function powerCombine(xs: readonly bigint[], eta: bigint): bigint {
  let acc = 0n;
  for (let k = xs.length - 1; k >= 0; k--) acc = Fr.add(Fr.mul(acc, eta), xs[k]!);
  return acc;
}

/** The terms (C_k, η^k) of Σ_k η^k·C_k: the verifier side of a batched opening. */
export function combinedCommitmentTerms(cs: readonly G1Point[], eta: bigint): CommitmentTerms {
  let pow = 1n;
  return cs.map((point) => {
    const t = { point, scalar: pow };
    pow = Fr.mul(pow, eta);
    return t;
  });
}

/** Σ_k η^k·v_k elementwise (prover side of a batched opening). */
export function combineVectors(vs: readonly (readonly bigint[])[], eta: bigint): bigint[] {
  const n = vs[0]?.length ?? 0;
  const out = new Array<bigint>(n).fill(0n);
  for (let k = vs.length - 1; k >= 0; k--) {
    const v = vs[k]!;
    if (v.length !== n) throw new Error(`combineVectors: vector ${k} has ${v.length} entries, expected ${n}`);
    for (let i = 0; i < n; i++) out[i] = Fr.add(Fr.mul(out[i]!, eta), v[i]!);
  }
  return out;
}

/** Stand-alone opening check with one multi-pairing (tests and single openings). */
export function verifyOpening(vk: VerifierKey, C: G1Point, value: bigint, point: readonly bigint[], quotients: readonly G1Point[]): boolean {
  if (point.length > vk.N || quotients.length !== point.length) return false;
  return pairingCheck(vk, openingAccumulator(vk.N, [{ point: C, scalar: 1n }], value, point, quotients).evaluate());
}
