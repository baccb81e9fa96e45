/**
 * Aggregation (PROTOCOLS.md §6; ../../shared/PROTOCOLS.md): an accumulator tree over the
 * blocks of a certificate, and the tensor-level checks that no single block can make.
 *
 * Tree. Leaves (level 0) are the blocks in certificate order. The node at level ℓ ≥ 1, index
 * i, has as children the nodes i·F … i·F+F−1 of level ℓ−1 (fewer at the right edge); levels
 * are added until one node remains, the root (at least one level above the leaves, so a
 * single block still gets a root node; an empty certificate has a root of zero children).
 *   leaf digest  d = SHA-256(0x00 ‖ u32 |stmt| ‖ stmt ‖ proof)   (stmt: canonical statement encoding)
 *   node digest  d = SHA-256(0x01 ‖ u32 count ‖ d_0 ‖ … ‖ d_{count−1})
 * i.e. a Merkle tree whose root is the certificate's proof index. (Tightening of the brief
 * "SHA-256(stmt ‖ proof)": the 0x00/0x01 prefixes keep a leaf from ever being read as a node
 * and vice versa — the classic second-preimage trap of unprefixed Merkle trees — and the
 * length prefix makes the split between statement and proof explicit.)
 *   node challenge  γ = Transcript('fti/aggregate/v1') ← level, index, SRS id, job, count,
 *                   d_0 … d_{count−1};  γ = challenge('gamma')
 *   node accumulator  A = Σ_k γ^k·A_k   (A_k: the children's accumulators; a leaf's is its
 *                   block's pending accumulator, zero for blocks without a pairing check).
 * The certificate's final accumulator is the root's, evaluated to N+1 points, and the
 * verifier checks it with one multi-pairing (`pairingCheck`, accumulator.ts).
 *
 * Why γ may be drawn from the digests instead of the accumulators. A leaf's accumulator is a
 * deterministic function of its (statement, proof) bytes: the block verifier recomputes it.
 * A node's accumulator is a deterministic function of its children's accumulators and its
 * own γ, hence, by induction, of the bytes of the leaves below it. The digest is a
 * collision-resistant commitment to exactly those bytes. So when γ is drawn, every child
 * accumulator is already fixed: changing one afterwards means changing the bytes, which
 * changes the digest (or finds a SHA-256 collision), which changes γ. Absorbing the
 * accumulators themselves would add nothing the digests do not already bind — and costs
 * N+1 point encodings per child, where digests cost 32 bytes and can be computed before any
 * accumulator is evaluated (the proof index is known as soon as the proofs are).
 *
 * Soundness of one fold. Write the pairing product of child k as g_T^{z_k} (G_T has prime
 * order r). The node's product is g_T^{Σ_k z_k γ^k}. If some z_k ≠ 0 the polynomial
 * Σ_k z_k X^k ≠ 0 has degree ≤ F−1, so it vanishes at the random-oracle output γ with
 * probability ≤ (F−1)/r. Hence a tree whose root passes has all leaves passing, except with
 * probability ≤ Q·(F−1)/r for a prover making Q random-oracle queries (≈ 2^-250 for F = 16).
 * This is what defeats "compensating" forgeries: two blocks whose pairing errors cancel when
 * simply added (γ = 1) do not cancel under a γ fixed after both blocks are.
 *
 * Tensor-level checks (over the blocks of each tensor; `checkTensors`):
 *   - the blocks of a tensor are contiguous in certificate order, with block indices exactly
 *     0, 1, …, m−1 (no gaps, duplicates or swaps);
 *   - every block of the certificate states the same job, and every block of a tensor the
 *     same drift spec (class and parameters), tensor shape and quantization s;
 *   - the tiles cover the tensor: pairwise disjoint, each meeting the tensor's matrix view
 *     (`matrixView`, PROTOCOLS §1), their areas inside it summing to rows·cols — so no part
 *     of the tensor escapes the certificate;
 *   - norm: Σ_b S_b ≤ T_total; lowrank with an l2 residual: Σ_b S_E,b ≤ T_E;
 *     sparse: Σ_b k'_b ≤ k;
 *   - lowrank: one C_B per tensor (every tile cites the same), and one tile width μy (B is
 *     one 2^κ × 2^μy matrix).
 * (The SRS id of each statement is checked by `verifyBlockProof`.) These checks are exact —
 * no soundness error beyond the blocks'.
 */
