/**
 * The curve-arithmetic seam of the synchronous verifier: decoding G1 points (decompression,
 * curve and subgroup checks), the full-scalar MSMs of accumulator evaluation, and the final
 * multi-pairing check. The pure-JS implementation below is the default and the reference; a
 * faster backend (the native addon, loaded by `native/loader.ts`, never by smdp/ itself) is
 * installed with `useCurveOps`. Every backend must return identical values and throw the same
 * `SmdpError` codes for bad encodings: results are group elements and verdicts, so
 * "identical" is exact.
 *
 * The installed backend is process-wide state (per worker thread): smdp/ stays pure in that
 * it never chooses one itself.
 */
import { decodeG1Js } from './encoding.ts';
import type { G1Affine, G1Point } from './field.ts';
import { msmFull } from './msm.ts';
import type { VerifierKey } from './srs.ts';
import { pairingCheckJs } from './accumulator.ts';

export interface CurveOps {
  /** Backend name, shown by the CLI (e.g. `js-bigint`, `native-blst`). */
  readonly name: string;
  /**
   * Decode an untrusted compressed G1 point: BAD_LENGTH, NON_CANONICAL, NOT_ON_CURVE,
   * NOT_IN_SUBGROUP as `SmdpError`s with `field` naming the point (encoding.ts).
   */
  decodeG1(bytes: Uint8Array, field: string): G1Point;
  /**
   * Decode many points at once (a backend may do it in parallel); the first bad one throws
   * as `decodeG1` would, with its own field name.
   */
  decodeG1s(bytes: readonly Uint8Array[], fields: readonly string[]): G1Point[];
  /** Σ s_i·P_i for scalars s_i ∈ [0, r) over affine points (msm.ts `msmFull` contract). */
  msmFull(points: readonly G1Affine[], scalars: readonly bigint[]): G1Point;
  /** e(P_0, [1]_2)·Π_{j=1..N} e(P_j, [τ_j]_2) == 1 for the N+1 points P (accumulator form). */
  pairingCheck(vk: VerifierKey, P: readonly G1Point[]): boolean;
}

/** The pure-JS backend (noble field arithmetic, msm.ts, noble's multi-pairing). */
export const jsCurveOps: CurveOps = {
  name: 'js-bigint',
  decodeG1: (bytes, field) => decodeG1Js(bytes, field),
  decodeG1s: (bytes, fields) => bytes.map((b, i) => decodeG1Js(b, fields[i] ?? 'g1')),
  msmFull: (points, scalars) => msmFull(points, scalars),
  pairingCheck: (vk, P) => pairingCheckJs(vk, P),
};

let installed: CurveOps = jsCurveOps;

/** The curve backend in use. */
export function curveOps(): CurveOps {
  return installed;
}

/** Install a curve backend (`jsCurveOps` restores the default); returns the previous one. */
export function useCurveOps(ops: CurveOps): CurveOps {
  const previous = installed;
  installed = ops;
  return previous;
}
