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

/**
 * The range sumcheck of T tiles in lockstep (T = 1: one tile). Bit vectors are tile-major:
 * β_{t,j} is `bits[t·ℓ + j]`, ℓ = `weights.length`, T = `squareCoeffs.length`.
 */
export interface RangeSumcheckInput {
  /** β_{0,0} … β_{T−1,ℓ−1}, each n bytes of 0/1 (n a power of two). */
  readonly bits: readonly Uint8Array[];
  readonly n: number;
  /** The zerocheck point r (μ coordinates). */
  readonly r: readonly bigint[];
  /** The booleanity coefficient of each bit vector (one tile: α^0 … α^{ℓ−1}; tile t: θ^t·α^j). */
  readonly alphaPow: readonly bigint[];
  /** The range weights w_j as field elements (the same for every tile). */
  readonly weights: readonly bigint[];
  /** −B in Fr */
  readonly negB: bigint;
  /** The square-sum coefficient of each tile (one tile: c; tile t: c·θ^t; 0 without the square sum). */
  readonly squareCoeffs: readonly bigint[];
  readonly withSquareSum: boolean;
}

export interface RangeSumcheckOutput {
  /** rounds[i] = [g_i(0), g_i(1), g_i(2), g_i(3)] */
  readonly rounds: bigint[][];
  /** ρ_1 … ρ_μ as returned by `challenge` */
  readonly point: bigint[];
  /** β_{t,j}(ρ), tile-major */
  readonly bitEvals: bigint[];
}

export interface ProverKernels {
  /**
   * The range sumcheck of classes/range.ts (tables [eq(r,·), β_{0,0} …], degree 3). `challenge`
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
