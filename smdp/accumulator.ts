/**
 * Pairing accumulators (PROTOCOLS.md §6). Every PST check is brought to the accumulation form
 *   e(P_0, [1]_2) · Π_{j=1..N} e(P_j, [τ_j]_2) = 1
 * with the G2 side fixed by the SRS. An accumulator is the N+1 G1 points (P_0..P_N).
 *
 * Verifiers keep accumulators *pending*: as lists of (slot, point, scalar) terms. Folding
 * with a challenge γ only scales scalars (field work); the points are combined once, at the
 * end, by one MSM per slot over every term of every block (gathering instead of one scalar
 * multiplication per term), then one multi-pairing of N+1 pairs with cached G2 line
 * precomputations.
 *
 * Soundness of folding: if some child accumulator A_k fails its pairing equation, then
 * Π_k (pairing product of A_k)^{γ^k} is a non-zero polynomial in γ of degree < F in the
 * exponent, so a transcript-drawn γ makes the fold pass with probability ≤ (F−1)/r.
 */
import { curveOps } from './curve-ops.ts';
import { isInG1 } from './g1-subgroup.ts';
import { Fr, G1, bls, type G1Affine, type G1Point, g1BatchAffine } from './field.ts';
import type { VerifierKey } from './srs.ts';

export interface AccTerm {
  readonly slot: number;
  readonly point: G1Point;
  readonly scalar: bigint;
}

/**
 * An accumulator as a formal linear combination of G1 points, slot by slot: its own terms plus
 * scaled references to absorbed accumulators (folding a tree costs one scalar product per
 * term at evaluation, not one per term per level). An absorbed accumulator is frozen: adding
 * to it afterwards throws, so the reference always means what was absorbed.
 */
export class PendingAccumulator {
  /** Terms whose point is an arbitrary G1 point (this accumulator's own, not the absorbed ones'). */
  readonly terms: AccTerm[] = [];
  /** Coefficient of the generator g1 in slot 0 (kept apart: every opening has a −y·g1 term). */
  private g1Scalar = 0n;
  /** Absorbed accumulators and their coefficients. */
  private readonly absorbed: { readonly acc: PendingAccumulator; readonly c: bigint }[] = [];
  private frozen = false;

  constructor(readonly N: number) {}

  private mutable(what: string): void {
    if (this.frozen) throw new Error(`PendingAccumulator.${what}: this accumulator was absorbed into another and is frozen`);
  }

  add(slot: number, point: G1Point, scalar: bigint): this {
    this.mutable('add');
    if (slot < 0 || slot > this.N) throw new Error(`PendingAccumulator.add: slot ${slot} outside 0..${this.N}`);
    if (scalar !== 0n && !point.is0()) this.terms.push({ slot, point, scalar: Fr.create(scalar) });
    return this;
  }

  addG1(scalar: bigint): this {
    this.mutable('addG1');
    this.g1Scalar = Fr.add(this.g1Scalar, Fr.create(scalar));
    return this;
  }

  /** this += c · other (other is frozen from now on). */
  absorbScaled(other: PendingAccumulator, c: bigint): this {
    this.mutable('absorbScaled');
    if (other.N !== this.N) throw new Error(`PendingAccumulator: N mismatch ${this.N} vs ${other.N}`);
    if (other === this) throw new Error('PendingAccumulator.absorbScaled: an accumulator cannot absorb itself');
    other.frozen = true;
    const k = Fr.create(c);
    if (k !== 0n) this.absorbed.push({ acc: other, c: k });
    return this;
  }

  /** Every term with its coefficient `coef` times the path's: into per-slot lists; returns the g1 coefficient. */
  private collect(coef: bigint, points: G1Point[][], scalars: bigint[][]): bigint {
    for (const t of this.terms) {
      points[t.slot]!.push(t.point);
      scalars[t.slot]!.push(coef === 1n ? t.scalar : Fr.mul(t.scalar, coef));
    }
    let g1 = coef === 1n ? this.g1Scalar : Fr.mul(this.g1Scalar, coef);
    for (const { acc, c } of this.absorbed) g1 = Fr.add(g1, acc.collect(coef === 1n ? c : Fr.mul(coef, c), points, scalars));
    return g1;
  }

