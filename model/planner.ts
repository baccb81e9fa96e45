/**
 * Block planner (issue 3 item 4; PROTOCOLS.md §1 "Blocks", §5 last paragraph): pure
 * functions that decide how each tensor is cut into proof blocks, and which differences
 * between the base and the fine-tuned tensor sets are policy violations.
 *
 * Matrix view (`matrixView`, smdp/aggregate.ts, which the verifier uses): scalar → 1 × 1,
 * 1-D [n] → 1 × n, 2-D as is, ≥3-D [d0, d1, …] → d0 × Π rest (a conv kernel [o,i,kh,kw] is
 * o × i·kh·kw). Entry (row, col) is flat index row·cols + col of the row-major tensor.
 *
 * Tiles. A tile is a band of whole rows, 2^μt × 2^μy with μy = ⌈log2 cols⌉ (the columns
 * zero-padded to a power of two) and μt + μy ≤ μmax; μt is taken as large as fits, capped by
 * ⌈log2 rows⌉, so a tensor takes the fewest blocks: m = ⌈rows / 2^μt⌉ tiles at row offsets
 * 0, 2^μt, …; the last may extend into zero padding. When one padded row is wider than a
 * block may be (μy > μmax), elementwise classes (free, sparse, norm, linf) split rows into
 * 2^μmax-wide pieces, tiles 1 × 2^μmax in row-major order over (row, piece); lowrank cannot
 * (its B is one 2^κ × 2^μy matrix shared by all tiles, and its tiles are whole-row bands):
 * ROW_TOO_LONG, naming the tensor. Frozen tensors need no tiles (a SHA-256 of raw bytes),
 * and neither do empty ones (the verifier requires every tile to meet the matrix).
 * These tiles satisfy the verifier's coverage rule (smdp/aggregate.ts `checkTensors`):
 * pairwise disjoint, each meeting the rows × cols matrix, together covering it exactly, in
 * block order 0..m−1; test/planner.test.ts checks that by property.
 *
 * μmax. The SRS size N always; lowrank also needs κ + μt ≤ N (A_t) and κ + μy ≤ N (B), with
 * κ = ⌈log2 rank⌉ (smdp/classes/lowrank.ts). Exact field arithmetic adds caps, checked here
 * so that a policy the prover could not honour is a clear error before any proving:
 *   - norm, and lowrank with an l2 residual: the square sum of a block stays an integer only
 *     if 2^μ·B² < r with B = ⌊√T⌋ (smdp/classes/range.ts `squareSumFits`), so μmax is lowered
 *     until it holds — smaller blocks for a looser budget;
 *   - linf, and lowrank with an linf residual: Δ_i + B ∈ [0, 2B] must not wrap mod r, so
 *     2B < r.
 * A bound too large for even one-entry blocks is BOUND_TOO_LARGE (use `free`, or a tighter
 * bound). Quantizing classes (sparse, norm, linf, lowrank) need a float dtype (F64, F32, F16,
 * BF16): UNSUPPORTED_DTYPE otherwise; frozen and free take any dtype.
 */
import { matrixView } from '../smdp/aggregate.ts';
import { factorRankBits } from '../smdp/classes/lowrank.ts';
import { squareSumFits } from '../smdp/classes/range.ts';
import { R } from '../smdp/field.ts';
import { MAX_BLOCK_VARS, MAX_DIMS, type DriftSpec, type TileGeometry } from '../smdp/statement.ts';
import { ModelError } from './errors.ts';
import type { PolicyClass, ResolvedTensor } from './policy.ts';

export interface TensorMeta {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
}

export interface TensorPlan {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly class: PolicyClass;
  readonly rule: number | 'default';
  readonly drift: DriftSpec | null;
  /** The matrix view (PROTOCOLS §1). */
  readonly rows: number;
  readonly cols: number;
  /** Blocks in order 0..m−1 (row-major over tiles); empty for frozen and empty tensors. */
  readonly tiles: readonly TileGeometry[];
  /** True for a tensor only the fine-tune has (allowed for `free` only). */
  readonly added: boolean;
}

