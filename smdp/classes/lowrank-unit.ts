/**
 * Proving units for `lowrank`: the tiles of one low-rank tensor proven together, with one
 * lockstep residual sumcheck and three openings for the whole unit (smdp/README.md §Proving
 * units, item 9).
 *
 * Relation: for every tile t of the unit (T ≥ 2 tiles of one tensor, one drift spec, one tile
 * geometry 2^μt × 2^μy, all citing one C_B), the relation of classes/lowrank.ts:
 * λ·Δ_t = A_t·B + E_t with C(Δ_t) = C_ft,t − C_base,t, C(A_t) = C_A,t, C(B) = C_B and E_t within
 * the residual policy.
 *
 * Proof and transcript (`fti/unit/lowrank/v1`):
 *   1. the unit transcript (T, every statement: statement.ts `unitTranscript`), C_B once, then
 *      every tile's C_A,t;
 *   2. with a residual: every tile's residual bit commitments (and S_E,t), one lockstep range
 *      sumcheck (range.ts `proveRangeTiles`, label `lowrank.residual`) ending at ρ; without:
 *      ρ = challenges(`lowrank.rho`, μ). ρ = (ρy, ρx) is shared by every tile;
 *   3. b_l = B̃(ρy, l) once (B and ρy are shared), then per tile a_t,l = Ã_t(l, ρx) and Δ_t(ρ);
 *      the verifier checks λ·Δ_t(ρ) = Σ_l a_t,l·b_l + E_t(ρ) for every tile and b_l = 0 for
 *      every padding row l ≥ rank;
 *   4. ρl ∈ F^κ, ζ, η, ξ, and three openings for the unit:
 *      (i)  Σ_t ζ^t·C_Δ,t + Σ_k η^(k+1)·C_β_k (every tile's residual bits, tile-major) at ρ,
 *           value Σ_t ζ^t·Δ_t(ρ) + Σ_k η^(k+1)·β_k(ρ) — one tile's size;
 *      (ii) Σ_t ξ^t·C_A,t at (ρl, ρx), value Σ_t ξ^t·Σ_l eq(ρl, l)·a_t,l;
 *      (iii) C_B at (ρy, ρl), value Σ_l eq(ρl, l)·b_l;
 *      then the quotient lists are absorbed and γ folds the three openings.
 * Soundness: as one tile (classes/lowrank.ts), with the lockstep sumcheck's θ argument for
 * the residuals (classes/norm-unit.ts) and the batching challenges ζ, η, ξ drawn after every
 * claimed value: a wrong Δ_t(ρ), β_k(ρ) or a_t makes the batched claim of its opening wrong
 * except with probability ≤ (T − 1 + Tℓ)/|F| over (ζ, η) resp. (T − 1)/|F| over ξ. The product
 * identity is checked per tile at the shared ρ, drawn after every commitment of the unit.
 */
import { openingAccumulator, type PendingAccumulator } from '../accumulator.ts';
import { ByteReader, ByteWriter } from '../bytes.ts';
import { badInput } from '../errors.ts';
import { Fr, type G1Point } from '../field.ts';
import { evaluateMle, powers } from '../mle.ts';
import { combineVectors, combinedCommitmentTerms, openAt, powerCombine, type ProverContext } from '../pst.ts';
import { blockVars, unitTranscript, type BlockStatement } from '../statement.ts';
import type { SumcheckProof } from '../sumcheck.ts';
import { readSumcheck, writeSumcheck } from '../sumcheck-codec.ts';
import type { BlockSummary } from './common.ts';
import {
  LOWRANK_RESIDUAL_LABEL,
  MAX_LOWRANK_QUOTIENTS,
  MAX_LOWRANK_WIDTH,
  commitIntegers,
  factorColEvals,
  factorRankBits,
  factorRowEvals,
  foldAt,
  isScalar,
  lowRankResidual,
  lowRankScale,
  residualEntryBound,
  statementProblem,
  type LowRankFactors,
} from './lowrank.ts';
import type { BlockInput } from './norm.ts';
import { MAX_UNIT_BLOCKS, readRangeTileParts, unitShapeProblem, writeRangeTileParts, type UnitCheck } from './norm-unit.ts';
import { commitRangeTiles, openRangeBits, proveRangeTiles, verifyRangeTiles, type RangeTilePart } from './range.ts';

