/**
 * Range and square-sum sub-protocol shared by `norm`, `linf` and the low-rank residual
 * (PROTOCOLS.md §5.4, with one tightening documented in smdp/README.md §Range weights).
 *
 * For a bound B ≥ 1 let ℓ = bitlen(2B) and weights w_j = 2^j (j < ℓ−1),
 * w_{ℓ−1} = 2B − 2^{ℓ−1} + 1. Every integer x ∈ [0, 2B] is Σ_j w_j·β_j for bits β_j, and
 * every bit pattern gives Σ_j w_j·β_j ∈ [0, 2B] exactly (max = 2^{ℓ−1} − 1 + w_{ℓ−1} = 2B).
 * So committed bits β_j with Δ_i + B = Σ_j w_j β_{j,i} prove |Δ_i| ≤ B exactly. (With
 * plain powers of two, Σ_j 2^j β_j reaches 2^ℓ − 1, which can exceed 2B: an linf bound
 * would only hold up to 2^ℓ − 1 − B.) B = 0 gives ℓ = 0: Δ = 0.
 *
 * Relation: C_Δ + [B]_1 = Σ_j w_j·C_{β_j} (checked on commitments: the all-ones vector
 * commits to g1), and one sumcheck batching
 *   Σ_b eq(r,b)·Σ_j α^j β_j(b)(β_j(b) − 1)  +  c·Σ_b Δ(b)²   =  c·S,   Δ(b) = Σ_j w_j β_j(b) − B
 * (degree 3; the square-sum term only when `withSquareSum`). Since |Δ_i| ≤ B and
 * n·B² < r is checked, the field value S is the integer Σ Δ_i².
 * Soundness: non-boolean bits survive the zerocheck with probability ≤ (μ + ℓ)/|F| (α, r
 * random); a false S survives with probability ≤ 3μ/|F|.
 */
import type { PendingAccumulator } from '../accumulator.ts';
import { curveOps } from '../curve-ops.ts';
import { Fr, G1, R, type G1Point } from '../field.ts';
import { eqEval, eqTable, powers } from '../mle.ts';
import type { ProverKernels } from '../kernels.ts';
import { commitBits, combineVectors, openAt, type ProverContext, type PstOpening } from '../pst.ts';
import { basisFor } from '../srs.ts';
import { proveSumcheck, verifySumcheck, type SumcheckProof } from '../sumcheck.ts';
import type { Transcript } from '../transcript.ts';

export function rangeWeights(B: bigint): bigint[] {
  if (B < 0n) throw new Error(`rangeWeights: expected B ≥ 0, got ${B}`);
  if (B === 0n) return [];
  const ell = (2n * B).toString(2).length;
  const w: bigint[] = [];
  for (let j = 0; j < ell - 1; j++) w.push(1n << BigInt(j));
  w.push(2n * B - (1n << BigInt(ell - 1)) + 1n);
  return w;
}

/** Bits β_j with x = Σ_j w_j β_j, for x ∈ [0, 2B]. */
export function decomposeInRange(x: bigint, weights: readonly bigint[]): number[] {
  const ell = weights.length;
  const bits = new Array<number>(ell).fill(0);
  if (ell === 0) return bits;
  const top = weights[ell - 1]!;
  let rest = x;
  if (x >= 1n << BigInt(ell - 1)) {
    bits[ell - 1] = 1;
    rest = x - top;
  }
  for (let j = 0; j < ell - 1; j++) bits[j] = Number((rest >> BigInt(j)) & 1n);
  return bits;
}

/** The largest Σ Δ² that stays an integer in Fr: n·B² < r (so S cannot wrap). */
export function squareSumFits(mu: number, B: bigint): boolean {
  return (1n << BigInt(mu)) * B * B < R;
}

export interface RangeProof {
  readonly bitCommitments: readonly G1Point[];
  /** Σ Δ_i² when the square sum is proven. */
  readonly squaredNorm: bigint | null;
  readonly sumcheck: SumcheckProof;
  /** β_j(ρ) */
  readonly bitEvals: readonly bigint[];
}

