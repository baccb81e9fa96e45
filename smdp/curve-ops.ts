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
import { G1, type G1Affine, type G1Point } from './field.ts';
import { msmFull } from './msm.ts';
import type { VerifierKey } from './srs.ts';
import { pairingCheckJs, toAffineAll } from './accumulator.ts';

/** One MSM of `msmGroups`: Σ scalars[i]·points[i], scalars in [0, r), points not the identity. */
export interface MsmGroup {
  readonly points: readonly G1Point[];
  readonly scalars: readonly bigint[];
}

export interface CurveOps {
  /** Backend name, shown by the CLI (e.g. `js-bigint`, `native-blst`). */
  readonly name: string;
  /**
   * Decode an untrusted compressed G1 point: BAD_LENGTH, NON_CANONICAL, NOT_ON_CURVE,
   * NOT_IN_SUBGROUP as `SmdpError`s with `field` naming the point (encoding.ts). `subgroup`
   * false (a block proof's points, `decodeProofG1`) skips the G1 membership test: the result
   * is then a point of E(Fp), settled by `pairingCheck`.
   */
  decodeG1(bytes: Uint8Array, field: string, subgroup?: boolean): G1Point;
  /**
   * Decode many points at once (a backend may do it in parallel); the first bad one throws
   * as `decodeG1` would, with its own field name.
   */
  decodeG1s(bytes: readonly Uint8Array[], fields: readonly string[], subgroup?: boolean): G1Point[];
  /** Σ s_i·P_i for scalars s_i ∈ [0, r) over affine points (msm.ts `msmFull` contract). */
  msmFull(points: readonly G1Affine[], scalars: readonly bigint[]): G1Point;
  /**
   * Several `msmFull`s over non-identity points, one per group (the verifier's accumulator
   * slots, its linear checks): a backend may run them in one call, keep decoded points in
   * its own form, and spread the groups over threads. Same values as `msmFull` per group.
   */
  msmGroups(groups: readonly MsmGroup[]): G1Point[];
  /**
   * e(P_0, [1]_2)·Π_{j=1..N} e(P_j, [τ_j]_2) == 1 for the N+1 points P (accumulator form);
   * false as well when some P_j is not in G1 (the deferred subgroup check of proof points).
   */
  pairingCheck(vk: VerifierKey, P: readonly G1Point[]): boolean;
}

/** The pure-JS backend (noble field arithmetic, msm.ts, noble's multi-pairing). */
export const jsCurveOps: CurveOps = {
  name: 'js-bigint',
  decodeG1: (bytes, field, subgroup = true) => decodeG1Js(bytes, field, subgroup),
  decodeG1s: (bytes, fields, subgroup = true) => bytes.map((b, i) => decodeG1Js(b, fields[i] ?? 'g1', subgroup)),
  msmFull: (points, scalars) => msmFull(points, scalars),
  msmGroups: (groups) => groups.map((g) => (g.points.length === 0 ? G1.ZERO : msmFull(toAffineAll(g.points), g.scalars))),
  pairingCheck: (vk, P) => pairingCheckJs(vk, P),
};

let installed: CurveOps = jsCurveOps;

/** What the collecting pass of `withPrefetchedG1` answers (never reaches a result). */
const PLACEHOLDER: G1Point = G1.BASE;

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

/** A point's encoding as a map key (48 bytes → 48 latin1 characters). */
function encodingKey(b: Uint8Array): string {
  // One call for the whole array (a G1 encoding is 48 bytes, far below argument limits).
  return String.fromCharCode.apply(null, b as unknown as number[]);
}

/**
 * Run `fn` with the G1 points it will decode already decoded, in one `decodeG1s` batch (the
 * native backend decodes a batch in parallel, with one boundary crossing instead of one per
 * point). `scan` must decode the same bytes as `fn` (typically: run the same decoders): it
 * runs first against a collecting backend that records every encoding and answers with a
 * placeholder point, so anything it computes is discarded and any error it throws is ignored.
 * Then the distinct encodings are decoded as one batch, and `fn` runs with those results
 * served from a cache (encodings it did not announce are decoded as usual). When the batch
 * rejects an encoding, `fn` runs without the cache, so the first bad point is reported by the
 * normal path with its own field name: results and errors are exactly those of `fn` alone.
 */
export function withPrefetchedG1<T>(scan: () => void, fn: () => T): T {
  const inner = installed;
  if (inner === jsCurveOps) return fn(); // the JS backend decodes one by one anyway
  // Announced encodings by mode: a point decoded without the subgroup test must never answer
  // a request that wants it (the two modes are cached apart).
  const seen = [new Map<string, Uint8Array>(), new Map<string, Uint8Array>()];
  const mode = (subgroup: boolean | undefined): number => (subgroup === false ? 0 : 1);
  const collect = (b: Uint8Array, subgroup: boolean | undefined): G1Point => {
    seen[mode(subgroup)]!.set(encodingKey(b), b);
    return PLACEHOLDER;
  };
  useCurveOps({ ...inner, decodeG1: (b, _f, sg) => collect(b, sg), decodeG1s: (bs, _f, sg) => bs.map((b) => collect(b, sg)) });
  try {
    scan();
  } catch {
    // the real pass reports it
  } finally {
    useCurveOps(inner);
  }
  if (seen[0]!.size + seen[1]!.size === 0) return fn();
  const caches: Map<string, G1Point>[] = [];
  for (const m of [0, 1]) {
    const keys = [...seen[m]!.keys()];
    let decoded: G1Point[] = [];
    if (keys.length > 0) {
      try {
        decoded = inner.decodeG1s(
          keys.map((k) => seen[m]!.get(k)!),
          keys.map(() => 'g1'),
          m === 1,
        );
      } catch {
        return fn();
      }
    }
    caches.push(new Map<string, G1Point>(keys.map((k, i) => [k, decoded[i]!])));
  }
  const lookup = (b: Uint8Array, field: string, subgroup: boolean | undefined): G1Point => caches[mode(subgroup)]!.get(encodingKey(b)) ?? inner.decodeG1(b, field, subgroup);
  useCurveOps({ ...inner, decodeG1: lookup, decodeG1s: (bs, fields, sg) => bs.map((b, i) => lookup(b, fields[i] ?? 'g1', sg)) });
  try {
    return fn();
  } finally {
    useCurveOps(inner);
  }
}