export const LOWRANK_UNIT_PROTOCOL = 'fti/unit/lowrank/v1';

export interface LowRankUnitProof {
  /** C_B: the tensor-level commitment every tile of the unit cites. */
  readonly cB: G1Point;
  /** C_A,t per tile. */
  readonly cA: readonly G1Point[];
  /** The residual's lockstep range proof; null exactly when the residual is `none`. */
  readonly residual: { readonly tiles: readonly RangeTilePart[]; readonly sumcheck: SumcheckProof } | null;
  /** b_l = B̃(ρy, l), shared. */
  readonly b: readonly bigint[];
  /** a_t,l = Ã_t(l, ρx), per tile. */
  readonly a: readonly (readonly bigint[])[];
  /** Δ_t(ρ), per tile. */
  readonly deltaAtPoint: readonly bigint[];
  readonly quotientsDelta: readonly G1Point[];
  readonly quotientsA: readonly G1Point[];
  readonly quotientsB: readonly G1Point[];
}


const fr = (x: bigint): bigint => Fr.create(x);

/**
 * Prove T ≥ 2 lowrank tiles of one tensor as one unit: `deltas[t]` is tile t's Δ, `factors[t]`
 * its rows of A with the tensor's B and C_B (the same B and C_B for every tile). Refuses like
 * `proveLowRank` (DriftPolicyViolation naming the tile).
 */
export async function proveLowRankUnit(
  ctx: ProverContext,
  inputs: readonly BlockInput[],
  deltas: readonly (readonly bigint[])[],
  factors: readonly LowRankFactors[],
): Promise<{ statements: BlockStatement[]; proof: LowRankUnitProof }> {
  const shape = unitShapeProblem(inputs) ?? (inputs[0]!.drift.class !== 'lowrank' ? `a ${inputs[0]!.drift.class} unit takes its own prover` : null);
  if (shape !== null) throw new Error(`proveLowRankUnit: ${shape}`);
  if (deltas.length !== inputs.length || factors.length !== inputs.length) throw new Error(`proveLowRankUnit: ${inputs.length} tiles, ${deltas.length} Δ, ${factors.length} factors`);
  const { B, cB } = factors[0]!;
  for (const f of factors) if (!f.cB.equals(cB)) throw new Error('proveLowRankUnit: the tiles of a unit cite one B and C_B');
  const wits = inputs.map((input, t) => lowRankResidual(input, deltas[t]!, factors[t]!));
  const { d, mu, muCols, kappa, K, rows, cols, BE } = wits[0]!;
  const res = d.residual;
  const statements: BlockStatement[] = [];
  const cA: G1Point[] = [];
  for (const [t, input] of inputs.entries()) {
    statements.push({ ...input, cFt: input.cBase.add(await commitIntegers(ctx, deltas[t]!)) });
    cA.push(await commitIntegers(ctx, factors[t]!.A));
  }
  const tr = unitTranscript(LOWRANK_UNIT_PROTOCOL, statements);
  tr.absorbG1('lowrank.cB', cB);
  for (const c of cA) tr.absorbG1('lowrank.cA', c);

  let rho: bigint[];
  let residual: LowRankUnitProof['residual'] = null;
  let bits: readonly Uint8Array[] = [];
  if (res.kind !== 'none') {
    const rw = await commitRangeTiles(
      ctx,
      wits.map((w) => w.E),
      BE,
    );
    const out = proveRangeTiles(tr, LOWRANK_RESIDUAL_LABEL, rw, res.kind === 'l2', ctx.msm.kernels);
    rho = out.point;
    residual = { tiles: out.parts, sumcheck: out.sumcheck };
    bits = out.bits;
  } else {
    rho = tr.challenges('lowrank.rho', mu);
  }
  const rhoY = rho.slice(0, muCols);
  const rhoX = rho.slice(muCols);
  const Bf = B.map(fr);
  const Afs = factors.map((f) => f.A.map(fr));
  const deltaFs = deltas.map((v) => v.map(fr));
  const b = factorColEvals(Bf, K, cols, rhoY);
  const a = Afs.map((Af) => factorRowEvals(Af, rows, K, rhoX));
  const deltaAtPoint = deltaFs.map((v) => evaluateMle(v, rho));
  tr.absorbScalars('lowrank.b', b);
  a.forEach((at, t) => {
    tr.absorbScalars('lowrank.a', at);
    tr.absorbScalar('lowrank.deltaAtPoint', deltaAtPoint[t]!);
  });
  const rhoL = tr.challenges('lowrank.rhoL', kappa);
  const zeta = tr.challenge('lowrank.zeta');
  const eta = tr.challenge('lowrank.eta');
  const xi = tr.challenge('lowrank.xi');
  const openDelta = await openRangeBits(ctx, bits, eta, rho, combineVectors(deltaFs, zeta));
  const openA = await openAt(ctx, combineVectors(Afs, xi), [...rhoL, ...rhoX]);
  const openB = await openAt(ctx, Bf, [...rhoY, ...rhoL]);
  return { statements, proof: { cB, cA, residual, b, a, deltaAtPoint, quotientsDelta: openDelta.quotients, quotientsA: openA.quotients, quotientsB: openB.quotients } };
}

