/**
 * Binary forms of the pipeline's stored objects (blob store, content-addressed by SHA-256):
 *   tile work   `FTI-WORK-V1`  — a tile's block input (the statement layout, C_ft unused),
 *                                Δ and, for low-rank tiles, A (its rows), B and C_B;
 *   unit work   `FTI-UNIT-V1`  — u32 T ≥ 2, T × (u32 len ‖ tile work): the tiles of one proving
 *                                unit (a one-tile unit is stored as its tile work);
 *   block record `FTI-BLK-V1`  — statement + proof bytes (what a certificate holds);
 *   unit record `FTI-UREC-V1`  — u32 T ≥ 2, T statements, proof bytes (a proving unit's record);
 *   tree node   `FTI-NODE-V1`  — level, index, digest, evaluated accumulator (N+1 points)
 *                                and the keys of its children.
 * Vectors of exact integers travel as float64 (every value is a safe integer; checked).
 * Decoders reject anything malformed with an SmdpError naming the field.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { BlockRecord, ProofRecord } from '../smdp/aggregate.ts';
import { MAX_UNIT_BLOCKS } from '../smdp/classes/norm-unit.ts';
import { ByteReader, ByteWriter } from '../smdp/bytes.ts';
import { badInput } from '../smdp/errors.ts';
import { G1, type G1Point } from '../smdp/field.ts';
import { readStatement, writeStatement } from '../smdp/statement.ts';
import type { TileWork } from './prove-block.ts';

const WORK_MAGIC = new TextEncoder().encode('FTI-WORK-V1');
const BLOCK_MAGIC = new TextEncoder().encode('FTI-BLK-V1');
const UNIT_WORK_MAGIC = new TextEncoder().encode('FTI-UNIT-V1');
const UNIT_RECORD_MAGIC = new TextEncoder().encode('FTI-UREC-V1');
const NODE_MAGIC = new TextEncoder().encode('FTI-NODE-V1');
/** Largest vector in a stored object (2^24 entries: a block is ≤ 2^16 weights, B ≤ 2^20 rows·cols). */
const MAX_VECTOR = 1 << 24;

export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

function writeInts(w: ByteWriter, xs: readonly bigint[], what: string): void {
  const f = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const v = Number(xs[i]!);
    if (!Number.isSafeInteger(v) || BigInt(v) !== xs[i]) throw new Error(`${what}[${i}] = ${xs[i]} is not a safe integer`);
    f[i] = v;
  }
  w.u32(xs.length).raw(new Uint8Array(f.buffer));
}

/** A vector of exact integers stored as float64 (tile Δ): copied, every entry checked. */
function writeFloatInts(w: ByteWriter, xs: Float64Array, what: string): void {
  for (let i = 0; i < xs.length; i++) if (!Number.isSafeInteger(xs[i]!)) throw new Error(`${what}[${i}] = ${xs[i]} is not a safe integer`);
  w.u32(xs.length).raw(new Uint8Array(xs.buffer, xs.byteOffset, xs.byteLength));
}

function readFloatInts(r: ByteReader, field: string): Float64Array {
  const n = r.count(`${field}.length`, MAX_VECTOR);
  const f = new Float64Array(Uint8Array.from(r.raw(n * 8, field)).buffer);
  for (let i = 0; i < n; i++) if (!Number.isSafeInteger(f[i]!)) badInput('BAD_VALUE', `${r.what}.${field}[${i}]`, `${f[i]} is not a safe integer`);
  return f;
}

function readInts(r: ByteReader, field: string): bigint[] {
  return Array.from(readFloatInts(r, field), (v) => BigInt(v));
}

function magic(r: ByteReader, m: Uint8Array, what: string): void {
  const got = r.raw(m.length, 'magic');
  if (!got.every((b, i) => b === m[i])) badInput('BAD_MAGIC', `${r.what}.magic`, `not ${what}`);
}

export function encodeTileWork(w: TileWork): Uint8Array {
  const out = new ByteWriter().raw(WORK_MAGIC);
  writeStatement(out, { ...w.input, cFt: G1.ZERO });
  writeFloatInts(out, w.delta, 'delta');
  out.u8(w.lowrank ? 1 : 0);
  if (w.lowrank) {
    writeInts(out, w.lowrank.A, 'lowrank.A');
    writeInts(out, w.lowrank.B, 'lowrank.B');
    out.g1(w.lowrank.cB);
  }
  return out.finish();
}

export function decodeTileWork(bytes: Uint8Array, what = 'work'): TileWork {
  const r = new ByteReader(bytes, what);
  magic(r, WORK_MAGIC, 'a tile work object');
  const { cFt: _unused, ...input } = readStatement(r);
  const delta = readFloatInts(r, 'delta');
  const low = r.u8('lowrank');
  if (low > 1) badInput('BAD_VALUE', `${what}.lowrank`, `flag must be 0 or 1, got ${low}`);
  const lowrank = low === 1 ? { A: readInts(r, 'lowrank.A'), B: readInts(r, 'lowrank.B'), cB: r.g1('lowrank.cB') } : undefined;
  r.end();
  return { input, delta, ...(lowrank ? { lowrank } : {}) };
}

