/**
 * Proving units for `norm` and `linf`: the blocks of one tensor proven together, with one
 * range sumcheck run in lockstep and one batched opening (smdp/README.md §Proving units).
 *
 * Relation: for every block t of the unit (T ≥ 2 blocks of one tensor, one drift spec, one
 * block size 2^μ), the relation of classes/norm.ts: ∃ Δ_t with C(Δ_t) = C_ft,t − C_base,t,
 * |Δ_t,i| ≤ B and (norm) Σ_i Δ_t,i² = S_t ≤ T.
 *
 * Proof and transcript (`fti/unit/norm/v1`):
 *   1. the unit transcript: T, then every block's canonical statement (statement.ts
 *      `unitTranscript`);
 *   2. per block, its bit commitments C_{β_t,j} (and S_t): the linear check
 *      C_ft,t − C_base,t = Σ_j w_j C_{β_t,j} − [B]_1 ties them to the statement;
 *   3. r, α, c, θ, then ONE sumcheck over μ variables of
 *        Σ_t θ^t·[eq(r,b)·Σ_j α^j β_t,j(b)(β_t,j(b) − 1) + c·Δ_t(b)²] = c·Σ_t θ^t S_t
 *      (range.ts `proveRangeTiles`), ending at one point ρ; the blocks' β_t,j(ρ);
 *   4. η, and ONE batched PST opening of Σ_{t,j} η^{tℓ+j} C_{β_t,j} at ρ: μ quotients whose
 *      MSMs are the size of one block, not of the unit.
 * Soundness. Everything a block commits is absorbed before r, α, c, θ. If some block's bits
 * are not boolean, or some S_t is not its square sum, the claimed identity of that block is
 * false; as a polynomial in θ (degree ≤ T − 1) the combination of the blocks' errors is
 * non-zero, so it vanishes at the random θ with probability ≤ (T − 1)/|F|; the rest is the
 * one-block argument (classes/range.ts) over the combined polynomial: ≤ (μ + Tℓ)/|F| for the
 * zerocheck with the α, θ batching, ≤ 3μ/|F| for the sumcheck, ≤ (Tℓ − 1)/|F| for the
 * η-batched opening, plus PST binding. Total ≤ (4μ + 2Tℓ + T)/|F|, about 2^-230 for any
 * realistic unit. S_t and the per-block bound checks stay per block, so the aggregator's
 * Σ S_b ≤ T_total is unchanged.
 */
import { openingAccumulator } from '../accumulator.ts';
import { ByteReader, ByteWriter } from '../bytes.ts';
import type { G1Point } from '../field.ts';
import { combinedCommitmentTerms, powerCombine, type ProverContext } from '../pst.ts';
import { blockVars, encodeDrift, unitTranscript, type BlockStatement } from '../statement.ts';
import type { SumcheckProof } from '../sumcheck.ts';
import { readSumcheck, writeSumcheck } from '../sumcheck-codec.ts';
import type { BlockSummary } from './common.ts';
import { entryBound, readRangeCommitments, refuseOutOfBound, writeRangeCommitments, type BlockInput } from './norm.ts';
import { commitRangeTiles, impliedCommitmentsMatch, openRangeBits, proveRangeTiles, rangeWeights, verifyRangeTiles, type RangeTilePart } from './range.ts';
import type { PendingAccumulator } from '../accumulator.ts';

export const NORM_UNIT_PROTOCOL = 'fti/unit/norm/v1';
/** Blocks per unit: at least 2 (one block takes the one-block protocol), at most this. */
export const MAX_UNIT_BLOCKS = 1024;

export interface NormUnitProof {
  /** Per block, in unit order: bit commitments, S_t (norm), β_t,j(ρ). */
  readonly tiles: readonly RangeTilePart[];
  readonly sumcheck: SumcheckProof;
  /** Opening quotients of Σ_{t,j} η^{tℓ+j} C_{β_t,j} at ρ. */
  readonly quotients: readonly G1Point[];
}

/** What a unit's verification yields: one accumulator, a summary per block. */
export type UnitCheck =
  | { readonly valid: true; readonly accumulator: PendingAccumulator | null; readonly summaries: readonly BlockSummary[] }
  | { readonly valid: false; readonly reason: string };

function driftKey(d: BlockStatement['drift']): string {
  const w = new ByteWriter();
  encodeDrift(w, d);
  return Buffer.from(w.finish()).toString('hex');
}

/** Whether blocks of this drift spec can be proven in units: norm, linf, lowrank, hidden sparse. */
export function hasUnitProof(d: BlockStatement['drift']): boolean {
  return d.class === 'norm' || d.class === 'linf' || d.class === 'lowrank' || (d.class === 'sparse' && !d.reveal);
}