/**
 * Non-pairing checks of a lowrank unit: its shape (unitShapeProblem plus one tile geometry),
 * every tile's statement, the lockstep residual proof and S_E,t ≤ T_E, b's padding rows, every
 * tile's product identity, the quotient counts; on success the unit's one accumulator and a
 * summary per tile (its C_B and, with an l2 residual, S_E,t).
 */
export function verifyLowRankUnit(N: number, statements: readonly BlockStatement[], proof: LowRankUnitProof): UnitCheck {
  const rejected = (reason: string): UnitCheck => ({ valid: false, reason });
  const shape = unitShapeProblem(statements);
  if (shape !== null) return rejected(`lowrank unit: ${shape}`);
  const T = statements.length;
  const first = statements[0]!;
  const d = first.drift;
  if (d.class !== 'lowrank') return rejected(`lowrank unit: statement class is ${d.class}`);
  for (const st of statements) {
    const problem = statementProblem(st, d);
    if (problem !== null) return rejected(problem);
  }
  const { muRows, muCols } = first.tile;
  const mu = blockVars(first);
  const kappa = factorRankBits(d.rank);
  const K = 1 << kappa;
  if (mu > N || kappa + muRows > N || kappa + muCols > N) return rejected(`lowrank: a tile of 2^${muRows} × 2^${muCols} with 2^${kappa} factor columns exceeds the SRS size ${N}`);
  const res = d.residual;
  if (proof.cA.length !== T || proof.a.length !== T || proof.deltaAtPoint.length !== T) return rejected(`lowrank unit: ${T} statements, ${proof.cA.length} C_A, ${proof.a.length} a vectors, ${proof.deltaAtPoint.length} Δ(ρ) values`);
  if ((proof.residual !== null) !== (res.kind !== 'none')) return rejected(`lowrank: residual proof ${proof.residual === null ? 'missing' : 'unexpected'} for residual kind ${res.kind}`);
  if (proof.b.length !== K || proof.a.some((at) => at.length !== K)) return rejected(`lowrank: expected ${K} values b_l and a_t,l per tile`);
  if (![...proof.b, ...proof.a.flat(), ...proof.deltaAtPoint].every(isScalar)) return rejected('lowrank: a claimed value is not a field element');
  if (proof.quotientsDelta.length !== mu || proof.quotientsA.length !== kappa + muRows || proof.quotientsB.length !== muCols + kappa) {
    return rejected(`lowrank: expected ${mu}, ${kappa + muRows}, ${muCols + kappa} opening quotients, got ${proof.quotientsDelta.length}, ${proof.quotientsA.length}, ${proof.quotientsB.length}`);
  }
  const tr = unitTranscript(LOWRANK_UNIT_PROTOCOL, statements);
  tr.absorbG1('lowrank.cB', proof.cB);
  for (const c of proof.cA) tr.absorbG1('lowrank.cA', c);
  let rho: bigint[];
  let eAtPoint: bigint[] = new Array<bigint>(T).fill(0n);
  const summaries: BlockSummary[] = [];
  const bitCommitments: G1Point[] = [];
  const bitEvals: bigint[] = [];
  if (proof.residual !== null) {
    if (proof.residual.tiles.length !== T) return rejected(`lowrank unit: ${T} statements, ${proof.residual.tiles.length} residual proofs`);
    const v = verifyRangeTiles(tr, LOWRANK_RESIDUAL_LABEL, proof.residual.tiles, proof.residual.sumcheck, mu, residualEntryBound(res), res.kind === 'l2');
    if (!v.ok) return rejected(v.reason);
    rho = v.point;
    eAtPoint = v.deltaAtPoint;
    for (const [t, part] of proof.residual.tiles.entries()) {
      const S = part.squaredNorm;
      if (res.kind === 'l2' && (S === null || S > res.maxSquaredNorm)) return rejected(`lowrank: block ${statements[t]!.blockIndex}: residual squared norm ${S} exceeds the bound ${res.maxSquaredNorm}`);
      summaries.push(res.kind === 'l2' && S !== null ? { factorCommitment: proof.cB, squaredNorm: S } : { factorCommitment: proof.cB });
      bitCommitments.push(...part.bitCommitments);
      bitEvals.push(...part.bitEvals);
    }
  } else {
    rho = tr.challenges('lowrank.rho', mu);
    for (let t = 0; t < T; t++) summaries.push({ factorCommitment: proof.cB });
  }
  tr.absorbScalars('lowrank.b', proof.b);
  proof.a.forEach((at, t) => {
    tr.absorbScalars('lowrank.a', at);
    tr.absorbScalar('lowrank.deltaAtPoint', proof.deltaAtPoint[t]!);
  });
  for (let l = d.rank; l < K; l++) {
    if (proof.b[l] !== 0n) return rejected(`lowrank: b_${l} = B̃(ρy, ${l}) ≠ 0 for padding row ${l} ≥ rank ${d.rank}: B carries more than the stated rank`);
  }
  const lambda = fr(lowRankScale(first, d));
  for (let t = 0; t < T; t++) {
    let inner = 0n;
    for (let l = 0; l < K; l++) inner = Fr.add(inner, Fr.mul(proof.a[t]![l]!, proof.b[l]!));
    if (Fr.mul(lambda, proof.deltaAtPoint[t]!) !== Fr.add(inner, eAtPoint[t]!)) {
      return rejected(`lowrank: block ${statements[t]!.blockIndex}: product identity λ·Δ(ρ) = Σ_l a_l·b_l + E(ρ) fails: the update is not the committed low-rank product plus residual`);
    }
  }
  const rhoL = tr.challenges('lowrank.rhoL', kappa);
  const zeta = tr.challenge('lowrank.zeta');
  const eta = tr.challenge('lowrank.eta');
  const xi = tr.challenge('lowrank.xi');
  tr.absorbG1s('lowrank.quotients.delta', proof.quotientsDelta);
  tr.absorbG1s('lowrank.quotients.a', proof.quotientsA);
  tr.absorbG1s('lowrank.quotients.b', proof.quotientsB);
  const gamma = tr.challenge('lowrank.gamma');

  // (i) Σ_t ζ^t (C_ft,t − C_base,t) + Σ_k η^(k+1) C_β_k at ρ.
  const zp = powers(zeta, T);
  const termsDelta: { point: G1Point; scalar: bigint }[] = [];
  let valueDelta = 0n;
  statements.forEach((st, t) => {
    termsDelta.push({ point: st.cFt, scalar: zp[t]! }, { point: st.cBase, scalar: Fr.neg(zp[t]!) });
    valueDelta = Fr.add(valueDelta, Fr.mul(zp[t]!, proof.deltaAtPoint[t]!));
  });
  let pow = eta;
  for (let k = 0; k < bitCommitments.length; k++) {
    termsDelta.push({ point: bitCommitments[k]!, scalar: pow });
    valueDelta = Fr.add(valueDelta, Fr.mul(pow, bitEvals[k]!));
    pow = Fr.mul(pow, eta);
  }
  const rhoY = rho.slice(0, muCols);
  const rhoX = rho.slice(muCols);
  const accDelta = openingAccumulator(N, termsDelta, valueDelta, rho, proof.quotientsDelta);
  // (ii) Σ_t ξ^t Ã_t(ρl, ρx);  (iii) B̃(ρy, ρl).
  const accA = openingAccumulator(
    N,
    combinedCommitmentTerms(proof.cA, xi),
    powerCombine(
      proof.a.map((at) => foldAt(at, rhoL)),
      xi,
    ),
    [...rhoL, ...rhoX],
    proof.quotientsA,
  );
  const accB = openingAccumulator(N, [{ point: proof.cB, scalar: 1n }], foldAt(proof.b, rhoL), [...rhoY, ...rhoL], proof.quotientsB);
  const acc: PendingAccumulator = accDelta.absorbScaled(accA, gamma).absorbScaled(accB, Fr.sqr(gamma));
  return { valid: true, accumulator: acc, summaries };
}

