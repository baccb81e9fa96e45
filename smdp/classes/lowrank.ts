/**
 * Drift class `lowrank` — PROTOCOLS.md §5.5 (../../../shared/PROTOCOLS.md, §5 item 5).
 *
 * Relation (one tile t of a tensor: 2^μt rows × 2^μy columns, μ = μt + μy, whole-row band,
 * colOffset 0; κ = ⌈log2 rank⌉, K = 2^κ; λ = 2^(s_a + s_b − s) with s_a + s_b ≥ s):
 *   ∃ Δ_t, A_t ∈ F^(2^μt × K), B ∈ F^(K × 2^μy), E_t such that
 *     C(Δ_t) = C_ft − C_base,  C(A_t) = C_A,  C(B) = C_B (tensor-level, shared by all tiles),
 *     B[l, ·] = 0 for every padding row l ≥ rank,
 *     λ·Δ_t = A_t·B + E_t  (in F),
 *     E_t = 0 (residual none) | |E_i| ≤ maxAbs (linf) | Σ E_i² = S_E ≤ maxSquaredNorm (l2).
 * Layouts, least significant bits first: Δ_t[row·2^μy + col] (X_1..X_μy are column bits),
 * A_t[row·K + l] (low κ variables are l), B[l·2^μy + col] (low μy variables are columns).
 *
 * Proof (transcript `fti/block/lowrank/v1`): statement; C_B; C_A; with a residual the
 * range/norm part of range.ts over E_t (bits of E_t + B_E, B_E = maxAbs or ⌊√maxSquaredNorm⌋;
 * C(E_t) = Σ_j w_j C_{β_j} − [B_E]_1 needs no commitment of its own) whose sumcheck point
 * is ρ = (ρy ‖ ρx); without one ρ is drawn right after C_A. The prover sends
 * a_l = Ã_t(l, ρx), b_l = B̃(ρy, l) (l < K) and Δ_t(ρ); the verifier checks b_l = 0 for
 * l ≥ rank and the MLE of the matrix product
 *     λ·Δ̃_t(ρ) = Σ_l Ã_t(l, ρx)·B̃(ρy, l) + Ẽ_t(ρ),
 * with Ẽ_t(ρ) = Σ_j w_j β_j(ρ) − B_E from the bit evaluations. It then draws ρl ∈ F^κ and
 * checks three PST openings, folded into one pending accumulator with a challenge γ drawn
 * after every quotient is absorbed:
 *   (i)   C_ft − C_base + Σ_j η^(j+1) C_{β_j} at ρ, value Δ_t(ρ) + Σ_j η^(j+1) β_j(ρ);
 *   (ii)  C_A at (ρl ‖ ρx), value Σ_l eq(ρl, l)·a_l   (= Ã_t(ρl, ρx) for the true a);
 *   (iii) C_B at (ρy ‖ ρl), value Σ_l eq(ρl, l)·b_l   (= B̃(ρy, ρl) for the true b).
 *
 * Why it is sound. Δ_t, A_t, B and the E-bits are bound before ρ is drawn, so if
 * λΔ_t − A_t·B − E_t ≠ 0 on the hypercube, the multilinear polynomial
 * λΔ̃_t(X) − Σ_l Ã_t(l, X_x)·B̃(X_y, l) − Ẽ_t(X) is non-zero and vanishes at ρ with
 * probability ≤ μ/|F| (each ρ_i is fresh even when ρ is the sumcheck's point: the polynomial
 * is fixed before the first round). A vector a or b other than the true one differs from it
 * at ρl as a multilinear polynomial in κ variables (≤ κ/|F| each), which openings (ii), (iii)
 * catch. A non-zero padding row l of B has B̃(ρy, l) ≠ 0 except with probability ≤ μy/|F|,
 * so b_l = 0 keeps the rank at ≤ rank. Total soundness error
 *   ≤ (μ + (μ + ℓ) + 3μ + 2κ + μy + ℓ + 2)/|F| ≤ (6μ + 2κ + 2ℓ + 2)/|F|
 * (identity, booleanity zerocheck, square-sum sumcheck, ρl, padding, η-batching, γ-fold),
 * plus PST evaluation binding (q-type assumptions; knowledge soundness in the AGM), plus the
 * residual bound B_E exactly as in range.ts.
 *
 * Assumption worth stating: the relation holds in F = F_r. The rank claim is "λΔ_t − E_t has
 * rank ≤ rank over F_r", because A and B are not range-checked (v1). It implies the same rank
 * over the integers whenever every (rank+1)-minor of the integer matrix M = λΔ − E is below
 * r in absolute value, e.g. by Hadamard's bound (√(rank+1)·max|M_ij|)^(rank+1) < r
 * (rank 8 with |M_ij| < 2^26). Beyond that an adversarial Δ could have low rank mod r but
 * not over Z; range proofs on A and B (so A·B cannot wrap mod r) would close this gap.
 *
 * The tile verifier does not know the tensor's C_B: it returns the C_B the tile cites in its
 * summary, and the aggregator checks that all tiles of a tensor cite the same one (§5.5).
 * The prover derives C_ft = C_base + C(Δ_t) and refuses out-of-class tiles with
 * DriftPolicyViolation ('lowrank.rank', 'lowrank.residual', 'lowrank.field').
 */