import { sha256 } from './hash.ts';
import { bytesToHex, concatBytes } from '@noble/hashes/utils.js';
import { PendingAccumulator, pairingCheck } from './accumulator.ts';
import { ByteWriter } from './bytes.ts';
import { Fr, type G1Point } from './field.ts';
import type { Srs, VerifierKey } from './srs.ts';
import { encodeDrift, encodeStatement, type BlockStatement, type DriftSpec } from './statement.ts';
import { Transcript } from './transcript.ts';
import { scanRecordProof, verifyRecordProof } from './blocks.ts';
import { withPrefetchedG1 } from './curve-ops.ts';
import type { BlockSummary } from './classes/common.ts';

export const AGGREGATE_PROTOCOL = 'fti/aggregate/v1';
export const DEFAULT_FAN_IN = 16;
/** Fan-in bounds: F ≥ 2 so the tree terminates; the cap bounds a node's transcript. */
export const MIN_FAN_IN = 2;
export const MAX_FAN_IN = 1024;
export const DIGEST_BYTES = 32;

const LEAF_TAG = 0x00;
const NODE_TAG = 0x01;
const UNIT_TAG = 0x02;

/** One block of a certificate: its statement and its proof bytes (still untrusted). */
export interface BlockRecord {
  readonly statement: BlockStatement;
  readonly proofBytes: Uint8Array;
}

/**
 * A proving unit of a certificate: blocks of one tensor (2 … MAX_UNIT_BLOCKS, consecutive in
 * certificate order) that share one lockstep proof (classes/norm-unit.ts).
 */
export interface UnitRecord {
  readonly statements: readonly BlockStatement[];
  readonly proofBytes: Uint8Array;
}

/** A certificate record: one block with its own proof, or a unit of blocks with one proof. */
export type ProofRecord = BlockRecord | UnitRecord;

/** The statements of a record, in certificate order. */
export function recordStatements(r: ProofRecord): readonly BlockStatement[] {
  return 'statement' in r ? [r.statement] : r.statements;
}

/** The record of statements sharing one proof: a block record for one, a unit record for more. */
export function recordOf(statements: readonly BlockStatement[], proofBytes: Uint8Array): ProofRecord {
  return statements.length === 1 ? { statement: statements[0]!, proofBytes } : { statements, proofBytes };
}

/** The blocks in a list of records. */
export function blockCount(records: readonly ProofRecord[]): number {
  return records.reduce((n, r) => n + recordStatements(r).length, 0);
}

// ---------------------------------------------------------------------------------------
// Digests, challenges, tree shape — shared by the whole-certificate and incremental APIs
// ---------------------------------------------------------------------------------------

function u32be(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/** SHA-256(0x00 ‖ u32 |stmt| ‖ stmt ‖ proof). */
export function leafDigest(statementBytes: Uint8Array, proofBytes: Uint8Array): Uint8Array {
  return sha256(concatBytes(new Uint8Array([LEAF_TAG]), u32be(statementBytes.length), statementBytes, proofBytes));
}

/** SHA-256(0x02 ‖ u32 T ‖ T × (u32 |stmt| ‖ stmt) ‖ proof): a unit's leaf. */
export function unitLeafDigest(statements: readonly Uint8Array[], proofBytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array([UNIT_TAG]), u32be(statements.length)];
  for (const st of statements) parts.push(u32be(st.length), st);
  parts.push(proofBytes);
  return sha256(concatBytes(...parts));
}

/** The leaf digest of a record (a block's or a unit's). */
export function recordDigest(r: ProofRecord): Uint8Array {
  return 'statement' in r ? leafDigest(encodeStatement(r.statement), r.proofBytes) : unitLeafDigest(r.statements.map(encodeStatement), r.proofBytes);
}

/** SHA-256(0x01 ‖ u32 count ‖ children's digests). */
export function nodeDigest(childDigests: readonly Uint8Array[]): Uint8Array {
  for (const d of childDigests) if (d.length !== DIGEST_BYTES) throw new Error(`nodeDigest: expected ${DIGEST_BYTES}-byte digests, got ${d.length}`);
  return sha256(concatBytes(new Uint8Array([NODE_TAG]), u32be(childDigests.length), ...childDigests));
}

