/**
 * proveBlock — the step that proves one tile of one tensor in its drift class (DESIGN.md data
 * flow step 5). The embedded engine calls it in-process; the distributed pipeline wraps the
 * same function as a Temporal activity. It returns the block record (statement + proof
 * bytes) and never a half result: an out-of-class tile raises DriftPolicyViolation.
 */
import type { BlockRecord, ProofRecord } from '../smdp/aggregate.ts';
import { encodeBlockProof } from '../smdp/blocks.ts';
import { encodeNormUnitProof, hasUnitProof, proveNormUnit, unitShapeProblem } from '../smdp/classes/norm-unit.ts';
import { encodeLowRankUnitProof, proveLowRankUnit } from '../smdp/classes/lowrank-unit.ts';
import { encodeSparseHiddenUnitProof, proveSparseHiddenUnit } from '../smdp/classes/sparse-unit.ts';
import { proveLowRank } from '../smdp/classes/lowrank.ts';
import { proveNormBound, type BlockInput } from '../smdp/classes/norm.ts';
import { proveSparseHidden, proveSparseRevealed } from '../smdp/classes/sparse.ts';
import { frSigned, type G1Point } from '../smdp/field.ts';
import { commitField, commitSmall, type ProverContext } from '../smdp/pst.ts';
import type { BlockStatement } from '../smdp/statement.ts';