import { openingAccumulator } from '../accumulator.ts';
import { ByteReader, ByteWriter } from '../bytes.ts';
import { DriftPolicyViolation, badInput } from '../errors.ts';
import { Fr, R, fr, type G1Point } from '../field.ts';
import { eqTable, evaluateMle } from '../mle.ts';
import { commitField, commitSmall, openAt, type ProverContext } from '../pst.ts';
import { statementTranscript, type BlockStatement, type ResidualSpec } from '../statement.ts';
import { blockRejected, type BlockCheck } from './common.ts';
import { isqrt, readRangeProof, writeRangeProof, type BlockInput } from './norm.ts';
import { commitRange, openRangeBits, proveRange, squareSumFits, verifyRange, type RangeProof } from './range.ts';

export const LOWRANK_PROTOCOL = 'fti/block/lowrank/v1';
/** Label of the residual's range/norm part inside the lowrank transcript. */
export const LOWRANK_RESIDUAL_LABEL = 'lowrank.residual';

/** Cap on K = 2^κ in untrusted proofs (statements cap rank at 2^20). */
export const MAX_LOWRANK_WIDTH = 1 << 20;
/** Cap on each quotient list in untrusted proofs (one quotient per opened variable). */
export const MAX_LOWRANK_QUOTIENTS = 64;

export interface LowRankProof {
  /** C_B: the tensor-level commitment of B this tile cites. */
  readonly cB: G1Point;
  /** C_A: the commitment of this tile's rows of A (2^μt × 2^κ, row-major). */
  readonly cA: G1Point;
  /** Range/norm proof of the residual bits; null exactly when the residual is `none`. */
  readonly residual: RangeProof | null;
  /** a_l = Ã_t(l, ρx), l < 2^κ */
  readonly a: readonly bigint[];
  /** b_l = B̃(ρy, l), l < 2^κ */
  readonly b: readonly bigint[];
  /** Δ_t(ρ) */
  readonly deltaAtPoint: bigint;
  /** Opening (i): C_Δ batched with the residual bits, at ρ (μ quotients). */
  readonly quotientsDelta: readonly G1Point[];
  /** Opening (ii): C_A at (ρl ‖ ρx) (κ + μt quotients). */
  readonly quotientsA: readonly G1Point[];
  /** Opening (iii): C_B at (ρy ‖ ρl) (μy + κ quotients). */
  readonly quotientsB: readonly G1Point[];
}

export interface LowRankFactors {
  /** A_t, row-major 2^μt × 2^κ (index row·2^κ + l), exact integers. */
  readonly A: readonly bigint[];
  /** B, row-major 2^κ × 2^μy (index l·2^μy + col), exact integers; rows ≥ rank are zero. */
  readonly B: readonly bigint[];
  /** commitFactorB(B): the tensor-level commitment every tile cites. */
  readonly cB: G1Point;
}

/** κ = ⌈log2 rank⌉ (rank 1 → 0): B has 2^κ rows, of which rank carry the factor. */
export function factorRankBits(rank: number): number {
  if (!Number.isInteger(rank) || rank < 1 || rank > MAX_LOWRANK_WIDTH) throw new Error(`factorRankBits: expected a rank in 1..2^20, got ${rank}`);
  return 32 - Math.clz32(rank - 1);
}

