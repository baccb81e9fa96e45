/**
 * Canonical encodings (PROTOCOLS.md §3): scalars as 32-byte big-endian integers < r; G1 and
 * G2 points compressed (48 / 96 bytes) in the ZCash format used by every BLS12-381 library:
 * the top three bits of the first byte are (compressed = 1, infinity, y-sort), x big-endian
 * (G2: x = c1 ‖ c0). Decoders take untrusted bytes and either return a typed, checked value
 * or throw `SmdpError` with a stable code: BAD_LENGTH, NON_CANONICAL (flags, x ≥ p, a
 * non-zero identity encoding), NOT_ON_CURVE, NOT_IN_SUBGROUP, SCALAR_OUT_OF_RANGE.
 *
 * Decoding a G1 point costs a square root and a subgroup check (Scott's endomorphism test in
 * `g1-subgroup.ts`, ≈ 0.5 ms in pure JS; ≈ 55 of the ≈ 75 µs of a native decode);
 * verifiers decode each proof point once.
 *
 * Two G1 decoders:
 * - `decodeG1` — a point of the subgroup G1: statements (C_base, C_ft), tensor-level values
 *   (C_B), stated accumulators, keys. NOT_IN_SUBGROUP for anything else.
 * - `decodeProofG1` — a point of E(Fp) (same byte and curve checks, no subgroup test):
 *   the commitments and quotients inside a block proof, which the verifier only absorbs into
 *   transcripts, combines linearly, and compares for equality; their G1 membership is settled
 *   by the pairing check, which tests every accumulator point for G1 membership first
 *   (`pairingCheck`, both backends). Why this is sound: smdp/README.md, "Deferred subgroup
 *   checks".
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { badInput } from './errors.ts';
import { Fp, G1, G2, R, bls, type G1Point, type G2Point } from './field.ts';
import { curveOps } from './curve-ops.ts';
import { isInG1 } from './g1-subgroup.ts';

export const SCALAR_BYTES = 32;
export const G1_BYTES = 48;
export const G2_BYTES = 96;

const P = Fp.ORDER;
const HALF_P = (P - 1n) / 2n;

export function bytesToBigint(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  if (b.length % 8 !== 0) return BigInt('0x' + bytesToHex(b));
  // Scalars and challenges (32 / 64 bytes): big-endian 64-bit words, no hex string.
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let x = v.getBigUint64(0);
  for (let i = 8; i < b.length; i += 8) x = (x << 64n) | v.getBigUint64(i);
  return x;
}

export function bigintToBytes(x: bigint, len: number): Uint8Array {
  if (x < 0n) throw new Error(`bigintToBytes: expected a non-negative integer, got ${x}`);
  if (len === 32 && x < 1n << 256n) {
    // Scalars (the verifier writes a few dozen per block): four big-endian 64-bit words.
    const b = new Uint8Array(32);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, x >> 192n);
    v.setBigUint64(8, BigInt.asUintN(64, x >> 128n));
    v.setBigUint64(16, BigInt.asUintN(64, x >> 64n));
    v.setBigUint64(24, BigInt.asUintN(64, x));
    return b;
  }
  const hex = x.toString(16).padStart(len * 2, '0');
  if (hex.length > len * 2) throw new Error(`bigintToBytes: ${x} does not fit in ${len} bytes`);
  return hexToBytes(hex);
}

export function encodeScalar(x: bigint): Uint8Array {
  if (x < 0n || x >= R) throw new Error(`encodeScalar: expected 0 ≤ x < r, got ${x}`);
  return bigintToBytes(x, SCALAR_BYTES);
}

export function decodeScalar(b: Uint8Array, field = 'scalar'): bigint {
  if (b.length !== SCALAR_BYTES) badInput('BAD_LENGTH', field, `expected ${SCALAR_BYTES} bytes, got ${b.length}`);
  const x = bytesToBigint(b);
  if (x >= R) badInput('SCALAR_OUT_OF_RANGE', field, 'scalar is not below the group order r');
  return x;
}

const G1_INFINITY = Uint8Array.from([0xc0, ...new Array<number>(G1_BYTES - 1).fill(0)]);
const G2_INFINITY = Uint8Array.from([0xc0, ...new Array<number>(G2_BYTES - 1).fill(0)]);

/**
 * Compressed encoding from affine coordinates. Written here rather than via noble's
 * `toBytes`, which re-validates the point (a full subgroup check, ≈ 1.5 ms) on every call:
 * points reaching an encoder are decoded (checked once) or computed from checked points.
 * The identity has many projective forms; it is encoded canonically whatever form a sum
 * produced (noble refuses some of them).
 */
