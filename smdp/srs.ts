/**
 * Structured reference string for PST multilinear KZG (PROTOCOLS.md §2).
 *
 * For secret τ = (τ_1..τ_N) the SRS holds, for every m = 0..N, the Lagrange basis over the
 * LAST m variables: `lagrange[m][b] = [eq(b, (τ_{N−m+1}..τ_N))]_1` (2^m points, index bit 0 ↔
 * τ_{N−m+1}). A μ-variate polynomial uses `lagrange[μ]`, its i-th opening quotient uses
 * `lagrange[μ−i]`, and variable X_i of a μ-variate block pairs with `[τ_{N−μ+i}]_2`. So one
 * SRS serves every block size ≤ 2^N. G2 side: `[1]_2` and `[τ_j]_2`, j = 1..N.
 * (PROTOCOLS indexes the bases by j = N−m+1; `lagrange[m]` is `L_{N−m+1}`.)
 *
 * File format (`FTI-SRS\0`, version 1, big-endian):
 *   magic(8) ‖ version u32 ‖ N u32 ‖ kind u8 (0 = dev, 1 = ceremony) ‖ label (u32 len ‖ utf8)
 *   ‖ [1]_2 ‖ [τ_1]_2 … [τ_N]_2 (compressed, 96 B each)
 *   ‖ for m = 0..N: 2^m G1 points, affine uncompressed x ‖ y (48 + 48 B, no flags)
 *   ‖ SHA-256 of everything before (32 B) = the SRS digest.
 * G1 points are stored uncompressed so loading needs no square roots; the loader checks each
 * is on the curve and every G2 point fully, and the digest. G1 subgroup membership of the
 * 2^(N+1) points is vouched for by the digest (a ceremony transcript is checked once, when it
 * is published); `checkSrsConsistency` spot-checks the structure with pairings.
 *
 * The SRS digest enters every transcript and certificate: proofs made under one SRS never
 * verify under another.
 */
import { sha256 } from './hash.ts';
import { bytesToHex, concatBytes } from '@noble/hashes/utils.js';
import { ByteReader, ByteWriter } from './bytes.ts';
import { bigintToBytes, bytesToBigint } from './encoding.ts';
import { badInput } from './errors.ts';
import { Fp, G1, bls, type G1Affine, type G2Point } from './field.ts';

export const SRS_MAGIC = new TextEncoder().encode('FTI-SRS\0');
export const SRS_VERSION = 1;
/** Hard cap on N for untrusted files: 2^(N+1) points × 96 B must stay addressable. */
export const SRS_MAX_VARS = 24;

export type SrsKind = 'dev' | 'ceremony';

/** What a verifier needs: the G2 side, the digest, and cached pairing precomputations. */
export interface VerifierKey {
  readonly N: number;
  readonly g2One: G2Point;
  /** g2Tau[j−1] = [τ_j]_2 */
  readonly g2Tau: readonly G2Point[];
  readonly digest: Uint8Array;
  /** Hex of `digest`, used as the SRS id in statements and certificates. */
  readonly id: string;
  readonly kind: SrsKind;
  readonly label: string;
}

export interface Srs extends VerifierKey {
  /** lagrange[m] = basis over the last m variables; length 2^m. */
  readonly lagrange: readonly (readonly G1Affine[])[];
}

/** The basis for a μ-variate block; throws SRS_TOO_SMALL if μ > N. */
export function basisFor(srs: Srs, mu: number): readonly G1Affine[] {
  const b = srs.lagrange[mu];
  if (b === undefined) return badInput('SRS_TOO_SMALL', 'srs', `a block of ${mu} variables needs an SRS with N ≥ ${mu}, this one has N = ${srs.N}`);
  return b;
}

function writeHeader(w: ByteWriter, N: number, kind: SrsKind, label: string): void {
  w.raw(SRS_MAGIC).u32(SRS_VERSION).u32(N).u8(kind === 'dev' ? 0 : 1).string(label);
}

/** Serialise and compute the digest. `lagrange` and G2 points must already be final. */
export function serializeSrs(parts: Omit<Srs, 'digest' | 'id'>): Uint8Array {
  const w = new ByteWriter();
  writeHeader(w, parts.N, parts.kind, parts.label);
  w.g2(parts.g2One);
  for (const t of parts.g2Tau) w.g2(t);
  const body = w.finish();
  const pts: Uint8Array[] = [];
  for (const level of parts.lagrange) {
    const buf = new Uint8Array(level.length * 96);
    level.forEach((p, i) => {
      buf.set(bigintToBytes(p.x, 48), i * 96);
      buf.set(bigintToBytes(p.y, 48), i * 96 + 48);
    });
    pts.push(buf);
  }
  const all = concatBytes(body, ...pts);
  return concatBytes(all, sha256(all));
}

/** Build the in-memory SRS object, computing its digest from the canonical serialisation. */
export function assembleSrs(parts: Omit<Srs, 'digest' | 'id'>): { srs: Srs; bytes: Uint8Array } {
  const bytes = serializeSrs(parts);
  const digest = Uint8Array.from(bytes.subarray(bytes.length - 32));
  return { srs: { ...parts, digest, id: bytesToHex(digest) }, bytes };
}

/**
 * Parse an SRS file (untrusted bytes). If `expectedDigest` is given (a ceremony's published
 * digest) it must match. Throws `SmdpError` on any malformation.
 */