export type LowRankDrift = Extract<BlockStatement['drift'], { class: 'lowrank' }>;

/**
 * Why a lowrank statement cannot be proven or verified in v1, or null. Shared by prover
 * (plain Error) and verifier (rejection) so the two never disagree on what is well formed.
 */
export function statementProblem(st: Pick<BlockStatement, 'tile' | 'fractionalBits'>, d: LowRankDrift): string | null {
  if (!Number.isInteger(d.rank) || d.rank < 1 || d.rank > MAX_LOWRANK_WIDTH) return `lowrank: rank must be in 1..2^20, got ${d.rank}`;
  if (d.factorBitsA + d.factorBitsB < st.fractionalBits) {
    return `lowrank: factor bits s_a + s_b = ${d.factorBitsA + d.factorBitsB} are below s = ${st.fractionalBits}; λ = 2^(s_a+s_b−s) must be an integer`;
  }
  // B is one tensor-level matrix over the tile's columns: tiles must be whole-row bands.
  if (st.tile.colOffset !== 0) return `lowrank: tiles must be whole-row bands (colOffset 0), got colOffset ${st.tile.colOffset}`;
  return null;
}

/** λ = 2^(s_a + s_b − s), the public scale between Δ (s fractional bits) and A·B (s_a + s_b). */
export function lowRankScale(st: Pick<BlockStatement, 'fractionalBits'>, d: LowRankDrift): bigint {
  return 1n << BigInt(d.factorBitsA + d.factorBitsB - st.fractionalBits);
}

/** B_E: the per-entry bound of the residual (l2: any entry of a vector of norm² ≤ T is ≤ ⌊√T⌋). */
export function residualEntryBound(res: ResidualSpec): bigint {
  if (res.kind === 'linf') return res.maxAbs;
  if (res.kind === 'l2') return isqrt(res.maxSquaredNorm);
  return 0n;
}

const SMALL_LIMIT = (1n << 52n) - 1n;

function fitsSmall(xs: readonly bigint[]): boolean {
  return xs.every((x) => x <= SMALL_LIMIT && x >= -SMALL_LIMIT);
}

/** C(v) for exact integers: the small-scalar MSM when every entry fits ±2^52, else full scalars. */
export async function commitIntegers(ctx: ProverContext, xs: readonly bigint[]): Promise<G1Point> {
  return fitsSmall(xs) ? commitSmall(ctx, xs.map(Number)) : commitField(ctx, xs.map(fr));
}

/** C_B for a tensor's B (row-major 2^κ × 2^μy, exact integers; rows ≥ rank zero). Once per tensor. */
export async function commitFactorB(ctx: ProverContext, B: readonly bigint[], kappa: number, muCols: number): Promise<G1Point> {
  if (!Number.isInteger(kappa) || kappa < 0 || !Number.isInteger(muCols) || muCols < 0) throw new Error(`commitFactorB: expected κ, μy ≥ 0, got ${kappa}, ${muCols}`);
  if (B.length !== 2 ** (kappa + muCols)) throw new Error(`commitFactorB: expected 2^${kappa + muCols} entries, got ${B.length}`);
  return commitIntegers(ctx, B);
}

/**
 * The residual E_t = λ·Δ_t − A_t·B of a lowrank tile (exact integers) and its entry bound B_E,
 * after every refusal of `proveLowRank` (DriftPolicyViolation naming the block: a non-zero
 * padding row of B, a residual over the policy, an l2 bound too large for Fr); a plain Error on
 * malformed arguments. Shared by the one-tile prover and the unit prover.
 */