export interface RangeProverOutput {
  readonly proof: RangeProof;
  readonly point: bigint[];
  /** β_j (0/1 bytes), for the batched opening at ρ (`openRangeBits`). */
  readonly bits: readonly Uint8Array[];
}

/** The prover's committed range witness: bits of Δ + B and their commitments. */
export interface RangeWitness {
  readonly B: bigint;
  /** Number of entries (a power of two). */
  readonly n: number;
  readonly bits: readonly Uint8Array[];
  readonly bitCommitments: readonly G1Point[];
  /** Σ Δ_i² (exact integer) */
  readonly squaredNorm: bigint;
  /** Σ_j w_j·C_{β_j} − [B]_1 = C(Δ) */
  readonly deltaCommitment: G1Point;
}

/**
 * Commit the bits of Δ + B. `deltas` must satisfy |Δ_i| ≤ B: callers check first and raise
 * DriftPolicyViolation otherwise (this throws a plain Error on a caller bug).
 */
export async function commitRange(ctx: ProverContext, deltas: readonly bigint[], B: bigint): Promise<RangeWitness> {
  return (await commitRangeTiles(ctx, [deltas], B))[0]!;
}

/**
 * `commitRange` for several tiles of one size and bound: every tile's bit vectors are committed
 * in one backend call (the native kernels spread them over threads).
 */
export async function commitRangeTiles(ctx: ProverContext, tiles: readonly (readonly bigint[])[], B: bigint): Promise<RangeWitness[]> {
  const weights = rangeWeights(B);
  const ell = weights.length;
  const decomposed = tiles.map((deltas) => decomposeTile(deltas, B, weights));
  const n = tiles[0]?.length ?? 0;
  for (const d of tiles) if (d.length !== n) throw new Error(`commitRangeTiles: tiles of ${d.length} and ${n} entries`);
  const allBits = decomposed.flatMap((d) => d.bits);
  const cs: G1Point[] = [];
  const kernels = ctx.msm.kernels;
  if (kernels !== undefined && allBits.length > 0) cs.push(...(await kernels.commitBitVectors(basisFor(ctx.srs, 31 - Math.clz32(n)), allBits)));
  else for (const b of allBits) cs.push(await commitBits(ctx, b));
  return decomposed.map(({ bits, S }, k) => {
    const bitCommitments = cs.slice(k * ell, (k + 1) * ell);
    return { B, n, bits, bitCommitments, squaredNorm: S, deltaCommitment: impliedCommitment(bitCommitments, weights, B) };
  });
}

/** The bit vectors of Δ + B and Σ Δ_i². */
function decomposeTile(deltas: readonly bigint[], B: bigint, weights: readonly bigint[]): { bits: Uint8Array[]; S: bigint } {
  const n = deltas.length;
  const ell = weights.length;
  const bits: Uint8Array[] = Array.from({ length: ell }, () => new Uint8Array(n));
  let S = 0n;
  // 2B < 2^31: the decomposition in 32-bit integer arithmetic (decomposeInRange's result).
  const small = ell > 0 && 2n * B < 1n << 31n;
  const topAt = ell > 0 ? 2 ** (ell - 1) : 0;
  const top = ell > 0 ? Number(weights[ell - 1]!) : 0;
  const nB = Number(B);
  for (let i = 0; i < n; i++) {
    const d = deltas[i]!;
    if (d > B || d < -B) throw new Error(`commitRange: |Δ[${i}]| = ${d < 0n ? -d : d} exceeds B = ${B} (caller must refuse first)`);
    S += d * d;
    if (small) {
      let rest = Number(d) + nB;
      if (rest >= topAt) {
        bits[ell - 1]![i] = 1;
        rest -= top;
      }
      for (let j = 0; j < ell - 1; j++) bits[j]![i] = (rest >>> j) & 1;
    } else {
      const bs = decomposeInRange(d + B, weights);
      for (let j = 0; j < ell; j++) bits[j]![i] = bs[j]!;
    }
  }
  return { bits, S };
}

/**
 * Absorb the bit commitments (and S), run the batched sumcheck, absorb β_j(ρ): the one-tile
 * case of `proveRangeTiles`. With `kernels` (a backend's native loops) the sumcheck's
 * arithmetic runs there; the transcript, and so every challenge and proof byte, is the same
 * either way.
 */