export function parseSrs(bytes: Uint8Array, expectedDigest?: Uint8Array): Srs {
  if (bytes.length < 32 + SRS_MAGIC.length) badInput('TRUNCATED', 'srs', 'file is too short to be an SRS');
  const body = bytes.subarray(0, bytes.length - 32);
  const digest = Uint8Array.from(bytes.subarray(bytes.length - 32));
  const r = new ByteReader(body, 'srs');
  const magic = r.raw(SRS_MAGIC.length, 'magic');
  if (!magic.every((b, i) => b === SRS_MAGIC[i])) badInput('BAD_MAGIC', 'srs.magic', 'not an fti SRS file');
  const version = r.u32('version');
  if (version !== SRS_VERSION) badInput('UNSUPPORTED_VERSION', 'srs.version', `version ${version} is not supported (expected ${SRS_VERSION})`);
  const N = r.u32('N');
  if (N > SRS_MAX_VARS) badInput('LIMIT_EXCEEDED', 'srs.N', `N = ${N} exceeds the limit ${SRS_MAX_VARS}`);
  const kindByte = r.u8('kind');
  if (kindByte > 1) badInput('BAD_VALUE', 'srs.kind', `unknown kind ${kindByte}`);
  const kind: SrsKind = kindByte === 0 ? 'dev' : 'ceremony';
  const label = r.string('label', 1024);
  const expectedLen = r.offset + 96 * (N + 1) + 96 * (2 ** (N + 1) - 1);
  if (body.length !== expectedLen) badInput(body.length < expectedLen ? 'TRUNCATED' : 'TRAILING_BYTES', 'srs', `expected ${expectedLen + 32} bytes for N = ${N}, got ${bytes.length}`);
  if (!equalBytes(sha256(body), digest)) badInput('DIGEST_MISMATCH', 'srs.digest', 'the file digest does not match its content');
  if (expectedDigest && !equalBytes(expectedDigest, digest)) {
    badInput('DIGEST_MISMATCH', 'srs.digest', `expected SRS ${bytesToHex(expectedDigest)}, file is ${bytesToHex(digest)}`);
  }
  const g2One = r.g2('g2One');
  if (!g2One.equals(bls.G2.Point.BASE)) badInput('BAD_VALUE', 'srs.g2One', '[1]_2 must be the standard generator');
  const g2Tau: G2Point[] = [];
  for (let j = 1; j <= N; j++) g2Tau.push(r.g2(`g2Tau[${j}]`));
  const lagrange: G1Affine[][] = [];
  for (let m = 0; m <= N; m++) {
    const level: G1Affine[] = new Array<G1Affine>(2 ** m);
    for (let i = 0; i < level.length; i++) {
      const x = bytesToBigint(r.raw(48, `lagrange[${m}][${i}].x`));
      const y = bytesToBigint(r.raw(48, `lagrange[${m}][${i}].y`));
      // y² = x³ + 4, coordinates canonical (< p); the identity is never a basis point.
      if (x >= Fp.ORDER || y >= Fp.ORDER || Fp.sqr(y) !== Fp.add(Fp.mul(Fp.sqr(x), x), 4n)) {
        badInput('NOT_ON_CURVE', `srs.lagrange[${m}][${i}]`, 'point is not on the curve');
      }
      level[i] = { x, y };
    }
    lagrange.push(level);
  }
  r.end();
  const l0 = lagrange[0]![0]!;
  if (l0.x !== G1.BASE.toAffine().x || l0.y !== G1.BASE.toAffine().y) {
    badInput('BAD_VALUE', 'srs.lagrange[0][0]', 'the empty basis must be the generator g1 (Σ_b eq(b, τ) = 1)');
  }
  return { N, kind, label, g2One, g2Tau, lagrange, digest, id: bytesToHex(digest) };
}

/** The verifier's part of an SRS. */
export function verifierKeyOf(srs: Srs): VerifierKey {
  const { N, g2One, g2Tau, digest, id, kind, label } = srs;
  return { N, g2One, g2Tau, digest, id, kind, label };
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/**
 * Spot-check the SRS structure with pairings, for `samples` random positions per level:
 * L_m[(0,b')] + L_m[(1,b')] = L_{m−1}[b'] (since eq(0,τ)+eq(1,τ) = 1), and
 * e(L_m[(1,b')], [1]_2) = e(L_{m−1}[b'], [τ_{N−m+1}]_2) (the factor eq(1, τ) = τ).
 * `pick` supplies indices (callers pass seeded randomness; smdp/ has none of its own).
 */
export function checkSrsConsistency(srs: Srs, pick: (m: number, bound: number) => number, samples = 2): boolean {
  for (let m = 1; m <= srs.N; m++) {
    const level = srs.lagrange[m]!;
    const prev = srs.lagrange[m - 1]!;
    for (let s = 0; s < samples; s++) {
      const bp = pick(m, prev.length);
      const lo = G1.fromAffine(level[2 * bp]!);
      const hi = G1.fromAffine(level[2 * bp + 1]!);
      const parent = G1.fromAffine(prev[bp]!);
      if (!lo.add(hi).equals(parent)) return false;
      const tau = srs.g2Tau[srs.N - m]!;
      const lhs = bls.pairing(hi, srs.g2One);
      const rhs = bls.pairing(parent, tau);
      if (!bls.fields.Fp12.eql(lhs, rhs)) return false;
    }
  }
  return true;
}