/** Who is aggregating: the SRS (its id and size N) and the job every block must state. */
export interface AggregationContext {
  readonly N: number;
  readonly srsId: string;
  readonly job: string;
}

export function aggregationContext(vk: Pick<VerifierKey, 'N' | 'id'>, job: string): AggregationContext {
  return { N: vk.N, srsId: vk.id, job };
}

/** γ of the node (level, index) with the given children. */
export function nodeChallenge(ctx: AggregationContext, level: number, index: number, childDigests: readonly Uint8Array[]): bigint {
  const t = new Transcript(AGGREGATE_PROTOCOL)
    .absorbU64('level', level)
    .absorbU64('index', index)
    .absorbString('srs', ctx.srsId)
    .absorbString('job', ctx.job)
    .absorbU64('children', childDigests.length);
  for (const d of childDigests) t.absorb('child', d);
  return t.challenge('gamma');
}

/** Node counts per level: [#leaves, …, 1]. Always at least one level above the leaves. */
export function aggregationLevels(leafCount: number, fanIn: number): number[] {
  checkFanIn(fanIn);
  if (!Number.isSafeInteger(leafCount) || leafCount < 0) throw new Error(`aggregationLevels: expected a leaf count ≥ 0, got ${leafCount}`);
  const levels = [leafCount];
  let n = leafCount;
  do {
    n = Math.max(1, Math.ceil(n / fanIn));
    levels.push(n);
  } while (n > 1);
  return levels;
}

/** The children [start, end) at level ℓ−1 of node (ℓ, index), given level ℓ−1's size. */
export function nodeChildRange(index: number, fanIn: number, childLevelSize: number): { start: number; end: number } {
  const start = index * fanIn;
  return { start, end: Math.min(start + fanIn, childLevelSize) };
}

function checkFanIn(fanIn: number): void {
  if (!Number.isInteger(fanIn) || fanIn < MIN_FAN_IN || fanIn > MAX_FAN_IN) throw new Error(`aggregate: fan-in must be an integer in ${MIN_FAN_IN}..${MAX_FAN_IN}, got ${fanIn}`);
}

// ---------------------------------------------------------------------------------------
// Incremental API (a distributed pipeline folds node by node)
// ---------------------------------------------------------------------------------------

/** A child of a node: its digest and its accumulator (pending, evaluated, or none = zero). */
export interface AggregationChild {
  readonly digest: Uint8Array;
  readonly accumulator: PendingAccumulator | readonly G1Point[] | null;
}

export interface AggregationNode {
  readonly level: number;
  readonly index: number;
  readonly digest: Uint8Array;
  readonly accumulator: PendingAccumulator;
}

function asPending(N: number, acc: PendingAccumulator | readonly G1Point[] | null): PendingAccumulator {
  if (acc === null) return new PendingAccumulator(N);
  if (acc instanceof PendingAccumulator) {
    if (acc.N !== N) throw new Error(`foldChildren: child accumulator has N = ${acc.N}, expected ${N}`);
    return acc;
  }
  if (acc.length !== N + 1) throw new Error(`foldChildren: an evaluated accumulator has N+1 = ${N + 1} points, got ${acc.length}`);
  const p = new PendingAccumulator(N);
  acc.forEach((pt, slot) => p.add(slot, pt, 1n));
  return p;
}

/**
 * Fold the children of node (level, index): digest = nodeDigest(children's digests),
 * accumulator = Σ_k γ^k·A_k with γ = nodeChallenge(…). Trusts that each child's accumulator
 * belongs to its digest (a pipeline folding its own workers' outputs); the verifier never
 * does: `aggregateBlocks` recomputes every leaf from its bytes and reaches the same node
 * values through this function.
 */
export function foldChildren(ctx: AggregationContext, level: number, index: number, children: readonly AggregationChild[]): AggregationNode {
  if (!Number.isSafeInteger(level) || level < 1) throw new Error(`foldChildren: nodes are at level ≥ 1, got ${level}`);
  if (!Number.isSafeInteger(index) || index < 0) throw new Error(`foldChildren: expected an index ≥ 0, got ${index}`);
  if (children.length > MAX_FAN_IN) throw new Error(`foldChildren: ${children.length} children exceed the fan-in cap ${MAX_FAN_IN}`);
  const digests = children.map((c) => c.digest);
  const digest = nodeDigest(digests);
  const gamma = nodeChallenge(ctx, level, index, digests);
  const accumulator = new PendingAccumulator(ctx.N);
  let pow = 1n;
  for (const c of children) {
    accumulator.absorbScaled(asPending(ctx.N, c.accumulator), pow); // + γ^k·A_k
    pow = Fr.mul(pow, gamma);
  }
  return { level, index, digest, accumulator };
}