/**
 * Why these statements cannot form one proving unit, or null: 2..MAX_UNIT_BLOCKS blocks of one
 * tensor with one drift spec of a class that has unit proofs (norm, linf, lowrank, hidden
 * sparse) and one block size — for lowrank one tile geometry 2^μt × 2^μy (B and the point
 * ρ = (ρy, ρx) are shared by the unit's tiles).
 */
export function unitShapeProblem(sts: readonly Pick<BlockStatement, 'tensor' | 'drift' | 'tile'>[]): string | null {
  const first = sts[0];
  if (first === undefined || sts.length < 2) return `a unit has 2..${MAX_UNIT_BLOCKS} blocks, got ${sts.length}`;
  if (sts.length > MAX_UNIT_BLOCKS) return `a unit has at most ${MAX_UNIT_BLOCKS} blocks, got ${sts.length}`;
  const cls = first.drift.class;
  if (!hasUnitProof(first.drift)) return `class ${cls}${cls === 'sparse' ? ' (revealed)' : ''} has no unit proof`;
  const key = driftKey(first.drift);
  const mu = blockVars(first);
  for (const [k, st] of sts.entries()) {
    if (st.tensor !== first.tensor) return `unit block ${k} is of tensor ${JSON.stringify(st.tensor)}, block 0 of ${JSON.stringify(first.tensor)}`;
    if (driftKey(st.drift) !== key) return `unit block ${k}: drift spec differs from unit block 0's`;
    if (blockVars(st) !== mu) return `unit block ${k} has 2^${blockVars(st)} entries, unit block 0 has 2^${mu}`;
    if (cls === 'lowrank' && st.tile.muRows !== first.tile.muRows) return `unit block ${k} has 2^${st.tile.muRows} rows, unit block 0 has 2^${first.tile.muRows}`;
  }
  return null;
}

/**
 * Prove T ≥ 2 norm/linf blocks of one tensor as one unit. `deltas[t]` is block t's Δ (length
 * 2^μ, exact integers). Refuses with DriftPolicyViolation, naming the block, when any block is
 * outside its class (the same checks as `proveNormBound`).
 */
export async function proveNormUnit(ctx: ProverContext, inputs: readonly BlockInput[], deltas: readonly (readonly bigint[])[]): Promise<{ statements: BlockStatement[]; proof: NormUnitProof }> {
  const cls = inputs[0]?.drift.class;
  const shape = unitShapeProblem(inputs) ?? (cls !== 'norm' && cls !== 'linf' ? `a ${cls} unit takes its own prover` : null);
  if (shape !== null) throw new Error(`proveNormUnit: ${shape}`);
  if (deltas.length !== inputs.length) throw new Error(`proveNormUnit: ${deltas.length} Δ vectors for ${inputs.length} blocks`);
  const first = inputs[0]!;
  const d = first.drift;
  const mu = blockVars(first);
  const B = entryBound(d);
  inputs.forEach((input, k) => {
    if (deltas[k]!.length !== 1 << mu) throw new Error(`proveNormUnit: block ${input.blockIndex}: expected ${1 << mu} entries, got ${deltas[k]!.length}`);
    refuseOutOfBound(input, deltas[k]!, mu, B);
  });
  const wits = await commitRangeTiles(ctx, deltas, B);
  const ell = rangeWeights(B).length;
  const kernels = ctx.msm.kernels;
  const statements: BlockStatement[] = inputs.map((input, k) => ({ ...input, cFt: input.cBase.add(wits[k]!.deltaCommitment) }));
  const t = unitTranscript(NORM_UNIT_PROTOCOL, statements);
  const out = proveRangeTiles(t, 'norm', wits, d.class === 'norm', kernels);
  const eta = t.challenge('norm.eta');
  if (ell === 0) return { statements, proof: { tiles: out.parts, sumcheck: out.sumcheck, quotients: [] } };
  const opening = await openRangeBits(ctx, out.bits, eta, out.point, null);
  return { statements, proof: { tiles: out.parts, sumcheck: out.sumcheck, quotients: opening.quotients } };
}

/**
 * Non-pairing checks of a norm/linf unit: the unit's shape (2..MAX_UNIT_BLOCKS blocks of one
 * tensor, one drift spec, one block size ≤ N), the lockstep range proof, every block's linear
 * check and (norm) S_t ≤ T; on success, the unit's one pending accumulator and a summary per
 * block. Reasons name the failing block by its index in the tensor.
 */
