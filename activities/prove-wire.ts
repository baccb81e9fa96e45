/**
 * The messages between the proving pool (prove-pool.ts) and its worker threads
 * (prove-worker.ts). Structured clone carries numbers, bigints and typed arrays; G1 points
 * travel as affine coordinates (they come from this process or its own workers, so they are
 * rebuilt without a subgroup check).
 */
import { G1, type G1Point } from '../smdp/field.ts';
import type { BlockInput } from '../smdp/classes/norm.ts';
import type { BlockStatement } from '../smdp/statement.ts';
import type { TileWork } from './prove-block.ts';

export interface WirePoint {
  readonly x: bigint;
  readonly y: bigint;
  readonly zero: boolean;
}

export function toWire(p: G1Point): WirePoint {
  if (p.equals(G1.ZERO)) return { x: 0n, y: 0n, zero: true };
  const a = p.toAffine();
  return { x: a.x, y: a.y, zero: false };
}

export function fromWire(w: WirePoint): G1Point {
  return w.zero ? G1.ZERO : G1.fromAffine({ x: w.x, y: w.y });
}

export interface WireTileWork {
  readonly input: Omit<BlockInput, 'cBase'> & { readonly cBase: WirePoint };
  readonly delta: Float64Array;
  readonly lowrank?: { readonly A: readonly bigint[]; readonly B: readonly bigint[]; readonly cB: WirePoint };
}

export function tileWorkToWire(w: TileWork): WireTileWork {
  return {
    input: { ...w.input, cBase: toWire(w.input.cBase) },
    delta: w.delta,
    ...(w.lowrank ? { lowrank: { A: w.lowrank.A, B: w.lowrank.B, cB: toWire(w.lowrank.cB) } } : {}),
  };
}

export function tileWorkFromWire(w: WireTileWork): TileWork {
  return {
    input: { ...w.input, cBase: fromWire(w.input.cBase) },
    delta: w.delta,
    ...(w.lowrank ? { lowrank: { A: w.lowrank.A, B: w.lowrank.B, cB: fromWire(w.lowrank.cB) } } : {}),
  };
}

export type WireStatement = Omit<BlockStatement, 'cBase' | 'cFt'> & { readonly cBase: WirePoint; readonly cFt: WirePoint };

export function statementToWire(st: BlockStatement): WireStatement {
  return { ...st, cBase: toWire(st.cBase), cFt: toWire(st.cFt) };
}

export function statementFromWire(st: WireStatement): BlockStatement {
  return { ...st, cBase: fromWire(st.cBase), cFt: fromWire(st.cFt) };
}

export type Request =
  | { readonly id: number; readonly op: 'prove'; readonly works: readonly WireTileWork[] }
  | { readonly id: number; readonly op: 'commit'; readonly values: Float64Array };

export type WireError =
  | { readonly kind: 'violation'; readonly check: string; readonly measured: string; readonly bound: string; readonly detail: string; readonly block?: number }
  | { readonly kind: 'error'; readonly name: string; readonly message: string; readonly code?: string; readonly stack?: string };

export type Response =
  | { readonly id: number; readonly ok: true; readonly statements: readonly WireStatement[]; readonly proofBytes: Uint8Array }
  | { readonly id: number; readonly ok: true; readonly point: WirePoint }
  | { readonly id: number; readonly ok: false; readonly error: WireError };