export function lowRankResidual(
  input: BlockInput,
  delta: readonly bigint[],
  factors: Pick<LowRankFactors, 'A' | 'B'>,
): { E: bigint[]; BE: bigint; d: LowRankDrift; mu: number; muCols: number; kappa: number; K: number; rows: number; cols: number } {
  const d = input.drift;
  if (d.class !== 'lowrank') throw new Error(`proveLowRank: expected a lowrank statement, got ${d.class}`);
  const problem = statementProblem(input, d);
  if (problem !== null) throw new Error(`proveLowRank: ${problem}`);
  const { muRows, muCols } = input.tile;
  const mu = muRows + muCols;
  const kappa = factorRankBits(d.rank);
  const K = 1 << kappa;
  const rows = 1 << muRows;
  const cols = 1 << muCols;
  const { A, B } = factors;
  if (delta.length !== rows * cols) throw new Error(`proveLowRank: expected ${rows * cols} entries of Δ, got ${delta.length}`);
  if (A.length !== rows * K) throw new Error(`proveLowRank: expected A of ${rows} × ${K} = ${rows * K} entries, got ${A.length}`);
  if (B.length !== K * cols) throw new Error(`proveLowRank: expected B of ${K} × ${cols} = ${K * cols} entries, got ${B.length}`);
  const where = `block ${input.blockIndex} of ${input.tensor}`;

  // Padding rows of B must be zero, or A·B could have rank up to 2^κ > rank.
  const badRows: number[] = [];
  for (let l = d.rank; l < K; l++) {
    for (let c = 0; c < cols; c++) {
      if (B[l * cols + c] !== 0n) {
        badRows.push(l);
        break;
      }
    }
  }
  if (badRows.length > 0) {
    throw new DriftPolicyViolation('lowrank.rank', `${d.rank + badRows.length} non-zero rows of B (padding rows ${badRows.join(', ')} ≥ rank are non-zero)`, `rank ${d.rank}`, `${where}: B carries more rows than the stated rank`, input.blockIndex);
  }

  // E_t = λ·Δ_t − A_t·B, exact integers (padding rows of B are zero: sum over l < rank).
  const lambda = lowRankScale(input, d);
  const E = new Array<bigint>(rows * cols);
  let nonzero = 0;
  let maxAbs = 0n;
  let maxAt = 0;
  let S = 0n;
  for (let row = 0; row < rows; row++) {
    for (let c = 0; c < cols; c++) {
      let ab = 0n;
      for (let l = 0; l < d.rank; l++) ab += A[row * K + l]! * B[l * cols + c]!;
      const i = row * cols + c;
      const e = lambda * delta[i]! - ab;
      E[i] = e;
      if (e !== 0n) {
        nonzero++;
        const abs = e < 0n ? -e : e;
        if (abs > maxAbs) {
          maxAbs = abs;
          maxAt = i;
        }
        S += e * e;
      }
    }
  }
  const res = d.residual;
  if (res.kind === 'none' && nonzero > 0) {
    throw new DriftPolicyViolation('lowrank.residual', `${nonzero} non-zero residual entries, max |E| = ${maxAbs}`, '0 (residual none)', `${where}: λ·Δ − A·B ≠ 0, the update is not exactly the rank-${d.rank} product`, input.blockIndex);
  }
  if (res.kind === 'linf' && maxAbs > res.maxAbs) {
    throw new DriftPolicyViolation('lowrank.residual', `max |E| = ${maxAbs} at index ${maxAt}`, `${res.maxAbs}`, `${where}: a residual entry of λ·Δ − A·B is above the linf bound`, input.blockIndex);
  }
  if (res.kind === 'l2' && S > res.maxSquaredNorm) {
    throw new DriftPolicyViolation('lowrank.residual', `Σ E² = ${S}`, `${res.maxSquaredNorm}`, `${where}: the residual λ·Δ − A·B exceeds the squared-norm budget`, input.blockIndex);
  }
  const BE = residualEntryBound(res);
  if (res.kind === 'l2' && !squareSumFits(mu, BE)) {
    throw new DriftPolicyViolation('lowrank.field', `n·B_E² with n = 2^${mu}, B_E = ${BE}`, 'r', 'the residual bound is too large for exact arithmetic in Fr; use smaller blocks', input.blockIndex);
  }

  return { E, BE, d, mu, muCols, kappa, K, rows, cols };
}

/**
 * Prove a lowrank tile: λ·Δ_t = A_t·B + E_t with E_t within the residual policy. `delta` =
 * q(W_ft) − q(W_base) on the tile (2^μ exact integers). Refuses with DriftPolicyViolation
 * when B has a non-zero padding row ('lowrank.rank'), when the residual exceeds the policy
 * ('lowrank.residual'), or when an l2 bound is too large for exact arithmetic in Fr
 * ('lowrank.field'); throws a plain Error on malformed arguments.
 */
