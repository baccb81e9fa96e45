/**
 * The scalar field Fr of BLS12-381 and the curve groups, as used throughout SMDP
 * (PROTOCOLS.md §1). Everything algebraic comes from `@noble/curves`; this file only names
 * the pieces and adds the small helpers the protocols need (signed embedding, batch ops).
 *
 * r = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001 (≈ 2^254.86).
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';

export const bls = bls12_381;
export const Fr = bls12_381.fields.Fr;
export const Fp = bls12_381.fields.Fp;
export const G1 = bls12_381.G1.Point;
export const G2 = bls12_381.G2.Point;
export type G1Point = InstanceType<typeof G1>;
export type G2Point = InstanceType<typeof G2>;
/** An affine G1 point that is not the identity (SRS points, batch-affine MSM inputs). */
export interface G1Affine {
  readonly x: bigint;
  readonly y: bigint;
}

/** The group order r (= |Fr|). */
export const R: bigint = Fr.ORDER;

/** x mod r, for any bigint (negative x ↦ r − (|x| mod r)). */
export function fr(x: bigint): bigint {
  const m = x % R;
  return m < 0n ? m + R : m;
}

/** Embed a signed integer (number or bigint) into Fr: negative x ↦ r − |x| (PROTOCOLS §1). */
export function frSigned(x: number | bigint): bigint {
  return fr(typeof x === 'number' ? BigInt(x) : x);
}

/**
 * Read a field element back as a signed integer in (−r/2, r/2]. Used where the protocol
 * knows a value is a small integer (e.g. the revealed norm S) and must compare it as one.
 */
export function frToSigned(x: bigint): bigint {
  return x > R / 2n ? x - R : x;
}

export const frAdd = (a: bigint, b: bigint): bigint => Fr.add(a, b);
export const frSub = (a: bigint, b: bigint): bigint => Fr.sub(a, b);
export const frMul = (a: bigint, b: bigint): bigint => Fr.mul(a, b);
export const frNeg = (a: bigint): bigint => Fr.neg(a);
export const frInv = (a: bigint): bigint => Fr.inv(a);
export const frPow = (a: bigint, e: bigint): bigint => Fr.pow(a, e);

/** [x]_1 = x·g1 for x ∈ Fr (0 ↦ identity). */
export function g1Mul(x: bigint): G1Point {
  const s = fr(x);
  return s === 0n ? G1.ZERO : G1.BASE.multiply(s);
}

/** x·P for x ∈ Fr, variable-time (all inputs here are public). */
export function g1ScalarMul(p: G1Point, x: bigint): G1Point {
  const s = fr(x);
  if (s === 0n || p.is0()) return G1.ZERO;
  return p.multiplyUnsafe(s);
}

export function g1FromAffine(a: G1Affine): G1Point {
  return G1.fromAffine({ x: a.x, y: a.y });
}

/** Batch-normalise projective points to affine with one inversion (identity not allowed). */
export function g1BatchAffine(points: readonly G1Point[]): G1Affine[] {
  const zs = points.map((p) => p.Z);
  const inv = Fp.invertBatch(zs);
  return points.map((p, i) => {
    const zi = inv[i]!;
    if (zi === undefined || p.is0()) throw new Error('g1BatchAffine: identity point has no affine form');
    // noble's G1 uses homogeneous projective coordinates: x = X/Z, y = Y/Z.
    return { x: Fp.mul(p.X, zi), y: Fp.mul(p.Y, zi) };
  });
}