function encodeG1Affine(x: bigint, y: bigint): Uint8Array {
  const out = bigintToBytes(x, G1_BYTES);
  out[0] = out[0]! | 0x80 | (y > HALF_P ? 0x20 : 0);
  return out;
}

/**
 * Canonical encodings of points that were decoded from them (`rememberEncoding`): the
 * verifier re-encodes every decoded point for its transcripts and digests, and a point's
 * canonical encoding is unique, so the decoded bytes are the answer without the serialisation.
 */
const knownEncodings = new WeakMap<G1Point, Uint8Array>();

/** Record that `p` was decoded from the canonical encoding `bytes` (decoders only). */
export function rememberEncoding(p: G1Point, bytes: Uint8Array): G1Point {
  if (!p.is0()) knownEncodings.set(p, Uint8Array.from(bytes));
  return p;
}

export function encodeG1(p: G1Point): Uint8Array {
  const known = knownEncodings.get(p);
  if (known !== undefined) return known.slice();
  if (p.is0()) return G1_INFINITY.slice();
  const a = p.Z === 1n ? { x: p.X, y: p.Y } : p.toAffine();
  return encodeG1Affine(a.x, a.y);
}

/** Encode many points with one field inversion (batch normalisation). */
export function encodeG1s(points: readonly G1Point[]): Uint8Array[] {
  // Decoded points (and the identity) need no work; the rest share one inversion.
  const live = points.filter((p) => !p.is0() && p.Z !== 1n && !knownEncodings.has(p));
  const inv = live.length === 0 ? [] : Fp.invertBatch(live.map((p) => p.Z));
  let k = 0;
  return points.map((p) => {
    const known = knownEncodings.get(p);
    if (known !== undefined) return known.slice();
    if (p.is0()) return G1_INFINITY.slice();
    if (p.Z === 1n) return encodeG1Affine(p.X, p.Y);
    const zi = inv[k++]!;
    return encodeG1Affine(Fp.mul(p.X, zi), Fp.mul(p.Y, zi));
  });
}

export function encodeG2(p: G2Point): Uint8Array {
  return p.is0() ? G2_INFINITY.slice() : p.toBytes(true);
}

interface Flags {
  readonly infinity: boolean;
  readonly sort: boolean;
}

function readFlags(b: Uint8Array, len: number, field: string): Flags {
  if (b.length !== len) badInput('BAD_LENGTH', field, `expected ${len} bytes, got ${b.length}`);
  const f = b[0]!;
  if ((f & 0x80) === 0) badInput('NON_CANONICAL', field, 'compression flag not set (uncompressed points are not accepted)');
  const infinity = (f & 0x40) !== 0;
  const sort = (f & 0x20) !== 0;
  if (infinity) {
    if (sort || (f & 0x1f) !== 0 || b.subarray(1).some((x) => x !== 0)) {
      badInput('NON_CANONICAL', field, 'identity encoding must be 0xc0 followed by zero bytes');
    }
  }
  return { infinity, sort };
}

function fpFromBytes(b: Uint8Array, field: string): bigint {
  const x = bytesToBigint(b);
  if (x >= P) badInput('NON_CANONICAL', field, 'coordinate is not below the field modulus p');
  return x;
}

/** The messages of the two G1 decoding failures that need curve arithmetic to detect. */
export const G1_NOT_ON_CURVE = 'x-coordinate has no point on BLS12-381 G1';
export const G1_NOT_IN_SUBGROUP = 'point is not in the prime-order subgroup G1';