/**
 * Unit proof bytes: C_B ‖ u32 T ‖ T × C_A ‖ u8 residual? ‖ [u32 T ‖ T × (range commitments ‖
 * bit evaluations) ‖ sumcheck] ‖ b ‖ T × a_t ‖ T × Δ_t(ρ) (scalar list) ‖ three quotient lists.
 */
export function encodeLowRankUnitProof(p: LowRankUnitProof): Uint8Array {
  const w = new ByteWriter();
  w.g1(p.cB);
  w.g1s(p.cA);
  w.u8(p.residual === null ? 0 : 1);
  if (p.residual !== null) {
    writeRangeTileParts(w, p.residual.tiles);
    writeSumcheck(w, p.residual.sumcheck);
  }
  w.scalars(p.b);
  w.u32(p.a.length);
  for (const at of p.a) w.scalars(at);
  w.scalars(p.deltaAtPoint);
  w.g1s(p.quotientsDelta);
  w.g1s(p.quotientsA);
  w.g1s(p.quotientsB);
  return w.finish();
}

/** Total decoder of `encodeLowRankUnitProof`'s bytes: throws only SmdpError. */
export function decodeLowRankUnitProof(bytes: Uint8Array, what = 'proof'): LowRankUnitProof {
  const r = new ByteReader(bytes, what);
  const cB = r.g1('cB');
  const cA = r.proofG1s('cA', MAX_UNIT_BLOCKS);
  const flag = r.u8('residual.present');
  if (flag > 1) badInput('BAD_VALUE', `${what}.residual.present`, `expected 0 or 1, got ${flag}`);
  let residual: LowRankUnitProof['residual'] = null;
  if (flag === 1) {
    const tiles = readRangeTileParts(r, 'residual.tiles');
    residual = { tiles, sumcheck: readSumcheck(r, 'residual.sumcheck') };
  }
  const b = r.scalars('b', MAX_LOWRANK_WIDTH);
  const T = r.count('a.length', MAX_UNIT_BLOCKS);
  const a: bigint[][] = [];
  for (let t = 0; t < T; t++) a.push(r.scalars(`a[${t}]`, MAX_LOWRANK_WIDTH));
  const deltaAtPoint = r.scalars('deltaAtPoint', MAX_UNIT_BLOCKS);
  const quotientsDelta = r.proofG1s('quotientsDelta', MAX_LOWRANK_QUOTIENTS);
  const quotientsA = r.proofG1s('quotientsA', MAX_LOWRANK_QUOTIENTS);
  const quotientsB = r.proofG1s('quotientsB', MAX_LOWRANK_QUOTIENTS);
  r.end();
  return { cB, cA, residual, b, a, deltaAtPoint, quotientsDelta, quotientsA, quotientsB };
}