export interface TileWork {
  readonly input: BlockInput;
  /**
   * Δ = q(W_ft) − q(W_base) over the tile (padding entries 0), index row·2^μy + col: exact
   * integers (safe integers, |Δ| < 2^53) as float64 — compact in memory and on the wire;
   * `proveBlock` checks them and makes the bigints the proof system takes.
   */
  readonly delta: Float64Array;
  /** Low-rank tiles: this tile's rows of A, the tensor's B and C_B. */
  readonly lowrank?: { readonly A: readonly bigint[]; readonly B: readonly bigint[]; readonly cB: G1Point };
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** C(Δ) with the small-scalar MSM when every entry is a safe integer. */
async function commitDelta(ctx: ProverContext, delta: readonly bigint[]): Promise<G1Point> {
  if (delta.every((d) => d <= SAFE && d >= -SAFE)) return commitSmall(ctx, delta.map(Number));
  return commitField(ctx, delta.map((x) => frSigned(x)));
}

/** The tile's Δ as bigints; a non-integer or unsafe entry is a caller bug (named). */
export function deltaBigints(work: TileWork): bigint[] {
  const f = work.delta;
  const out = new Array<bigint>(f.length);
  for (let i = 0; i < f.length; i++) {
    const v = f[i]!;
    if (!Number.isSafeInteger(v)) throw new Error(`proveBlock: tensor ${work.input.tensor} block ${work.input.blockIndex}: delta[${i}] = ${v} is not a safe integer`);
    out[i] = BigInt(v);
  }
  return out;
}

export async function proveBlock(ctx: ProverContext, work: TileWork): Promise<BlockRecord> {
  const { input } = work;
  const delta = deltaBigints(work);
  const d = input.drift;
  let statement: BlockStatement;
  let proofBytes: Uint8Array;
  switch (d.class) {
    case 'norm':
    case 'linf': {
      const r = await proveNormBound(ctx, input, delta);
      statement = r.statement;
      proofBytes = encodeBlockProof({ kind: d.class, proof: r.proof });
      break;
    }
    case 'sparse': {
      if (d.reveal) {
        const r = await proveSparseRevealed(ctx, input, delta);
        statement = r.statement;
        proofBytes = encodeBlockProof({ kind: 'sparse-revealed', proof: r.proof });
      } else {
        const r = await proveSparseHidden(ctx, input, delta);
        statement = r.statement;
        proofBytes = encodeBlockProof({ kind: 'sparse-hidden', proof: r.proof });
      }
      break;
    }
    case 'lowrank': {
      if (!work.lowrank) throw new Error(`proveBlock: low-rank tile ${input.blockIndex} of ${input.tensor} has no factors`);
      const r = await proveLowRank(ctx, input, delta, work.lowrank);
      statement = r.statement;
      proofBytes = encodeBlockProof({ kind: 'lowrank', proof: r.proof });
      break;
    }
    case 'free': {
      // No constraint; the commitment C_ft = C_base + C(Δ) is still certified (PROTOCOLS §5.6).
      statement = { ...input, cFt: input.cBase.add(await commitDelta(ctx, delta)) };
      proofBytes = encodeBlockProof({ kind: 'free' });
      break;
    }
  }
  return { statement, proofBytes };
}

/**
 * Prove one proving unit: a single tile (`proveBlock`), or several norm/linf tiles of one
 * tensor with one lockstep proof (classes/norm-unit.ts), or several lowrank tiles
 * (classes/lowrank-unit.ts), or several hidden sparse tiles (classes/sparse-unit.ts) — the
 * record a certificate holds either way. Refuses like `proveBlock` (DriftPolicyViolation naming the tile).
 */
export async function proveUnit(ctx: ProverContext, works: readonly TileWork[]): Promise<ProofRecord> {
  if (works.length === 1) return proveBlock(ctx, works[0]!);
  const problem = unitShapeProblem(works.map((w) => w.input));
  if (problem !== null) throw new Error(`proveUnit: ${problem}`);
  if (works[0]!.input.drift.class === 'sparse') {
    const r = await proveSparseHiddenUnit(
      ctx,
      works.map((w) => w.input),
      works.map((w) => deltaBigints(w)),
    );
    return { statements: r.statements, proofBytes: encodeSparseHiddenUnitProof(r.proof) };
  }
  if (works[0]!.input.drift.class === 'lowrank') {
    const factors = works.map((w) => {
      if (!w.lowrank) throw new Error(`proveUnit: low-rank tile ${w.input.blockIndex} of ${w.input.tensor} has no factors`);
      return w.lowrank;
    });
    const r = await proveLowRankUnit(
      ctx,
      works.map((w) => w.input),
      works.map((w) => deltaBigints(w)),
      factors,
    );
    return { statements: r.statements, proofBytes: encodeLowRankUnitProof(r.proof) };
  }
  const r = await proveNormUnit(
    ctx,
    works.map((w) => w.input),
    works.map((w) => deltaBigints(w)),
  );
  return { statements: r.statements, proofBytes: encodeNormUnitProof(r.proof) };
}

/**
 * Group a tensor's tile works (in tile order) into proving units: consecutive norm, linf,
 * lowrank or hidden sparse tiles that may share a unit (`unitShapeProblem`: one tensor, drift spec and tile
 * size), at most `maxBlocks` per unit, split evenly; revealed sparse and free tiles one per unit.
 * `maxBlocks` = 1 proves every tile on its own.
 */
export function groupUnits(works: readonly TileWork[], maxBlocks: number): TileWork[][] {
  if (!Number.isSafeInteger(maxBlocks) || maxBlocks < 1) throw new Error(`groupUnits: expected a unit size ≥ 1, got ${maxBlocks}`);
  const out: TileWork[][] = [];
  let run: TileWork[] = [];
  const flush = (): void => {
    let at = 0;
    for (const size of unitSizes(run.length, maxBlocks)) {
      out.push(run.slice(at, at + size));
      at += size;
    }
    run = [];
  };
  for (const w of works) {
    const unitable = maxBlocks > 1 && hasUnitProof(w.input.drift);
    const prev = run[run.length - 1];
    if (prev !== undefined && (!unitable || unitShapeProblem([prev.input, w.input]) !== null)) flush();
    if (unitable) run.push(w);
    else out.push([w]);
  }
  flush();
  return out;
}

/** Sizes of the units a run of `count` tiles splits into: ⌈count / max⌉ units, sizes within one of each other. */
function unitSizes(count: number, maxBlocks: number): number[] {
  const units = Math.ceil(count / maxBlocks);
  const out: number[] = [];
  let left = count;
  for (let u = 0; u < units; u++) {
    const size = Math.floor(left / (units - u));
    out.push(size);
    left -= size;
  }
  return out;
}