/**
 * The byte-level checks of a compressed G1 encoding, shared by every curve backend: length,
 * flags, a canonical identity, x < p. Returns x and the flags; what is left to check is that
 * x has a point on the curve and that the point is in G1.
 */
export function readCompressedG1(b: Uint8Array, field = 'g1'): { readonly infinity: boolean; readonly sort: boolean; readonly x: bigint } {
  const { infinity, sort } = readFlags(b, G1_BYTES, field);
  if (infinity) return { infinity, sort, x: 0n };
  // Copy: Buffer#slice is a view, and clearing flag bits must never touch the caller's bytes.
  const xb = Uint8Array.from(b);
  xb[0] = xb[0]! & 0x1f;
  return { infinity, sort, x: fpFromBytes(xb, field) };
}

/**
 * Decode an untrusted compressed G1 point; checks canonical form, curve, subgroup. Runs on the
 * installed curve backend (`curve-ops.ts`); every backend throws the same `SmdpError` codes.
 */
export function decodeG1(b: Uint8Array, field = 'g1'): G1Point {
  return curveOps().decodeG1(b, field);
}

/**
 * Decode an untrusted compressed point of E(Fp) inside a block proof: canonical form and
 * curve as `decodeG1`, G1 membership deferred to the pairing check (see the file comment).
 */
export function decodeProofG1(b: Uint8Array, field = 'g1'): G1Point {
  return curveOps().decodeG1(b, field, false);
}

/**
 * The pure-JS G1 decoder (the reference and default backend of `decodeG1`); `subgroup`
 * false skips the G1 membership test (`decodeProofG1`).
 */
export function decodeG1Js(b: Uint8Array, field = 'g1', subgroup = true): G1Point {
  const { infinity, sort, x } = readCompressedG1(b, field);
  if (infinity) return G1.ZERO;
  const y2 = Fp.add(Fp.mul(Fp.sqr(x), x), 4n); // y² = x³ + 4
  let y: bigint;
  try {
    y = Fp.sqrt(y2);
  } catch {
    return badInput('NOT_ON_CURVE', field, G1_NOT_ON_CURVE);
  }
  if (Fp.sqr(y) !== y2) badInput('NOT_ON_CURVE', field, G1_NOT_ON_CURVE);
  if (y > HALF_P !== sort) y = Fp.neg(y);
  if (subgroup && !isInG1(x, y)) badInput('NOT_IN_SUBGROUP', field, G1_NOT_IN_SUBGROUP);
  return rememberEncoding(G1.fromAffine({ x, y }), b);
}

/** Decode an untrusted compressed G2 point; checks canonical form, curve, subgroup. */
export function decodeG2(b: Uint8Array, field = 'g2'): G2Point {
  const { infinity } = readFlags(b, G2_BYTES, field);
  if (infinity) return G2.ZERO;
  const c1b = Uint8Array.from(b.subarray(0, 48));
  c1b[0] = c1b[0]! & 0x1f;
  const c1 = fpFromBytes(c1b, field);
  const c0 = fpFromBytes(b.subarray(48), field);
  const Fp2 = bls.fields.Fp2;
  const x = Fp2.create({ c0, c1 });
  const b2 = Fp2.create({ c0: 4n, c1: 4n }); // 4(u + 1)
  const y2 = Fp2.add(Fp2.mul(Fp2.sqr(x), x), b2);
  let hasRoot = true;
  try {
    const y = Fp2.sqrt(y2);
    hasRoot = Fp2.eql(Fp2.sqr(y), y2);
  } catch {
    hasRoot = false;
  }
  if (!hasRoot) badInput('NOT_ON_CURVE', field, 'x-coordinate has no point on BLS12-381 G2');
  // Canonical form and curve membership are settled above; noble selects the root by the
  // sort flag exactly as the ZCash format defines it and checks the subgroup.
  try {
    return G2.fromBytes(b);
  } catch {
    return badInput('NOT_IN_SUBGROUP', field, 'point is not in the prime-order subgroup G2');
  }
}