/** Fold a whole level list of nodes (level ℓ−1) into level ℓ. */
export function foldLevel(ctx: AggregationContext, level: number, fanIn: number, children: readonly AggregationChild[]): AggregationNode[] {
  checkFanIn(fanIn);
  const out: AggregationNode[] = [];
  const count = Math.max(1, Math.ceil(children.length / fanIn));
  for (let i = 0; i < count; i++) {
    const { start, end } = nodeChildRange(i, fanIn, children.length);
    out.push(foldChildren(ctx, level, i, children.slice(start, end)));
  }
  return out;
}

/** Fold leaves up to the root (levels as in `aggregationLevels`). */
export function foldTree(ctx: AggregationContext, fanIn: number, leaves: readonly AggregationChild[]): AggregationNode {
  let level = 1;
  let nodes = foldLevel(ctx, level, fanIn, leaves);
  while (nodes.length > 1) nodes = foldLevel(ctx, ++level, fanIn, nodes);
  return nodes[0]!;
}

// ---------------------------------------------------------------------------------------
// Tensor-level checks
// ---------------------------------------------------------------------------------------

/** What aggregation learned about one tensor (its blocks are contiguous in the certificate). */
export interface TensorAggregate {
  readonly tensor: string;
  readonly drift: DriftSpec;
  readonly tensorShape: readonly number[];
  readonly fractionalBits: number;
  /** Position of the tensor's first block in certificate order. */
  readonly firstBlock: number;
  readonly blocks: number;
  /** sparse: Σ_b k'_b */
  readonly nonzeros?: number;
  /** norm: Σ_b S_b; lowrank with an l2 residual: Σ_b S_E,b (quantized units²) */
  readonly squaredNorm?: bigint;
  /** lowrank: the tensor's C_B */
  readonly factorCommitment?: G1Point;
}

export interface BlockFailure {
  /** Position of the block in certificate order. */
  readonly index: number;
  readonly tensor: string;
  readonly blockIndex: number;
  readonly reason: string;
}

/**
 * The matrix view of a tensor shape (PROTOCOLS §1): 1-D `1 × n`, otherwise
 * `shape[0] × Π shape[1..]` (2-D as is; 4-D conv [o,i,kh,kw] → o × (i·kh·kw)); a scalar is 1 × 1.
 */
export function matrixView(shape: readonly number[]): { rows: bigint; cols: bigint } {
  if (shape.length === 1) return { rows: 1n, cols: BigInt(shape[0]!) };
  const rows = shape.length === 0 ? 1n : BigInt(shape[0]!);
  let cols = 1n;
  for (const d of shape.slice(1)) cols *= BigInt(d);
  return { rows, cols };
}