export function proveRange(t: Transcript, label: string, wit: RangeWitness, withSquareSum: boolean, kernels?: ProverKernels): RangeProverOutput {
  const out = proveRangeTiles(t, label, [wit], withSquareSum, kernels);
  const part = out.parts[0]!;
  return { proof: { ...part, sumcheck: out.sumcheck }, point: out.point, bits: out.bits };
}

/** One tile's share of a lockstep range proof: everything but the shared sumcheck. */
export interface RangeTilePart {
  readonly bitCommitments: readonly G1Point[];
  /** Σ Δ_i² when the square sum is proven. */
  readonly squaredNorm: bigint | null;
  /** β_j(ρ) */
  readonly bitEvals: readonly bigint[];
}

export interface RangeTilesOutput {
  readonly parts: RangeTilePart[];
  readonly sumcheck: SumcheckProof;
  readonly point: bigint[];
  /** Every tile's β_j (0/1 bytes), tile-major, for the batched opening at ρ. */
  readonly bits: readonly Uint8Array[];
}

/**
 * The range proofs of T tiles (same n and B) in lockstep — issue-level "one opening per work
 * unit" (smdp/README.md §Proving units). Transcript, after the caller's statement(s):
 *   for each tile t: absorb `label.bits` (C_{β_t,0..ℓ−1}) and, with the square sum,
 *   `label.squaredNorm` (S_t); draw r ∈ F^μ (`label.r`), α (`label.alpha`), c (`label.c`, square
 *   sum only) and, when T ≥ 2, θ (`label.theta`); one sumcheck (`label.sumcheck`) of
 *     Σ_b Σ_t θ^t·[eq(r,b)·Σ_j α^j β_{t,j}(b)(β_{t,j}(b) − 1) + c·Δ_t(b)²]  =  c·Σ_t θ^t S_t,
 *   ending at one point ρ; then for each tile absorb `label.bitEvals` (β_{t,j}(ρ)).
 * With T = 1 no θ is drawn and this is exactly the one-tile protocol (byte for byte).
 */
export function proveRangeTiles(t: Transcript, label: string, wits: readonly RangeWitness[], withSquareSum: boolean, kernels?: ProverKernels): RangeTilesOutput {
  const first = wits[0];
  if (first === undefined) throw new Error('proveRangeTiles: expected at least one tile');
  const { B, n } = first;
  for (const w of wits) if (w.B !== B || w.n !== n) throw new Error(`proveRangeTiles: tiles must share n and B (got n = ${w.n}, B = ${w.B}; first n = ${n}, B = ${B})`);
  const weights = rangeWeights(B);
  const ell = weights.length;
  for (const w of wits) {
    t.absorbG1s(`${label}.bits`, w.bitCommitments);
    if (withSquareSum) t.absorbScalar(`${label}.squaredNorm`, w.squaredNorm);
  }
  const mu = 31 - Math.clz32(n);
  const ch = rangeChallenges(t, label, mu, ell, wits.length, withSquareSum);
  const wField = weights.map((w) => Fr.create(w));
  const negB = Fr.neg(Fr.create(B));
  const bits = wits.flatMap((w) => w.bits);
  let sumcheck: SumcheckProof;
  let point: bigint[];
  let bitEvals: bigint[];
  const scLabel = `${label}.sumcheck`;
  if (kernels !== undefined) {
    // The same rounds as proveSumcheck's: absorb g_i under the same label, draw ρ_i.
    const out = kernels.rangeSumcheck({ bits, n, r: ch.r, alphaPow: ch.boolCoeffs, weights: wField, negB, squareCoeffs: ch.squareCoeffs, withSquareSum }, (i, g) => {
      t.absorbScalars(`${scLabel}.round[${i}]`, g);
      return t.challenge(`${scLabel}.rho[${i}]`);
    });
    sumcheck = { rounds: out.rounds };
    point = out.point;
    bitEvals = out.bitEvals;
  } else {
    const bitTables = bits.map((b) => Array.from(b, (x) => (x ? 1n : 0n)));
    const combine = (v: readonly bigint[]): bigint => rangeCombine(v, ch.boolCoeffs, wField, negB, ch.squareCoeffs, withSquareSum);
    const sc = proveSumcheck(t, scLabel, [eqTable(ch.r), ...bitTables], 3, combine);
    sumcheck = sc.proof;
    point = sc.point;
    bitEvals = sc.finalValues.slice(1);
  }
  const parts = wits.map((w, k) => {
    const evals = bitEvals.slice(k * ell, (k + 1) * ell);
    t.absorbScalars(`${label}.bitEvals`, evals);
    return { bitCommitments: w.bitCommitments, squaredNorm: withSquareSum ? w.squaredNorm : null, bitEvals: evals };
  });
  return { parts, sumcheck, point, bits };
}

