/**
 * Block statements (PROTOCOLS.md §3, §5): what a block proof claims, encoded canonically and
 * absorbed first into every block transcript. Binding the SRS digest, job context, tensor
 * name, block index, shapes, quantization, drift class with its parameters, C_base and C_ft
 * means a proof moved to another block, tensor, job or SRS, or a statement with an edited
 * bound, verifies only with probability ≈ 2^-254 (a fresh transcript, fresh challenges).
 */
import { ByteReader, ByteWriter } from './bytes.ts';
import { badInput } from './errors.ts';
import type { G1Point } from './field.ts';
import { Transcript } from './transcript.ts';

export type ResidualSpec =
  | { readonly kind: 'none' }
  /** |E_i| ≤ maxAbs (units of 2^-(s_a+s_b)) */
  | { readonly kind: 'linf'; readonly maxAbs: bigint }
  /** Σ E_i² ≤ maxSquaredNorm over the tensor */
  | { readonly kind: 'l2'; readonly maxSquaredNorm: bigint };

/** A drift class with its parameters in quantized units (the policy converts real bounds). */
export type DriftSpec =
  | { readonly class: 'free' }
  /** |supp Δ| ≤ maxNonzeros over the tensor; revealed lists the changes, hidden commits a selector. */
  | { readonly class: 'sparse'; readonly reveal: boolean; readonly maxNonzeros: number }
  /** Σ Δ_i² ≤ maxSquaredNorm (T_total, quantized units²) over the tensor. */
  | { readonly class: 'norm'; readonly maxSquaredNorm: bigint }
  /** |Δ_i| ≤ maxAbs (quantized units). */
  | { readonly class: 'linf'; readonly maxAbs: bigint }
  /** λ·Δ = A·B + E, rank ≤ rank, λ = 2^(factorBitsA + factorBitsB − s). */
  | {
      readonly class: 'lowrank';
      readonly rank: number;
      readonly factorBitsA: number;
      readonly factorBitsB: number;
      readonly residual: ResidualSpec;
    };

export type DriftClassName = DriftSpec['class'];

/** Where a tile sits in its tensor's matrix view (rows × cols, zero-padded). */
export interface TileGeometry {
  readonly rowOffset: number;
  readonly colOffset: number;
  /** log2 of the tile's rows */
  readonly muRows: number;
  /** log2 of the tile's columns */
  readonly muCols: number;
}

export interface BlockStatement {
  /** Hex SRS digest. */
  readonly srsId: string;
  /** Job context: binds the proof to one certification job (job id, model ids). */
  readonly job: string;
  readonly tensor: string;
  readonly blockIndex: number;
  /** The tensor's original shape (before the matrix view and padding). */
  readonly tensorShape: readonly number[];
  readonly tile: TileGeometry;
  readonly fractionalBits: number;
  readonly drift: DriftSpec;
  readonly cBase: G1Point;
  readonly cFt: G1Point;
}

export const STATEMENT_VERSION = 1;
/** Hard caps on untrusted statement fields. */
export const MAX_NAME_BYTES = 4096;
export const MAX_DIMS = 8;
export const MAX_BLOCK_VARS = 32;

export function blockVars(st: Pick<BlockStatement, 'tile'>): number {
  return st.tile.muRows + st.tile.muCols;
}

const CLASS_TAG: Record<DriftClassName, number> = { free: 0, sparse: 1, norm: 2, linf: 3, lowrank: 4 };
const RESIDUAL_TAG = { none: 0, linf: 1, l2: 2 } as const;