export type PlanViolationKind = 'added' | 'removed' | 'reshaped' | 'retyped';

export interface PlanViolation {
  readonly tensor: string;
  readonly kind: PlanViolationKind;
  readonly detail: string;
}

export interface ModelPlan {
  /** One plan per fine-tuned tensor that can be certified, in the fine-tune's order. */
  readonly plans: readonly TensorPlan[];
  readonly violations: readonly PlanViolation[];
}

/** Dtypes PROTOCOLS §1 quantizes. */
export const FLOAT_DTYPES: readonly string[] = ['F64', 'F32', 'F16', 'BF16'];
const QUANTIZED_CLASSES: readonly PolicyClass[] = ['sparse', 'norm', 'linf', 'lowrank'];

/** ⌈log2 x⌉ for x ≥ 1 (exact for any safe integer). */
function ceilLog2(x: number): number {
  return x <= 1 ? 0 : (BigInt(x) - 1n).toString(2).length;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Validate a shape and return its matrix view as safe integers. */
export function tensorMatrix(name: string, shape: readonly number[]): { rows: number; cols: number } {
  const bad = (message: string): never => {
    throw new ModelError('BAD_SHAPE', `tensor ${JSON.stringify(name)}: ${message}`, { tensor: name, field: 'shape' });
  };
  if (shape.length > MAX_DIMS) bad(`${shape.length} dimensions exceed the limit ${MAX_DIMS}`);
  let count = 1n;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) bad(`dimension ${String(d)} of ${shapeText(shape)} is not a non-negative integer`);
    count *= BigInt(d);
  }
  if (count > BigInt(Number.MAX_SAFE_INTEGER)) bad(`${shapeText(shape)} has more than 2^53 entries`);
  const { rows, cols } = matrixView(shape);
  return { rows: Number(rows), cols: Number(cols) };
}

/**
 * ⌊√x⌋ by Newton's iteration from above (monotone decreasing to the floor root), in
 * O(log bits) steps for any size. (Not smdp's `isqrt`: it starts from a double estimate and
 * steps up by one, which for inputs near r ≈ 2^255 can take ~2^75 steps.)
 */
export function floorSqrt(x: bigint): bigint {
  if (x < 0n) throw new Error(`floorSqrt: negative input ${x}`);
  if (x < 2n) return x;
  let y = 1n << BigInt(Math.ceil(x.toString(2).length / 2)); // y ≥ √x
  for (;;) {
    const next = (y + x / y) >> 1n;
    if (next >= y) return y;
    y = next;
  }
}

/** The largest μ ≤ cap with 2^μ·B² < r, or −1 if none (B = 0: any μ). */
function squareSumCap(B: bigint, cap: number): number {
  if (B === 0n) return cap;
  let mu = cap;
  while (mu >= 0 && !squareSumFits(mu, B)) mu--;
  return mu;
}

/** μmax from the field (module comment), or a BOUND_TOO_LARGE error. */
function fieldCap(name: string, drift: DriftSpec, N: number): number {
  const tooLarge = (what: string): never => {
    throw new ModelError('BOUND_TOO_LARGE', `tensor ${JSON.stringify(name)}: ${what} is too large for exact arithmetic in the proof field; use a tighter bound or class free`, {
      tensor: name,
      field: 'policy',
    });
  };
  const l2Cap = (T: bigint, what: string): number => {
    const mu = squareSumCap(floorSqrt(T), N);
    return mu >= 0 ? mu : tooLarge(what);
  };
  const linfOk = (B: bigint, what: string): number => (2n * B < R ? N : tooLarge(what));
  switch (drift.class) {
    case 'norm':
      return l2Cap(drift.maxSquaredNorm, `the squared-norm bound ${drift.maxSquaredNorm}`);
    case 'linf':
      return linfOk(drift.maxAbs, `the linf bound ${drift.maxAbs}`);
    case 'lowrank':
      if (drift.residual.kind === 'l2') return l2Cap(drift.residual.maxSquaredNorm, `the residual squared-norm bound ${drift.residual.maxSquaredNorm}`);
      if (drift.residual.kind === 'linf') return linfOk(drift.residual.maxAbs, `the residual linf bound ${drift.residual.maxAbs}`);
      return N;
    case 'free':
    case 'sparse':
      return N;
  }
}