/**
 * The challenges after the commitments: r, α, c (square sum), θ (T ≥ 2), and the combined
 * coefficients — booleanity θ^t·α^j (tile-major) and square sums c·θ^t.
 */
function rangeChallenges(t: Transcript, label: string, mu: number, ell: number, tiles: number, withSquareSum: boolean): { r: bigint[]; boolCoeffs: bigint[]; squareCoeffs: bigint[] } {
  const r = t.challenges(`${label}.r`, mu);
  const alpha = t.challenge(`${label}.alpha`);
  const c = withSquareSum ? t.challenge(`${label}.c`) : 0n;
  const theta = tiles > 1 ? t.challenge(`${label}.theta`) : 1n;
  const thetaPow = powers(theta, tiles);
  const alphaPow = powers(alpha, ell);
  return {
    r,
    boolCoeffs: thetaPow.flatMap((tp) => alphaPow.map((a) => Fr.mul(tp, a))),
    squareCoeffs: thetaPow.map((tp) => Fr.mul(c, tp)),
  };
}

/**
 * The batched PST opening at ρ of `[lead, β_0, …]` (or of the bits alone when `lead` is
 * null) combined with powers of η — `openAt(combineVectors(…, η), ρ)`, on the backend's
 * kernels when it has them.
 */
export async function openRangeBits(ctx: ProverContext, bits: readonly Uint8Array[], eta: bigint, point: readonly bigint[], lead: readonly bigint[] | null): Promise<PstOpening> {
  const kernels = ctx.msm.kernels;
  if (kernels !== undefined) return kernels.openBits((vars) => basisFor(ctx.srs, vars), bits, eta, point, lead);
  const tables = bits.map((b) => Array.from(b, (x) => (x ? 1n : 0n)));
  return openAt(ctx, combineVectors(lead === null ? tables : [lead, ...tables], eta), point);
}

/**
 * v = [eq, β_{0,0} … β_{T−1,ℓ−1}] ↦ eq·Σ_k a_k β_k(β_k−1) + Σ_t c_t·(Σ_j w_j β_{t,j} − B)²
 * (a = `boolCoeffs`, c = `squareCoeffs`, T = c.length, ℓ = w.length).
 */
function rangeCombine(v: readonly bigint[], boolCoeffs: readonly bigint[], w: readonly bigint[], negB: bigint, squareCoeffs: readonly bigint[], sq: boolean): bigint {
  const ell = w.length;
  let bool = 0n;
  let out = 0n;
  for (let t = 0; t < squareCoeffs.length; t++) {
    let delta = negB;
    for (let j = 0; j < ell; j++) {
      const k = t * ell + j;
      const b = v[k + 1]!;
      if (b !== 0n && b !== 1n) bool = Fr.add(bool, Fr.mul(boolCoeffs[k]!, Fr.mul(b, Fr.sub(b, 1n))));
      if (sq && b !== 0n) delta = Fr.add(delta, b === 1n ? w[j]! : Fr.mul(w[j]!, b));
    }
    if (sq) out = Fr.add(out, Fr.mul(squareCoeffs[t]!, Fr.sqr(delta)));
  }
  return bool === 0n ? out : Fr.add(Fr.mul(v[0]!, bool), out);
}