function writeBig(w: ByteWriter, x: bigint): void {
  // Non-negative integers of any size: u32 byte length ‖ big-endian bytes (minimal).
  if (x < 0n) throw new Error(`statement: bounds must be non-negative, got ${x}`);
  const hex = x === 0n ? '' : x.toString(16);
  const padded = hex.length % 2 ? '0' + hex : hex;
  const b = new Uint8Array(padded.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(padded.slice(2 * i, 2 * i + 2), 16);
  w.bytes(b);
}

function readBig(r: ByteReader, field: string): bigint {
  const b = r.bytes(field, 64);
  if (b.length > 0 && b[0] === 0) badInput('NON_CANONICAL', `${r.what}.${field}`, 'integer has a leading zero byte');
  let x = 0n;
  for (const byte of b) x = (x << 8n) | BigInt(byte);
  return x;
}

export function encodeDrift(w: ByteWriter, d: DriftSpec): void {
  w.u8(CLASS_TAG[d.class]);
  switch (d.class) {
    case 'free':
      return;
    case 'sparse':
      w.u8(d.reveal ? 1 : 0).u32(d.maxNonzeros);
      return;
    case 'norm':
      writeBig(w, d.maxSquaredNorm);
      return;
    case 'linf':
      writeBig(w, d.maxAbs);
      return;
    case 'lowrank':
      w.u32(d.rank).u8(d.factorBitsA).u8(d.factorBitsB).u8(RESIDUAL_TAG[d.residual.kind]);
      if (d.residual.kind === 'linf') writeBig(w, d.residual.maxAbs);
      if (d.residual.kind === 'l2') writeBig(w, d.residual.maxSquaredNorm);
      return;
  }
}

export function decodeDrift(r: ByteReader): DriftSpec {
  const tag = r.u8('drift.class');
  switch (tag) {
    case 0:
      return { class: 'free' };
    case 1: {
      const reveal = r.u8('drift.reveal');
      if (reveal > 1) badInput('BAD_VALUE', `${r.what}.drift.reveal`, `expected 0 or 1, got ${reveal}`);
      return { class: 'sparse', reveal: reveal === 1, maxNonzeros: r.u32('drift.maxNonzeros') };
    }
    case 2:
      return { class: 'norm', maxSquaredNorm: readBig(r, 'drift.maxSquaredNorm') };
    case 3:
      return { class: 'linf', maxAbs: readBig(r, 'drift.maxAbs') };
    case 4: {
      const rank = r.u32('drift.rank');
      if (rank < 1 || rank > 1 << 20) badInput('BAD_VALUE', `${r.what}.drift.rank`, `rank must be in 1..2^20, got ${rank}`);
      const factorBitsA = r.u8('drift.factorBitsA');
      const factorBitsB = r.u8('drift.factorBitsB');
      const rt = r.u8('drift.residual');
      const residual: ResidualSpec =
        rt === 0
          ? { kind: 'none' }
          : rt === 1
            ? { kind: 'linf', maxAbs: readBig(r, 'drift.residual.maxAbs') }
            : rt === 2
              ? { kind: 'l2', maxSquaredNorm: readBig(r, 'drift.residual.maxSquaredNorm') }
              : badInput('BAD_VALUE', `${r.what}.drift.residual`, `unknown residual kind ${rt}`);
      return { class: 'lowrank', rank, factorBitsA, factorBitsB, residual };
    }
    default:
      return badInput('BAD_VALUE', `${r.what}.drift.class`, `unknown drift class tag ${tag}`);
  }
}

export function writeStatement(w: ByteWriter, st: BlockStatement): void {
  w.u32(STATEMENT_VERSION).string(st.srsId).string(st.job).string(st.tensor).u32(st.blockIndex);
  w.u8(st.tensorShape.length);
  for (const d of st.tensorShape) w.u64(BigInt(d));
  w.u64(BigInt(st.tile.rowOffset)).u64(BigInt(st.tile.colOffset)).u8(st.tile.muRows).u8(st.tile.muCols);
  w.u8(st.fractionalBits);
  encodeDrift(w, st.drift);
  w.g1(st.cBase).g1(st.cFt);
}

export function encodeStatement(st: BlockStatement): Uint8Array {
  const w = new ByteWriter();
  writeStatement(w, st);
  return w.finish();
}

export function readStatement(r: ByteReader): BlockStatement {
  const version = r.u32('version');
  if (version !== STATEMENT_VERSION) badInput('UNSUPPORTED_VERSION', `${r.what}.version`, `statement version ${version} is not supported`);
  const srsId = r.string('srsId', 128);
  const job = r.string('job', MAX_NAME_BYTES);
  const tensor = r.string('tensor', MAX_NAME_BYTES);
  const blockIndex = r.u32('blockIndex');
  const dims = r.u8('tensorShape.length');
  if (dims > MAX_DIMS) badInput('LIMIT_EXCEEDED', `${r.what}.tensorShape`, `${dims} dimensions exceed the limit ${MAX_DIMS}`);
  const tensorShape: number[] = [];
  for (let i = 0; i < dims; i++) tensorShape.push(safeInt(r, r.u64(`tensorShape[${i}]`), `tensorShape[${i}]`));
  const rowOffset = safeInt(r, r.u64('tile.rowOffset'), 'tile.rowOffset');
  const colOffset = safeInt(r, r.u64('tile.colOffset'), 'tile.colOffset');
  const muRows = r.u8('tile.muRows');
  const muCols = r.u8('tile.muCols');
  if (muRows + muCols > MAX_BLOCK_VARS) badInput('LIMIT_EXCEEDED', `${r.what}.tile`, `a block of ${muRows + muCols} variables exceeds the limit ${MAX_BLOCK_VARS}`);
  const fractionalBits = r.u8('fractionalBits');
  const drift = decodeDrift(r);
  const cBase = r.g1('cBase');
  const cFt = r.g1('cFt');
  return { srsId, job, tensor, blockIndex, tensorShape, tile: { rowOffset, colOffset, muRows, muCols }, fractionalBits, drift, cBase, cFt };
}

function safeInt(r: ByteReader, x: bigint, field: string): number {
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) badInput('LIMIT_EXCEEDED', `${r.what}.${field}`, `${x} exceeds 2^53`);
  return Number(x);
}

/** A block transcript: protocol label, then the whole statement (PROTOCOLS §3). */
export function statementTranscript(protocol: string, st: BlockStatement): Transcript {
  return new Transcript(protocol).absorb('statement', encodeStatement(st));
}

/**
 * The transcript of a proving unit (several blocks, one lockstep proof): the protocol label,
 * the number of blocks, then every block's canonical statement in unit order — all before
 * any commitment or challenge.
 */
export function unitTranscript(protocol: string, statements: readonly BlockStatement[]): Transcript {
  const t = new Transcript(protocol).absorbU64('blocks', statements.length);
  for (const st of statements) t.absorb('statement', encodeStatement(st));
  return t;
}