export function verifyNormUnit(N: number, statements: readonly BlockStatement[], proof: NormUnitProof): UnitCheck {
  const rejected = (reason: string): UnitCheck => ({ valid: false, reason });
  const cls = statements[0]?.drift.class;
  const shape = unitShapeProblem(statements) ?? (cls !== 'norm' && cls !== 'linf' ? `statement class is ${cls}` : null);
  if (shape !== null) return rejected(`norm unit: ${shape}`);
  if (proof.tiles.length !== statements.length) return rejected(`norm unit: ${statements.length} statements, ${proof.tiles.length} block proofs`);
  const first = statements[0]!;
  const d = first.drift;
  const mu = blockVars(first);
  if (mu > N) return rejected(`block of ${mu} variables exceeds the SRS size ${N}`);
  const B = entryBound(d);
  const t = unitTranscript(NORM_UNIT_PROTOCOL, statements);
  const v = verifyRangeTiles(t, 'norm', proof.tiles, proof.sumcheck, mu, B, d.class === 'norm');
  if (!v.ok) return rejected(v.reason);
  // Linear checks: C_ft,t − C_base,t = Σ_j w_j C_{β_t,j} − [B]_1, one MSM group per block.
  const ok = impliedCommitmentsMatch(
    proof.tiles.map((p, k) => ({ cs: p.bitCommitments, target: statements[k]!.cFt, minus: statements[k]!.cBase })),
    rangeWeights(B),
    B,
  );
  const bad = ok.indexOf(false);
  if (bad >= 0) return rejected(`norm: block ${statements[bad]!.blockIndex}: C_ft − C_base differs from the commitment the bit vectors define`);
  const summaries: BlockSummary[] = [];
  for (const [k, p] of proof.tiles.entries()) {
    const S = p.squaredNorm;
    if (d.class === 'norm' && (S === null || S > d.maxSquaredNorm)) return rejected(`norm: block ${statements[k]!.blockIndex} squared norm ${S} exceeds the bound ${d.maxSquaredNorm}`);
    summaries.push(S === null ? {} : { squaredNorm: S });
  }
  const bits = proof.tiles.flatMap((p) => p.bitCommitments);
  if (bits.length === 0) {
    // B = 0: the linear checks forced C_ft = C_base for every block; nothing to open.
    if (proof.quotients.length !== 0) return rejected('norm: a bound of 0 takes no opening quotients');
    return { valid: true, accumulator: null, summaries };
  }
  if (proof.quotients.length !== mu) return rejected(`norm: expected ${mu} opening quotients, got ${proof.quotients.length}`);
  const eta = t.challenge('norm.eta');
  const evals = proof.tiles.flatMap((p) => p.bitEvals);
  const acc = openingAccumulator(N, combinedCommitmentTerms(bits, eta), powerCombine(evals, eta), v.point, proof.quotients);
  return { valid: true, accumulator: acc, summaries };
}

/**
 * Unit proof bytes: u32 T ‖ T × (u32 ℓ ‖ ℓ × G1 ‖ u8 S? ‖ [S] ‖ u32 ℓ ‖ ℓ × scalar)
 * ‖ sumcheck ‖ u32 k ‖ k × G1 (quotients).
 */
export function encodeNormUnitProof(p: NormUnitProof): Uint8Array {
  const w = new ByteWriter();
  writeRangeTileParts(w, p.tiles);
  writeSumcheck(w, p.sumcheck);
  w.g1s(p.quotients);
  return w.finish();
}

/** Total decoder of `encodeNormUnitProof`'s bytes: throws only SmdpError. */
export function decodeNormUnitProof(bytes: Uint8Array, what = 'proof'): NormUnitProof {
  const r = new ByteReader(bytes, what);
  const tiles = readRangeTileParts(r, 'tiles');
  const sumcheck = readSumcheck(r, 'sumcheck');
  const quotients = r.proofG1s('quotients', 64);
  r.end();
  return { tiles, sumcheck, quotients };
}

/** u32 T ‖ T × (range commitments ‖ bit evaluations): the per-tile parts of a lockstep range proof. */
export function writeRangeTileParts(w: ByteWriter, tiles: readonly RangeTilePart[]): void {
  w.u32(tiles.length);
  for (const tile of tiles) {
    writeRangeCommitments(w, tile);
    w.scalars(tile.bitEvals);
  }
}

/** The reader of `writeRangeTileParts`; fields `field.length`, `field[k].bits…`. */
export function readRangeTileParts(r: ByteReader, field: string): RangeTilePart[] {
  const T = r.count(`${field}.length`, MAX_UNIT_BLOCKS);
  const tiles: RangeTilePart[] = [];
  for (let k = 0; k < T; k++) tiles.push({ ...readRangeCommitments(r, `${field}[${k}].`), bitEvals: r.scalars(`${field}[${k}].bitEvals`, 256) });
  return tiles;
}