  /** The N+1 points, by one MSM per slot (one `msmGroups` call on the installed curve backend, curve-ops.ts). */
  evaluate(): G1Point[] {
    const points: G1Point[][] = Array.from({ length: this.N + 1 }, () => []);
    const scalars: bigint[][] = Array.from({ length: this.N + 1 }, () => []);
    const g1 = this.collect(1n, points, scalars);
    // The g1 term joins slot 0's MSM as one more point.
    if (g1 !== 0n) {
      points[0]!.push(G1.BASE);
      scalars[0]!.push(g1);
    }
    return curveOps().msmGroups(points.map((p, slot) => ({ points: p, scalars: scalars[slot]! })));
  }
}

/** A commitment given as a linear combination Σ s_k·C_k (a batched opening's Σ η^k C_k). */
export type CommitmentTerms = readonly { readonly point: G1Point; readonly scalar: bigint }[];

/**
 * The accumulator terms of one PST opening: C at ρ (μ variables) with value y, quotients π.
 * C is passed as terms so that batched commitments are never combined on their own: their
 * points join the final MSM.
 */
export function openingAccumulator(N: number, C: CommitmentTerms, y: bigint, point: readonly bigint[], quotients: readonly G1Point[]): PendingAccumulator {
  const mu = point.length;
  if (quotients.length !== mu) throw new Error(`openingAccumulator: expected ${mu} quotients, got ${quotients.length}`);
  if (mu > N) throw new Error(`openingAccumulator: ${mu} variables exceed the SRS size ${N}`);
  const acc = new PendingAccumulator(N);
  // e(C − [y]_1 + Σ ρ_i π_i, [1]_2) · Π_i e(−π_i, [τ_{N−μ+i}]_2) = 1
  for (const c of C) acc.add(0, c.point, c.scalar);
  acc.addG1(Fr.neg(y));
  quotients.forEach((pi, i) => {
    acc.add(0, pi, point[i]!);
    acc.add(N - mu + i + 1, pi, Fr.neg(1n));
  });
  return acc;
}

type Precompute = ReturnType<typeof bls.utils.calcPairingPrecomputes>;
const precomputeCache = new WeakMap<VerifierKey, Precompute[]>();

function g2Precomputes(vk: VerifierKey): Precompute[] {
  let pre = precomputeCache.get(vk);
  if (!pre) {
    pre = [vk.g2One, ...vk.g2Tau].map((q) => bls.utils.calcPairingPrecomputes(q));
    precomputeCache.set(vk, pre);
  }
  return pre;
}

/**
 * e(P_0,[1]_2)·Π_j e(P_j,[τ_j]_2) == 1, as one multi-Miller loop and one final
 * exponentiation, on the installed curve backend (curve-ops.ts). Every P_j must be in G1:
 * a point with a cofactor component (a proof point is decoded without the subgroup test,
 * `decodeProofG1`) makes the check fail, on every backend.
 */
export function pairingCheck(vk: VerifierKey, P: readonly G1Point[]): boolean {
  if (P.length !== vk.N + 1) throw new Error(`pairingCheck: expected ${vk.N + 1} points, got ${P.length}`);
  return curveOps().pairingCheck(vk, P);
}

/** The pure-JS `pairingCheck` (noble's multi-Miller loop with cached G2 line precomputations). */
export function pairingCheckJs(vk: VerifierKey, P: readonly G1Point[]): boolean {
  if (P.length !== vk.N + 1) throw new Error(`pairingCheck: expected ${vk.N + 1} points, got ${P.length}`);
  const pre = g2Precomputes(vk);
  const live = P.map((p, j) => ({ p, j })).filter(({ p }) => !p.is0());
  if (live.length === 0) return true;
  const affine = toAffineAll(live.map(({ p }) => p));
  if (!affine.every(({ x, y }) => isInG1(x, y))) return false;
  const Fp12 = bls.fields.Fp12;
  const f = bls.millerLoopBatch(live.map(({ j }, k) => [pre[j]!, affine[k]!.x, affine[k]!.y]));
  return Fp12.eql(Fp12.finalExponentiate(f), Fp12.ONE);
}

/** Affine forms of non-identity points (one inversion for the points not already normalised). */
export function toAffineAll(points: readonly G1Point[]): G1Affine[] {
  const out = new Array<G1Affine>(points.length);
  const todo: number[] = [];
  points.forEach((p, i) => {
    if (p.Z === 1n) out[i] = { x: p.X, y: p.Y };
    else todo.push(i);
  });
  if (todo.length > 0) {
    const aff = g1BatchAffine(todo.map((i) => points[i]!));
    todo.forEach((i, k) => (out[i] = aff[k]!));
  }
  return out;
}