/** Tiles of a rows × cols matrix with blocks of at most 2^muMax entries (module comment). */
function tileMatrix(rows: number, cols: number, muMax: number): TileGeometry[] {
  const tiles: TileGeometry[] = [];
  if (rows === 0 || cols === 0) return tiles;
  const muY = ceilLog2(cols);
  if (muY > muMax) {
    const width = 2 ** muMax;
    const pieces = Math.ceil(cols / width);
    for (let r = 0; r < rows; r++) {
      for (let p = 0; p < pieces; p++) tiles.push({ rowOffset: r, colOffset: p * width, muRows: 0, muCols: muMax });
    }
    return tiles;
  }
  const muT = Math.min(muMax - muY, ceilLog2(rows));
  const height = 2 ** muT;
  for (let r = 0; r < rows; r += height) tiles.push({ rowOffset: r, colOffset: 0, muRows: muT, muCols: muY });
  return tiles;
}

/**
 * How one tensor is proven: its matrix view and tiles under its resolved class, for an SRS
 * of N variables. Throws BAD_SHAPE, UNSUPPORTED_DTYPE, ROW_TOO_LONG, BOUND_TOO_LARGE.
 */
export function planTensor(tensor: TensorMeta, resolved: ResolvedTensor, N: number, opts: { added?: boolean } = {}): TensorPlan {
  if (!Number.isInteger(N) || N < 0 || N > MAX_BLOCK_VARS) throw new Error(`planTensor: SRS size N must be an integer in 0..${MAX_BLOCK_VARS}, got ${N}`);
  if (resolved.name !== tensor.name) throw new Error(`planTensor: resolution for ${JSON.stringify(resolved.name)} given for tensor ${JSON.stringify(tensor.name)}`);
  const { name, shape, dtype } = tensor;
  const { rows, cols } = tensorMatrix(name, shape);
  const base = { name, shape: [...shape], dtype, class: resolved.class, rule: resolved.rule, drift: resolved.drift, rows, cols, added: opts.added ?? false };
  if (QUANTIZED_CLASSES.includes(resolved.class) && !FLOAT_DTYPES.includes(dtype)) {
    throw new ModelError(
      'UNSUPPORTED_DTYPE',
      `tensor ${JSON.stringify(name)}: dtype ${dtype} cannot be quantized for class ${resolved.class} (supported: ${FLOAT_DTYPES.join(', ')}); only frozen or free apply to it`,
      { tensor: name, field: 'dtype' },
    );
  }
  const drift = resolved.drift;
  if (drift === null) {
    if (resolved.class !== 'frozen') throw new Error(`planTensor: class ${resolved.class} of ${JSON.stringify(name)} without a drift spec`);
    return { ...base, tiles: [] };
  }
  if (drift.class !== resolved.class) throw new Error(`planTensor: class ${resolved.class} of ${JSON.stringify(name)} with a ${drift.class} drift spec`);
  const cap = fieldCap(name, drift, N);
  if (drift.class !== 'lowrank') return { ...base, tiles: tileMatrix(rows, cols, cap) };

  const kappa = factorRankBits(drift.rank);
  const muY = ceilLog2(Math.max(cols, 1));
  if (muY > N || muY + kappa > N) {
    throw new ModelError(
      'ROW_TOO_LONG',
      `tensor ${JSON.stringify(name)}: a lowrank tensor's rows must fit one block, but its ${cols} columns pad to 2^${muY}` +
        (kappa > 0 ? ` and its factor B (rank ${drift.rank} padded to 2^${kappa} rows) has 2^${muY + kappa} entries` : '') +
        `, beyond the SRS size 2^${N}; use a larger SRS or an elementwise class`,
      { tensor: name, field: 'shape' },
    );
  }
  if (muY > cap) {
    throw new ModelError('BOUND_TOO_LARGE', `tensor ${JSON.stringify(name)}: the residual bound is too large for exact arithmetic over rows of 2^${muY} columns; use a tighter bound`, {
      tensor: name,
      field: 'policy',
    });
  }
  // A_t is 2^μt × 2^κ, so μt ≤ N − κ as well as μt + μy ≤ cap.
  return { ...base, tiles: tileMatrix(rows, cols, Math.min(cap, muY + N - kappa)) };
}