export async function proveLowRank(
  ctx: ProverContext,
  input: BlockInput,
  delta: readonly bigint[],
  factors: LowRankFactors,
): Promise<{ statement: BlockStatement; proof: LowRankProof }> {
  const { E, BE, d, mu, muCols, kappa, K, rows, cols } = lowRankResidual(input, delta, factors);
  const { A, B, cB } = factors;
  const res = d.residual;
  const cDelta = await commitIntegers(ctx, delta);
  const statement: BlockStatement = { ...input, cFt: input.cBase.add(cDelta) };
  const cA = await commitIntegers(ctx, A);
  const t = statementTranscript(LOWRANK_PROTOCOL, statement);
  t.absorbG1('lowrank.cB', cB);
  t.absorbG1('lowrank.cA', cA);

  let rho: bigint[];
  let residual: RangeProof | null = null;
  let bits: readonly Uint8Array[] = [];
  if (res.kind !== 'none') {
    const wit = await commitRange(ctx, E, BE);
    const rp = proveRange(t, LOWRANK_RESIDUAL_LABEL, wit, res.kind === 'l2', ctx.msm.kernels);
    rho = rp.point;
    residual = rp.proof;
    bits = rp.bits;
  } else {
    rho = t.challenges('lowrank.rho', mu);
  }
  const rhoY = rho.slice(0, muCols);
  const rhoX = rho.slice(muCols);

  const Af = A.map(fr);
  const Bf = B.map(fr);
  const deltaF = delta.map(fr);
  const a = factorRowEvals(Af, rows, K, rhoX);
  const b = factorColEvals(Bf, K, cols, rhoY);
  const deltaAtPoint = evaluateMle(deltaF, rho);
  t.absorbScalars('lowrank.a', a);
  t.absorbScalars('lowrank.b', b);
  t.absorbScalar('lowrank.deltaAtPoint', deltaAtPoint);
  const rhoL = t.challenges('lowrank.rhoL', kappa);
  const eta = t.challenge('lowrank.eta');

  const openDelta = await openRangeBits(ctx, bits, eta, rho, deltaF);
  const openA = await openAt(ctx, Af, [...rhoL, ...rhoX]);
  const openB = await openAt(ctx, Bf, [...rhoY, ...rhoL]);
  return {
    statement,
    proof: { cB, cA, residual, a, b, deltaAtPoint, quotientsDelta: openDelta.quotients, quotientsA: openA.quotients, quotientsB: openB.quotients },
  };
}

/** a_l = Ã_t(l, ρx) = Σ_row eq(row, ρx)·A[row, l], for A row-major rows × K (field elements). */
export function factorRowEvals(Af: readonly bigint[], rows: number, K: number, rhoX: readonly bigint[]): bigint[] {
  const eqX = eqTable(rhoX);
  const a = new Array<bigint>(K).fill(0n);
  for (let row = 0; row < rows; row++) {
    const e = eqX[row]!;
    for (let l = 0; l < K; l++) {
      const x = Af[row * K + l]!;
      if (x !== 0n) a[l] = Fr.add(a[l]!, Fr.mul(e, x));
    }
  }
  return a;
}

/** b_l = B̃(ρy, l) = Σ_col eq(col, ρy)·B[l, col], for B row-major K × cols (field elements). */
export function factorColEvals(Bf: readonly bigint[], K: number, cols: number, rhoY: readonly bigint[]): bigint[] {
  const eqY = eqTable(rhoY);
  const b = new Array<bigint>(K).fill(0n);
  for (let l = 0; l < K; l++) {
    let acc = 0n;
    for (let c = 0; c < cols; c++) {
      const x = Bf[l * cols + c]!;
      if (x !== 0n) acc = Fr.add(acc, Fr.mul(eqY[c]!, x));
    }
    b[l] = acc;
  }
  return b;
}

export function isScalar(x: bigint): boolean {
  return x >= 0n && x < R;
}

/** Σ_l eq(ρl, l)·v_l: the MLE of v at ρl. */
export function foldAt(v: readonly bigint[], rhoL: readonly bigint[]): bigint {
  const eq = eqTable(rhoL);
  let acc = 0n;
  v.forEach((x, l) => (acc = Fr.add(acc, Fr.mul(eq[l]!, x))));
  return acc;
}