function driftBytes(d: DriftSpec): string {
  const w = new ByteWriter();
  encodeDrift(w, d);
  return bytesToHex(w.finish());
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

interface Rect {
  readonly pos: number;
  readonly r0: bigint;
  readonly r1: bigint;
  readonly c0: bigint;
  readonly c1: bigint;
}

/** Tiles pairwise disjoint, each meeting the matrix, covering it exactly; null or a failure. */
function coverageProblem(statements: readonly BlockStatement[], firstPos: number, rows: bigint, cols: bigint): { pos: number; reason: string } | null {
  const rects: Rect[] = statements.map((st, k) => {
    const r0 = BigInt(st.tile.rowOffset);
    const c0 = BigInt(st.tile.colOffset);
    return { pos: firstPos + k, r0, c0, r1: r0 + (1n << BigInt(st.tile.muRows)), c1: c0 + (1n << BigInt(st.tile.muCols)) };
  });
  let covered = 0n;
  for (const t of rects) {
    const h = (t.r1 < rows ? t.r1 : rows) - t.r0;
    const w = (t.c1 < cols ? t.c1 : cols) - t.c0;
    if (h <= 0n || w <= 0n) return { pos: t.pos, reason: `tile at (${t.r0}, ${t.c0}) lies outside the ${rows} × ${cols} matrix view of the tensor` };
    covered += h * w;
  }
  const sorted = [...rects].sort((a, b) => (a.r0 < b.r0 ? -1 : a.r0 > b.r0 ? 1 : a.c0 < b.c0 ? -1 : a.c0 > b.c0 ? 1 : 0));
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    for (let j = i + 1; j < sorted.length && sorted[j]!.r0 < a.r1; j++) {
      const b = sorted[j]!;
      if (b.c0 < a.c1 && a.c0 < b.c1) {
        const later = a.pos > b.pos ? a : b;
        return { pos: later.pos, reason: `tiles of blocks at positions ${Math.min(a.pos, b.pos)} and ${later.pos} overlap` };
      }
    }
  }
  if (covered !== rows * cols) {
    return { pos: firstPos + statements.length - 1, reason: `tiles cover ${covered} of the ${rows * cols} entries of the tensor's ${rows} × ${cols} matrix view` };
  }
  return null;
}

/**
 * The tensor-level checks over blocks whose own checks passed (`summaries[i]` is block i's).
 * Returns the per-tensor aggregates, or the first failure in certificate order.
 */
export function checkTensors(
  statements: readonly BlockStatement[],
  summaries: readonly BlockSummary[],
): { ok: true; tensors: TensorAggregate[] } | { ok: false; failing: BlockFailure } {
  const fail = (pos: number, reason: string): { ok: false; failing: BlockFailure } => {
    const st = statements[pos]!;
    return { ok: false, failing: { index: pos, tensor: st.tensor, blockIndex: st.blockIndex, reason } };
  };
  const tensors: TensorAggregate[] = [];
  const seen = new Set<string>();
  const job = statements[0]?.job;
  let start = 0;
  while (start < statements.length) {
    const first = statements[start]!;
    const name = first.tensor;
    if (seen.has(name)) return fail(start, `tensor ${JSON.stringify(name)}: its blocks are not contiguous in the certificate`);
    seen.add(name);
    let end = start;
    while (end < statements.length && statements[end]!.tensor === name) end++;
    const drift = first.drift;
    const driftKey = driftBytes(drift);
    let nonzeros = 0;
    let squaredNorm = 0n;
    let factorCommitment: G1Point | undefined;
    for (let pos = start; pos < end; pos++) {
      const st = statements[pos]!;
      const sum = summaries[pos]!;
      const where = `tensor ${JSON.stringify(name)} block ${st.blockIndex}`;
      if (st.job !== job) return fail(pos, `${where}: states job ${JSON.stringify(st.job)}, the certificate's blocks state ${JSON.stringify(job)}`);
      if (st.blockIndex !== pos - start) {
        return fail(pos, `${where}: found at position ${pos - start} of the tensor's blocks; block indices must run 0..m−1 in order, without gaps, duplicates or swaps`);
      }
      if (driftBytes(st.drift) !== driftKey) return fail(pos, `${where}: drift spec differs from the tensor's block 0`);
      if (!sameShape(st.tensorShape, first.tensorShape)) return fail(pos, `${where}: tensor shape [${st.tensorShape.join(', ')}] differs from block 0's [${first.tensorShape.join(', ')}]`);
      if (st.fractionalBits !== first.fractionalBits) return fail(pos, `${where}: quantization s = ${st.fractionalBits} differs from block 0's ${first.fractionalBits}`);
      switch (drift.class) {
        case 'norm':
          if (sum.squaredNorm === undefined) return fail(pos, `${where}: norm block without a squared norm`);
          squaredNorm += sum.squaredNorm;
          if (squaredNorm > drift.maxSquaredNorm) {
            return fail(pos, `tensor ${JSON.stringify(name)}: Σ S_b over blocks 0..${st.blockIndex} = ${squaredNorm} exceeds the tensor's squared-norm budget ${drift.maxSquaredNorm}`);
          }
          break;
        case 'sparse':
          if (sum.nonzeros === undefined) return fail(pos, `${where}: sparse block without a nonzero count`);
          nonzeros += sum.nonzeros;
          if (nonzeros > drift.maxNonzeros) {
            return fail(pos, `tensor ${JSON.stringify(name)}: Σ k'_b over blocks 0..${st.blockIndex} = ${nonzeros} exceeds the tensor's bound ${drift.maxNonzeros}`);
          }
          break;
        case 'lowrank': {
          if (sum.factorCommitment === undefined) return fail(pos, `${where}: lowrank tile without a C_B`);
          if (factorCommitment === undefined) factorCommitment = sum.factorCommitment;
          else if (!factorCommitment.equals(sum.factorCommitment)) return fail(pos, `${where}: cites a C_B other than block 0's; a tensor has one B`);
          if (st.tile.muCols !== first.tile.muCols) return fail(pos, `${where}: tile width 2^${st.tile.muCols} differs from block 0's 2^${first.tile.muCols}; B is one matrix`);
          if (drift.residual.kind === 'l2') {
            if (sum.squaredNorm === undefined) return fail(pos, `${where}: l2 residual without a squared norm`);
            squaredNorm += sum.squaredNorm;
            if (squaredNorm > drift.residual.maxSquaredNorm) {
              return fail(pos, `tensor ${JSON.stringify(name)}: Σ S_E over blocks 0..${st.blockIndex} = ${squaredNorm} exceeds the residual budget ${drift.residual.maxSquaredNorm}`);
            }
          }
          break;
        }
        case 'linf':
        case 'free':
          break;
      }
    }
    const { rows, cols } = matrixView(first.tensorShape);
    const cover = coverageProblem(statements.slice(start, end), start, rows, cols);
    if (cover !== null) return fail(cover.pos, `tensor ${JSON.stringify(name)}: ${cover.reason}`);
    const agg: TensorAggregate = {
      tensor: name,
      drift,
      tensorShape: first.tensorShape,
      fractionalBits: first.fractionalBits,
      firstBlock: start,
      blocks: end - start,
      ...(drift.class === 'sparse' ? { nonzeros } : {}),
      ...(drift.class === 'norm' || (drift.class === 'lowrank' && drift.residual.kind === 'l2') ? { squaredNorm } : {}),
      ...(factorCommitment !== undefined ? { factorCommitment } : {}),
    };
    tensors.push(agg);
    start = end;
  }
  return { ok: true, tensors };
}