/**
 * Plans for a fine-tune against its base, and the tensor-set violations (PROTOCOLS §5):
 * a tensor only the fine-tune has is allowed when its class is free (planned, `added`),
 * else a violation; a base tensor missing from the fine-tune, or one whose shape or dtype
 * changed, is always a violation and gets no plan. `resolved` must cover every fine-tuned
 * tensor (resolve the policy over the fine-tune's names).
 */
export function planModel(base: readonly TensorMeta[], ft: readonly TensorMeta[], resolved: readonly ResolvedTensor[], N: number): ModelPlan {
  const baseByName = new Map(base.map((t) => [t.name, t]));
  const ftNames = new Set(ft.map((t) => t.name));
  const byName = new Map(resolved.map((r) => [r.name, r]));
  const plans: TensorPlan[] = [];
  const violations: PlanViolation[] = [];
  for (const t of ft) {
    const r = byName.get(t.name);
    if (r === undefined) throw new Error(`planModel: no policy resolution for fine-tuned tensor ${JSON.stringify(t.name)}`);
    const b = baseByName.get(t.name);
    if (b === undefined) {
      if (r.class === 'free') plans.push(planTensor(t, r, N, { added: true }));
      else {
        violations.push({
          tensor: t.name,
          kind: 'added',
          detail: `tensor ${JSON.stringify(t.name)} is in the fine-tuned model but not in the base; only a tensor the policy classes free may be added, and ${ruleText(r)} classes it ${r.class}`,
        });
      }
      continue;
    }
    let ok = true;
    if (!sameShape(b.shape, t.shape)) {
      ok = false;
      violations.push({ tensor: t.name, kind: 'reshaped', detail: `tensor ${JSON.stringify(t.name)} has shape ${shapeText(b.shape)} in the base and ${shapeText(t.shape)} in the fine-tuned model` });
    }
    if (b.dtype !== t.dtype) {
      ok = false;
      violations.push({ tensor: t.name, kind: 'retyped', detail: `tensor ${JSON.stringify(t.name)} has dtype ${b.dtype} in the base and ${t.dtype} in the fine-tuned model` });
    }
    if (ok) plans.push(planTensor(t, r, N));
  }
  for (const b of base) {
    if (!ftNames.has(b.name)) {
      violations.push({ tensor: b.name, kind: 'removed', detail: `tensor ${JSON.stringify(b.name)} of the base is missing from the fine-tuned model` });
    }
  }
  return { plans, violations };
}

function ruleText(r: ResolvedTensor): string {
  return r.rule === 'default' ? 'the default rule' : `rules[${r.rule}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * For each entry of a tile, row-major within the tile (index row·2^μy + col, PROTOCOLS §1),
 * the flat row-major index of the tensor entry it holds, or −1 for zero padding. A
 * Float64Array: flat indices of large tensors exceed 2^31 but stay below 2^53.
 */
export function tileIndices(shape: readonly number[], tile: TileGeometry): Float64Array {
  const { rows, cols } = tensorMatrix('(tile)', shape);
  const width = 2 ** tile.muCols;
  const height = 2 ** tile.muRows;
  const out = new Float64Array(width * height).fill(-1);
  for (let r = 0; r < height; r++) {
    const row = tile.rowOffset + r;
    if (row >= rows) break;
    const rowBase = row * cols;
    const last = Math.min(width, cols - tile.colOffset);
    for (let c = 0; c < last; c++) out[r * width + c] = rowBase + tile.colOffset + c;
  }
  return out;
}