/** Non-pairing checks of a lowrank tile; on success its pending accumulator and the C_B it cites. */
export function verifyLowRank(N: number, st: BlockStatement, proof: LowRankProof): BlockCheck {
  const d = st.drift;
  if (d.class !== 'lowrank') return blockRejected(`statement class is ${d.class}, proof is lowrank`);
  const problem = statementProblem(st, d);
  if (problem !== null) return blockRejected(problem);
  const { muRows, muCols } = st.tile;
  const mu = muRows + muCols;
  const kappa = factorRankBits(d.rank);
  const K = 1 << kappa;
  if (mu > N || kappa + muRows > N || kappa + muCols > N) {
    return blockRejected(`lowrank: a tile of 2^${muRows} × 2^${muCols} with 2^${kappa} factor columns exceeds the SRS size ${N}`);
  }
  const res = d.residual;
  if ((proof.residual !== null) !== (res.kind !== 'none')) {
    return blockRejected(`lowrank: residual proof ${proof.residual === null ? 'missing' : 'unexpected'} for residual kind ${res.kind}`);
  }
  if (proof.a.length !== K || proof.b.length !== K) return blockRejected(`lowrank: expected ${K} values a_l and b_l, got ${proof.a.length} and ${proof.b.length}`);
  if (![...proof.a, ...proof.b, proof.deltaAtPoint].every(isScalar)) return blockRejected('lowrank: a claimed value is not a field element');
  if (proof.quotientsDelta.length !== mu || proof.quotientsA.length !== kappa + muRows || proof.quotientsB.length !== muCols + kappa) {
    return blockRejected(
      `lowrank: expected ${mu}, ${kappa + muRows}, ${muCols + kappa} opening quotients, got ${proof.quotientsDelta.length}, ${proof.quotientsA.length}, ${proof.quotientsB.length}`,
    );
  }

  const t = statementTranscript(LOWRANK_PROTOCOL, st);
  t.absorbG1('lowrank.cB', proof.cB);
  t.absorbG1('lowrank.cA', proof.cA);
  let rho: bigint[];
  let eAtPoint = 0n;
  let squaredNorm: bigint | null = null;
  const bitCommitments: G1Point[] = [];
  const bitEvals: bigint[] = [];
  if (proof.residual !== null) {
    const BE = residualEntryBound(res);
    const v = verifyRange(t, LOWRANK_RESIDUAL_LABEL, proof.residual, mu, BE, res.kind === 'l2');
    if (!v.ok) return blockRejected(v.reason);
    if (res.kind === 'l2') {
      const S = proof.residual.squaredNorm;
      if (S === null || S > res.maxSquaredNorm) return blockRejected(`lowrank: residual squared norm ${S} exceeds the bound ${res.maxSquaredNorm}`);
      squaredNorm = S;
    }
    rho = v.point;
    eAtPoint = v.deltaAtPoint; // Ẽ_t(ρ) = Σ_j w_j β_j(ρ) − B_E, bound by opening (i)
    bitCommitments.push(...proof.residual.bitCommitments);
    bitEvals.push(...proof.residual.bitEvals);
  } else {
    rho = t.challenges('lowrank.rho', mu);
  }
  t.absorbScalars('lowrank.a', proof.a);
  t.absorbScalars('lowrank.b', proof.b);
  t.absorbScalar('lowrank.deltaAtPoint', proof.deltaAtPoint);

  // A non-zero padding row l ≥ rank of B has B̃(ρy, l) ≠ 0 w.h.p.: it would carry extra rank.
  for (let l = d.rank; l < K; l++) {
    if (proof.b[l] !== 0n) return blockRejected(`lowrank: b_${l} = B̃(ρy, ${l}) ≠ 0 for padding row ${l} ≥ rank ${d.rank}: B carries more than the stated rank`);
  }
  // λ·Δ̃_t(ρ) = Σ_l a_l·b_l + Ẽ_t(ρ)  (the MLE of λΔ − A·B − E at ρ).
  let inner = 0n;
  for (let l = 0; l < K; l++) inner = Fr.add(inner, Fr.mul(proof.a[l]!, proof.b[l]!));
  const lambda = fr(lowRankScale(st, d));
  if (Fr.mul(lambda, proof.deltaAtPoint) !== Fr.add(inner, eAtPoint)) {
    return blockRejected('lowrank: product identity λ·Δ(ρ) = Σ_l a_l·b_l + E(ρ) fails: the update is not the committed low-rank product plus residual');
  }

  const rhoL = t.challenges('lowrank.rhoL', kappa);
  const eta = t.challenge('lowrank.eta');
  t.absorbG1s('lowrank.quotients.delta', proof.quotientsDelta);
  t.absorbG1s('lowrank.quotients.a', proof.quotientsA);
  t.absorbG1s('lowrank.quotients.b', proof.quotientsB);
  // γ folds the three openings; drawn after every quotient so none can offset another.
  const gamma = t.challenge('lowrank.gamma');

  // (i) C_ft − C_base + Σ_j η^(j+1)·C_{β_j} at ρ, value Δ(ρ) + Σ_j η^(j+1)·β_j(ρ).
  const termsDelta: { point: G1Point; scalar: bigint }[] = [
    { point: st.cFt, scalar: 1n },
    { point: st.cBase, scalar: Fr.neg(1n) },
  ];
  let pow = eta;
  let valueDelta = proof.deltaAtPoint;
  for (let j = 0; j < bitCommitments.length; j++) {
    termsDelta.push({ point: bitCommitments[j]!, scalar: pow });
    valueDelta = Fr.add(valueDelta, Fr.mul(pow, bitEvals[j]!));
    pow = Fr.mul(pow, eta);
  }
  const rhoY = rho.slice(0, muCols);
  const rhoX = rho.slice(muCols);
  const accDelta = openingAccumulator(N, termsDelta, valueDelta, rho, proof.quotientsDelta);
  // (ii) Ã_t(ρl, ρx) = Σ_l eq(ρl, l)·a_l;  (iii) B̃(ρy, ρl) = Σ_l eq(ρl, l)·b_l.
  const accA = openingAccumulator(N, [{ point: proof.cA, scalar: 1n }], foldAt(proof.a, rhoL), [...rhoL, ...rhoX], proof.quotientsA);
  const accB = openingAccumulator(N, [{ point: proof.cB, scalar: 1n }], foldAt(proof.b, rhoL), [...rhoY, ...rhoL], proof.quotientsB);
  const acc = accDelta.absorbScaled(accA, gamma).absorbScaled(accB, Fr.sqr(gamma));
  return {
    valid: true,
    accumulator: acc,
    summary: squaredNorm === null ? { factorCommitment: proof.cB } : { factorCommitment: proof.cB, squaredNorm },
  };
}