export type RangeVerification =
  | {
      readonly ok: true;
      readonly point: bigint[];
      /** Δ(ρ) = Σ_j w_j β_j(ρ) − B */
      readonly deltaAtPoint: bigint;
    }
  | { readonly ok: false; readonly reason: string };

/**
 * Transcript-mirroring verification of a range proof over μ variables: the one-tile case of
 * `verifyRangeTiles`. The commitment of Δ the bits define, Σ_j w_j·C_{β_j} − [B]_1, is not
 * checked here: a caller that binds it to a commitment checks
 * `impliedCommitmentMatches(proof.bitCommitments, rangeWeights(B), B, target)`.
 */
export function verifyRange(t: Transcript, label: string, proof: RangeProof, mu: number, B: bigint, withSquareSum: boolean): RangeVerification {
  const v = verifyRangeTiles(t, label, [proof], proof.sumcheck, mu, B, withSquareSum);
  return v.ok ? { ok: true, point: v.point, deltaAtPoint: v.deltaAtPoint[0]! } : v;
}

export type RangeTilesVerification =
  | {
      readonly ok: true;
      readonly point: bigint[];
      /** Δ_t(ρ) = Σ_j w_j β_{t,j}(ρ) − B, per tile */
      readonly deltaAtPoint: bigint[];
    }
  | { readonly ok: false; readonly reason: string };

/**
 * Verification of T tiles' range proofs run in lockstep (`proveRangeTiles`): each tile's ℓ
 * bit commitments and evaluations, S_t present iff the square sum is proven, n·B² < r and
 * 2B < r, the shared sumcheck against c·Σ_t θ^t S_t, and its final claim against the tiles'
 * β_{t,j}(ρ). Reasons name the tile (its position in the unit) when T ≥ 2.
 */
export function verifyRangeTiles(t: Transcript, label: string, parts: readonly RangeTilePart[], sumcheck: SumcheckProof, mu: number, B: bigint, withSquareSum: boolean): RangeTilesVerification {
  const weights = rangeWeights(B);
  const ell = weights.length;
  if (parts.length === 0) return { ok: false, reason: `${label}: no tiles` };
  for (const [k, p] of parts.entries()) {
    const at = parts.length === 1 ? label : `${label} tile ${k}`;
    if (p.bitCommitments.length !== ell) return { ok: false, reason: `${at}: expected ${ell} bit commitments for B = ${B}, got ${p.bitCommitments.length}` };
    if (p.bitEvals.length !== ell) return { ok: false, reason: `${at}: expected ${ell} bit evaluations, got ${p.bitEvals.length}` };
    if ((p.squaredNorm !== null) !== withSquareSum) return { ok: false, reason: `${at}: squared norm ${withSquareSum ? 'missing' : 'unexpected'}` };
  }
  if (withSquareSum && !squareSumFits(mu, B)) return { ok: false, reason: `${label}: n·B² ≥ r, the square sum could wrap in the field` };
  // Without the square sum the bits still must not wrap: every x ∈ [0, 2B] distinct mod r.
  if (2n * B >= R) return { ok: false, reason: `${label}: 2B ≥ r, the range [−B, B] wraps in the field` };
  for (const p of parts) {
    t.absorbG1s(`${label}.bits`, p.bitCommitments);
    if (withSquareSum) t.absorbScalar(`${label}.squaredNorm`, p.squaredNorm ?? 0n);
  }
  const ch = rangeChallenges(t, label, mu, ell, parts.length, withSquareSum);
  let claim = 0n;
  parts.forEach((p, k) => {
    if (withSquareSum) claim = Fr.add(claim, Fr.mul(ch.squareCoeffs[k]!, p.squaredNorm ?? 0n));
  });
  const sc = verifySumcheck(t, `${label}.sumcheck`, sumcheck, mu, 3, claim);
  if (!sc.ok) return sc;
  const wField = weights.map((w) => Fr.create(w));
  const negB = Fr.neg(Fr.create(B));
  const evals = parts.flatMap((p) => p.bitEvals);
  const expected = rangeCombine([eqEval(ch.r, sc.point), ...evals], ch.boolCoeffs, wField, negB, ch.squareCoeffs, withSquareSum);
  if (expected !== sc.finalClaim) return { ok: false, reason: `${label}: sumcheck final claim does not match the bit evaluations (non-boolean bits or a wrong squared norm)` };
  const deltaAtPoint = parts.map((p) => {
    t.absorbScalars(`${label}.bitEvals`, p.bitEvals);
    let delta = negB;
    for (let j = 0; j < ell; j++) delta = Fr.add(delta, Fr.mul(wField[j]!, p.bitEvals[j]!));
    return delta;
  });
  return { ok: true, point: sc.point, deltaAtPoint };
}