// ---------------------------------------------------------------------------------------
// Whole-certificate aggregation (what the verifier runs)
// ---------------------------------------------------------------------------------------

export type AggregateResult =
  | {
      readonly ok: true;
      /** The root accumulator, evaluated: N+1 points. */
      readonly accumulator: G1Point[];
      /** The Merkle root of the proof index (hex). */
      readonly root: string;
      readonly tensors: readonly TensorAggregate[];
    }
  | {
      readonly ok: false;
      /** The first failure in certificate order. */
      readonly failing: BlockFailure;
      /** Every block whose own checks failed (tensor-level checks run only when there is none). */
      readonly failures: readonly BlockFailure[];
    };

/** Blocks whose points are decoded as one batch by `aggregateBlocks`. */
const PREFETCH_BLOCKS = 256;
/** Leaves per subtree that `aggregateBlocks` folds and evaluates before moving on (at least). */
const STREAM_LEAVES = 256;

/**
 * Re-check every block (decode + non-pairing checks), run the tensor-level checks, fold the
 * tree. The job is the one every block states (all must agree). Does not run the pairing:
 * callers finish with `pairingCheck(vk, result.accumulator)`.
 *
 * Streaming: each subtree of ≥ 256 leaves is folded as soon as its leaves are checked and
 * evaluated to its N+1 points, so memory holds one subtree's accumulators and one batch of
 * decoded points, not the whole certificate's (evaluation is linear: the root is the same
 * group elements as folding everything first; nodes keep their global indices). Per-block accumulators are not kept: after a failed pairing,
 * `locatePairingFailures` recomputes them. `streamLeaves` (the subtree size to reach) only
 * changes memory and speed, never the result; tests use small values to exercise the seams.
 */