/**
 * Binary form: C_B ‖ C_A ‖ u8 residual present ‖ [range proof] ‖ u32 K ‖ a ‖ u32 K ‖ b ‖
 * Δ(ρ) ‖ three quotient lists (u32 count ‖ G1s). Points compressed, scalars 32-byte BE.
 */
export function encodeLowRankProof(p: LowRankProof): Uint8Array {
  const w = new ByteWriter();
  w.g1(p.cB).g1(p.cA);
  w.u8(p.residual === null ? 0 : 1);
  if (p.residual !== null) writeRangeProof(w, p.residual);
  w.scalars(p.a).scalars(p.b);
  w.scalar(p.deltaAtPoint);
  w.g1s(p.quotientsDelta);
  w.g1s(p.quotientsA);
  w.g1s(p.quotientsB);
  return w.finish();
}

/** Decode untrusted bytes; throws only SmdpError (counts capped before allocating). */
export function decodeLowRankProof(bytes: Uint8Array, what = 'proof'): LowRankProof {
  const r = new ByteReader(bytes, what);
  const cB = r.g1('cB');
  const cA = r.proofG1('cA');
  const present = r.u8('residual.present');
  if (present > 1) badInput('BAD_VALUE', `${what}.residual.present`, `expected 0 or 1, got ${present}`);
  const residual = present === 1 ? readRangeProof(r) : null;
  const a = r.scalars('a', MAX_LOWRANK_WIDTH);
  const b = r.scalars('b', MAX_LOWRANK_WIDTH);
  const deltaAtPoint = r.scalar('deltaAtPoint');
  const quotientsDelta = r.proofG1s('quotientsDelta', MAX_LOWRANK_QUOTIENTS);
  const quotientsA = r.proofG1s('quotientsA', MAX_LOWRANK_QUOTIENTS);
  const quotientsB = r.proofG1s('quotientsB', MAX_LOWRANK_QUOTIENTS);
  r.end();
  return { cB, cA, residual, a, b, deltaAtPoint, quotientsDelta, quotientsA, quotientsB };
}
