/**
 * Multilinear sumcheck (PROTOCOLS.md §4) for Σ_{b∈{0,1}^μ} P(f_1(b),…,f_k(b)) = H, where the
 * f_k are multilinear (given by their tables) and P has degree ≤ d in each variable.
 *
 * Round i (variables bound lowest first, matching PST openings): the prover sends
 * g_i(t) = Σ_{b'} P(f(ρ_1..ρ_{i−1}, t, b')) at t = 0..d; the verifier checks
 * g_i(0) + g_i(1) = claim_{i−1}, absorbs the d+1 values and draws ρ_i, and sets
 * claim_i = g_i(ρ_i) (Lagrange interpolation on 0..d). At the end the caller checks
 * P(f_1(ρ),…,f_k(ρ)) = claim_μ with the f_k(ρ) proven by a PST opening.
 * Soundness error ≤ d·μ/|F| (Schwartz–Zippel per round). A zerocheck P(b) = 0 ∀b is run as
 * Σ_b eq(r,b)·P(b) = 0 with r drawn from the transcript (extra error μ/|F|).
 */
import { Fr } from './field.ts';
import { foldLowest } from './mle.ts';
import type { Transcript } from './transcript.ts';

export interface SumcheckProof {
  /** rounds[i] = [g_i(0), …, g_i(d)] */
  readonly rounds: readonly (readonly bigint[])[];
}

export interface SumcheckProverResult {
  readonly proof: SumcheckProof;
  /** ρ_1..ρ_μ */
  readonly point: bigint[];
  /** f_k(ρ) for every input table */
  readonly finalValues: bigint[];
}

/**
 * Run the prover. `tables` are consumed (folded in place copies). `combine(vals)` evaluates P
 * at one hypercube point's values; it is called (d+1)·2^(μ−i) times in round i.
 */
export function proveSumcheck(
  transcript: Transcript,
  label: string,
  tables: readonly (readonly bigint[])[],
  degree: number,
  combine: (vals: readonly bigint[]) => bigint,
): SumcheckProverResult {
  const k = tables.length;
  let cur: bigint[][] = tables.map((t) => t.slice());
  const n = cur[0]?.length ?? 1;
  const mu = 31 - Math.clz32(n);
  const rounds: bigint[][] = [];
  const point: bigint[] = [];
  const vals = new Array<bigint>(k);
  const diffs = new Array<bigint>(k);
  for (let i = 0; i < mu; i++) {
    const half = cur[0]!.length >> 1;
    const g = new Array<bigint>(degree + 1).fill(0n);
    for (let j = 0; j < half; j++) {
      for (let m = 0; m < k; m++) {
        const t = cur[m]!;
        const f0 = t[2 * j]!;
        vals[m] = f0;
        diffs[m] = Fr.sub(t[2 * j + 1]!, f0);
      }
      g[0] = Fr.add(g[0]!, combine(vals));
      for (let x = 1; x <= degree; x++) {
        for (let m = 0; m < k; m++) vals[m] = Fr.add(vals[m]!, diffs[m]!);
        g[x] = Fr.add(g[x]!, combine(vals));
      }
    }
    rounds.push(g);
    transcript.absorbScalars(`${label}.round[${i}]`, g);
    const rho = transcript.challenge(`${label}.rho[${i}]`);
    point.push(rho);
    cur = cur.map((t) => foldLowest(t, rho));
  }
  return { proof: { rounds }, point, finalValues: cur.map((t) => t[0]!) };
}

export type SumcheckVerification =
  | { readonly ok: true; readonly point: bigint[]; readonly finalClaim: bigint }
  | { readonly ok: false; readonly reason: string };

/** Verify the rounds against `claim`; the caller checks the final claim against openings. */
export function verifySumcheck(
  transcript: Transcript,
  label: string,
  proof: SumcheckProof,
  numVars: number,
  degree: number,
  claim: bigint,
): SumcheckVerification {
  if (proof.rounds.length !== numVars) return { ok: false, reason: `${label}: expected ${numVars} rounds, got ${proof.rounds.length}` };
  const point: bigint[] = [];
  let cur = claim;
  for (let i = 0; i < numVars; i++) {
    const g = proof.rounds[i]!;
    if (g.length !== degree + 1) return { ok: false, reason: `${label}: round ${i} has ${g.length} evaluations, expected ${degree + 1}` };
    if (Fr.add(g[0]!, g[1]!) !== cur) return { ok: false, reason: `${label}: round ${i}: g(0) + g(1) does not equal the running claim` };
    transcript.absorbScalars(`${label}.round[${i}]`, g);
    const rho = transcript.challenge(`${label}.rho[${i}]`);
    point.push(rho);
    cur = interpolateAt(g, rho);
  }
  return { ok: true, point, finalClaim: cur };
}

/** Per degree d: the barycentric weights 1 / Π_{j≠i} (i − j) of the nodes 0 … d (public, fixed). */
const lagrangeWeights = new Map<number, bigint[]>();
function weightsFor(d: number): bigint[] {
  let w = lagrangeWeights.get(d);
  if (w === undefined) {
    const dens: bigint[] = [];
    for (let i = 0; i <= d; i++) {
      let den = 1n;
      for (let j = 0; j <= d; j++) if (j !== i) den = Fr.mul(den, Fr.create(BigInt(i - j)));
      dens.push(den);
    }
    w = Fr.invertBatch(dens);
    if (lagrangeWeights.size >= 64) lagrangeWeights.clear();
    lagrangeWeights.set(d, w);
  }
  return w;
}

/**
 * The degree-≤d polynomial through (0,e_0)…(d,e_d), evaluated at x (Lagrange form):
 * Σ_i e_i·w_i·Π_{j≠i} (x − j), the numerators from prefix and suffix products of (x − j)
 * (exact also when x is a node), the weights w_i cached per degree.
 */
export function interpolateAt(evals: readonly bigint[], x: bigint): bigint {
  const d = evals.length - 1;
  if (d < 0) return 0n;
  const w = weightsFor(d);
  const diff = new Array<bigint>(d + 1);
  for (let j = 0; j <= d; j++) diff[j] = Fr.sub(x, Fr.create(BigInt(j)));
  // suffix[i] = Π_{j>i} (x − j)
  const suffix = new Array<bigint>(d + 1);
  suffix[d] = 1n;
  for (let i = d - 1; i >= 0; i--) suffix[i] = Fr.mul(suffix[i + 1]!, diff[i + 1]!);
  let acc = 0n;
  let prefix = 1n; // Π_{j<i} (x − j)
  for (let i = 0; i <= d; i++) {
    const e = evals[i]!;
    if (e !== 0n) acc = Fr.add(acc, Fr.mul(Fr.mul(e, w[i]!), Fr.mul(prefix, suffix[i]!)));
    prefix = Fr.mul(prefix, diff[i]!);
  }
  return acc;
}
