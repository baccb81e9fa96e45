/**
 * Optional prover kernels a backend may provide (the native addon does, native/backend.ts):
 * the field-arithmetic loops that dominate range proofs — the range sumcheck and the batched
 * opening of bit vectors. smdp's own JavaScript (classes/range.ts with sumcheck.ts and
 * pst.ts) is the fallback and the reference: a kernel must return exactly the values the
 * JavaScript computes, so proofs are byte-identical on every backend (test/native.test.ts).
 * The Fiat–Shamir transcript never leaves smdp: a kernel receives each round polynomial
 * through `challenge`, which absorbs it and returns the round challenge.
 */
import type { G1Affine, G1Point } from './field.ts';
import type { PstOpening } from './pst.ts';

export interface RangeSumcheckInput {
  /** β_0 … β_{ℓ−1}, each n bytes of 0/1 (n a power of two). */
  readonly bits: readonly Uint8Array[];
  readonly n: number;
  /** The zerocheck point r (μ coordinates). */
  readonly r: readonly bigint[];
  /** α^0 … α^{ℓ−1} */
  readonly alphaPow: readonly bigint[];
  /** The range weights w_j as field elements. */
  readonly weights: readonly bigint[];
  /** −B in Fr */
  readonly negB: bigint;
  /** The square-sum coefficient (0 without the square sum). */
  readonly c: bigint;
  readonly withSquareSum: boolean;
}

export interface RangeSumcheckOutput {
  /** rounds[i] = [g_i(0), g_i(1), g_i(2), g_i(3)] */
  readonly rounds: bigint[][];
  /** ρ_1 … ρ_μ as returned by `challenge` */
  readonly point: bigint[];
  /** β_j(ρ) */
  readonly bitEvals: bigint[];
}

export interface ProverKernels {
  /**
   * The range sumcheck of classes/range.ts (tables [eq(r,·), β_0 …], degree 3). `challenge`
   * is called once per round, in order, with g_i(0..3), and returns ρ_i.
   */
  rangeSumcheck(input: RangeSumcheckInput, challenge: (round: number, g: readonly bigint[]) => bigint): RangeSumcheckOutput;
  /**
   * `openAt(combineVectors(lead === null ? bits : [lead, ...bits], η), point)` where bits are
   * the 0/1 vectors as field elements; `basis(k)` is the SRS Lagrange basis of k variables
   * (`basisFor(srs, k)`), against which round i's quotient (μ − i − 1 variables) is committed.
   */
  openBits(basis: (vars: number) => readonly G1Affine[], bits: readonly Uint8Array[], eta: bigint, point: readonly bigint[], lead: readonly bigint[] | null): Promise<PstOpening>;
  /**
   * The commitments of 0/1 vectors over `points` (each `points.length` entries): the same
   * points as `subsetSum(points, bits[j])` for every j, computed together.
   */
  commitBitVectors(points: readonly G1Affine[], bits: readonly Uint8Array[]): Promise<G1Point[]>;
}