/** [B]_1 for recent bounds B: every block of a tensor has the same B (public values). */
const boundPoints = new Map<bigint, G1Point>();
function boundPoint(B: bigint): G1Point {
  let p = boundPoints.get(B);
  if (p === undefined) {
    p = G1.BASE.multiplyUnsafe(B);
    if (boundPoints.size >= 64) boundPoints.clear();
    boundPoints.set(B, p);
  }
  return p;
}

/** Σ_j w_j·C_j − B·g1, with doublings for the power-of-two weights. */
export function impliedCommitment(cs: readonly G1Point[], weights: readonly bigint[], B: bigint): G1Point {
  const ell = cs.length;
  let acc = G1.ZERO;
  for (let j = ell - 2; j >= 0; j--) acc = acc.double().add(cs[j]!);
  if (ell > 0) {
    const top = cs[ell - 1]!;
    acc = acc.add(top.is0() ? top : top.multiplyUnsafe(weights[ell - 1]!));
  }
  return B === 0n ? acc : acc.subtract(boundPoint(B));
}

/**
 * Σ_j w_j·C_j − [B]_1 == target − minus, as one MSM (curve backend) over
 * [C_0 … C_{ℓ−1}, g1, target, minus] with scalars [w_0 … w_{ℓ−1}, −B, −1, 1]: the sum is the
 * identity exactly when the equality holds. The verifier's form of
 * `impliedCommitment(cs, weights, B).equals(target.subtract(minus))`; passing C_ft and C_base
 * apart keeps decoded (already affine) points affine, with no inversion for their difference.
 */
export function impliedCommitmentMatches(cs: readonly G1Point[], weights: readonly bigint[], B: bigint, target: G1Point, minus: G1Point = G1.ZERO): boolean {
  return impliedCommitmentsMatch([{ cs, target, minus }], weights, B)[0]!;
}

/**
 * `impliedCommitmentMatches` for several tiles of one bound at once (a unit's linear checks):
 * one MSM group per tile, all in one backend call. Result k says whether tile k's holds.
 */
export function impliedCommitmentsMatch(tiles: readonly { readonly cs: readonly G1Point[]; readonly target: G1Point; readonly minus?: G1Point }[], weights: readonly bigint[], B: bigint): boolean[] {
  const groups: { points: G1Point[]; scalars: bigint[] }[] = [];
  const negB = Fr.neg(Fr.create(B));
  const wField = weights.map((w) => Fr.create(w));
  for (const { cs, target, minus } of tiles) {
    if (cs.length !== weights.length) throw new Error(`impliedCommitmentMatches: ${cs.length} commitments for ${weights.length} weights`);
    const points: G1Point[] = [];
    const scalars: bigint[] = [];
    const term = (p: G1Point, sc: bigint): void => {
      // The identity adds nothing (and has no affine form); nor does a zero scalar.
      if (p.is0() || sc === 0n) return;
      points.push(p);
      scalars.push(sc);
    };
    for (let j = 0; j < cs.length; j++) term(cs[j]!, wField[j]!);
    term(G1.BASE, negB);
    term(target, Fr.neg(1n));
    if (minus !== undefined) term(minus, 1n);
    groups.push({ points, scalars });
  }
  const nonEmpty = groups.filter((g) => g.points.length > 0);
  const sums = nonEmpty.length === 0 ? [] : curveOps().msmGroups(nonEmpty);
  let k = 0;
  return groups.map((g) => g.points.length === 0 || sums[k++]!.is0());
}

export type { PendingAccumulator };