export function aggregateBlocks(srs: Srs, blocks: readonly ProofRecord[], fanIn: number = DEFAULT_FAN_IN, streamLeaves: number = STREAM_LEAVES): AggregateResult {
  checkFanIn(fanIn);
  const failures: BlockFailure[] = [];
  const summaries: BlockSummary[] = [];
  const statements: BlockStatement[] = [];
  const ctx = aggregationContext(srs, (blocks[0] === undefined ? undefined : recordStatements(blocks[0])[0])?.job ?? '');
  // Subtrees of F^k leaves (k: the smallest with F^k ≥ STREAM_LEAVES, at most the tree's
  // depth) are folded with their global node indices and evaluated as soon as their leaves
  // are checked; the levels above fold the evaluated subtree roots. Leaves are records: a
  // block, or a proving unit of blocks with one proof.
  const depth = aggregationLevels(blocks.length, fanIn).length - 1;
  let k = 1;
  while (k < depth && fanIn ** k < streamLeaves) k++;
  const span = fanIn ** k;
  const roots: AggregationChild[] = [];
  let pending: AggregationChild[] = [];
  const flush = (): void => {
    const first = roots.length * span;
    let nodes: AggregationChild[] = pending;
    for (let level = 1; level <= k; level++) {
      const offset = first / fanIn ** level;
      const next: AggregationNode[] = [];
      const count = Math.max(1, Math.ceil(nodes.length / fanIn));
      for (let i = 0; i < count; i++) next.push(foldChildren(ctx, level, offset + i, nodes.slice(i * fanIn, (i + 1) * fanIn)));
      nodes = next;
    }
    const top = nodes[0] as AggregationNode;
    roots.push({ digest: top.digest, accumulator: top.accumulator.evaluate() });
    pending = [];
  };
  // The proofs' points decoded in parallel batches first (native backend), a bounded number
  // of records at a time.
  for (let from = 0; from < blocks.length; from += PREFETCH_BLOCKS) {
    const chunk = blocks.slice(from, from + PREFETCH_BLOCKS);
    const scan = (): void =>
      chunk.forEach((b) => {
        try {
          scanRecordProof(b);
        } catch {
          // reported by verifyRecordProof below
        }
      });
    withPrefetchedG1(scan, () =>
      chunk.forEach((b) => {
        const sts = recordStatements(b);
        const index = statements.length;
        statements.push(...sts);
        const st = sts[0];
        const check = verifyRecordProof(srs, b, `blocks[${index}].proof`);
        if (!check.valid) {
          failures.push({ index, tensor: st?.tensor ?? '', blockIndex: st?.blockIndex ?? 0, reason: check.reason });
          return;
        }
        summaries.push(...check.summaries);
        if (failures.length > 0) return; // rejected already: no more folding, only the list of failures
        pending.push({ digest: recordDigest(b), accumulator: check.accumulator });
        if (pending.length === span) flush();
      }),
    );
  }
  if (failures.length > 0) return { ok: false, failing: failures[0]!, failures };
  const tensorCheck = checkTensors(statements, summaries);
  if (!tensorCheck.ok) return { ok: false, failing: tensorCheck.failing, failures: [tensorCheck.failing] };
  if (pending.length > 0 || roots.length === 0) flush();
  // Levels k+1 … root over the evaluated subtree roots.
  let level = k;
  let nodes: AggregationChild[] = roots;
  while (nodes.length > 1) nodes = foldLevel(ctx, ++level, fanIn, nodes);
  const root = nodes[0]!;
  const accumulator = root.accumulator instanceof PendingAccumulator ? root.accumulator.evaluate() : [...(root.accumulator ?? [])];
  return { ok: true, accumulator, root: bytesToHex(root.digest), tensors: tensorCheck.tensors };
}

/**
 * After a failed final pairing: the positions (in certificate block order) of the first block
 * of each record whose own accumulator fails its pairing (each record's non-pairing checks
 * re-run and one pairing per record — only on the rejection path). May be empty when every
 * record passes alone, which a root built from these records then cannot fail: the stated
 * accumulator was forged, not a block.
 */
export function locatePairingFailures(srs: Srs, blocks: readonly ProofRecord[]): number[] {
  const bad: number[] = [];
  let pos = 0;
  blocks.forEach((b) => {
    const check = verifyRecordProof(srs, b, `blocks[${pos}].proof`);
    if (check.valid && check.accumulator !== null && !pairingCheck(srs, check.accumulator.evaluate())) bad.push(pos);
    pos += recordStatements(b).length;
  });
  return bad;
}