export function encodeBlockRecord(b: BlockRecord): Uint8Array {
  const w = new ByteWriter().raw(BLOCK_MAGIC);
  writeStatement(w, b.statement);
  return w.bytes(b.proofBytes).finish();
}

export function decodeBlockRecord(bytes: Uint8Array, what = 'block'): BlockRecord {
  const r = new ByteReader(bytes, what);
  magic(r, BLOCK_MAGIC, 'a block record');
  const statement = readStatement(r);
  const proofBytes = Uint8Array.from(r.bytes('proof', 64 << 20));
  r.end();
  return { statement, proofBytes };
}

export interface StoredNode {
  readonly level: number;
  readonly index: number;
  /** nodeDigest of the children (hex). */
  readonly digest: string;
  /** The node's accumulator, evaluated: N+1 points. */
  readonly accumulator: readonly G1Point[];
  /** Keys of the children: block records at level 1, nodes above. */
  readonly children: readonly string[];
}

export function encodeNode(n: StoredNode): Uint8Array {
  const w = new ByteWriter().raw(NODE_MAGIC).u32(n.level).u32(n.index).string(n.digest).u32(n.accumulator.length);
  for (const p of n.accumulator) w.g1(p);
  w.u32(n.children.length);
  for (const c of n.children) w.string(c);
  return w.finish();
}

export function decodeNode(bytes: Uint8Array, what = 'node'): StoredNode {
  const r = new ByteReader(bytes, what);
  magic(r, NODE_MAGIC, 'an aggregation node');
  const level = r.u32('level');
  const index = r.u32('index');
  const digest = r.string('digest', 64);
  const k = r.count('accumulator.length', 64);
  const accumulator: G1Point[] = [];
  for (let i = 0; i < k; i++) accumulator.push(r.g1(`accumulator[${i}]`));
  const c = r.count('children.length', 1 << 16);
  const children: string[] = [];
  for (let i = 0; i < c; i++) children.push(r.string(`children[${i}]`, 1024));
  r.end();
  return { level, index, digest, accumulator, children };
}

function hasMagic(bytes: Uint8Array, m: Uint8Array): boolean {
  return bytes.length >= m.length && m.every((b, i) => bytes[i] === b);
}

/** A proving unit's work: one tile as its tile work, several as `FTI-UNIT-V1`. */
export function encodeUnitWork(works: readonly TileWork[]): Uint8Array {
  if (works.length === 0) throw new Error('encodeUnitWork: a unit has at least one tile');
  if (works.length === 1) return encodeTileWork(works[0]!);
  const w = new ByteWriter().raw(UNIT_WORK_MAGIC).u32(works.length);
  for (const t of works) w.bytes(encodeTileWork(t));
  return w.finish();
}

/** Decode either form of `encodeUnitWork` (a stored tile work is a unit of one). */
export function decodeUnitWork(bytes: Uint8Array, what = 'work'): TileWork[] {
  if (!hasMagic(bytes, UNIT_WORK_MAGIC)) return [decodeTileWork(bytes, what)];
  const r = new ByteReader(bytes, what);
  magic(r, UNIT_WORK_MAGIC, 'a unit work object');
  const T = r.count('tiles.length', MAX_UNIT_BLOCKS);
  if (T < 2) badInput('BAD_VALUE', `${what}.tiles.length`, `a unit work object holds 2..${MAX_UNIT_BLOCKS} tiles, got ${T}`);
  const out: TileWork[] = [];
  for (let k = 0; k < T; k++) out.push(decodeTileWork(r.bytes(`tiles[${k}]`, 1 << 30), `${what}.tiles[${k}]`));
  r.end();
  return out;
}

/** A record as stored: a block record (`FTI-BLK-V1`) or a unit record (`FTI-UREC-V1`). */
export function encodeProofRecord(rec: ProofRecord): Uint8Array {
  if ('statement' in rec) return encodeBlockRecord(rec);
  const w = new ByteWriter().raw(UNIT_RECORD_MAGIC).u32(rec.statements.length);
  for (const st of rec.statements) writeStatement(w, st);
  return w.bytes(rec.proofBytes).finish();
}

/** Decode either form of `encodeProofRecord`. */
export function decodeProofRecord(bytes: Uint8Array, what = 'record'): ProofRecord {
  if (!hasMagic(bytes, UNIT_RECORD_MAGIC)) return decodeBlockRecord(bytes, what);
  const r = new ByteReader(bytes, what);
  magic(r, UNIT_RECORD_MAGIC, 'a unit record');
  const T = r.count('statements.length', MAX_UNIT_BLOCKS);
  if (T < 2) badInput('BAD_VALUE', `${what}.statements.length`, `a unit record holds 2..${MAX_UNIT_BLOCKS} statements, got ${T}`);
  const statements = [];
  for (let k = 0; k < T; k++) statements.push(readStatement(r));
  const proofBytes = Uint8Array.from(r.bytes('proof', 64 << 20));
  r.end();
  return { statements, proofBytes };
}
