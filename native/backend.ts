/**
 * The native BLS12-381 backend (the `fti_native.node` addon over blst, see native/src/lib.rs)
 * behind smdp's two seams: `MsmBackend` (the prover's commitments and openings) and
 * `CurveOps` (the verifier's G1 decoding, accumulator MSMs and multi-pairing).
 *
 * Boundary conversions:
 * - point arrays are converted once to 96-byte affine `x ‖ y` and held in native memory
 *   (`G1Basis`), cached per array object in a WeakMap: the prover passes the SRS Lagrange
 *   bases (`basisFor(srs, μ)`) as the same array objects on every call. An uncached array
 *   that is a contiguous run of a cached large one (a `slice` of a basis) is found by object
 *   identity and served from the cached basis at an offset, without a copy;
 * - scalars: small signed scalars as a Float64Array; full scalars as 32-byte little-endian
 *   magnitudes with a sign (s > r/2 is −(r − s)), so short or negative field scalars stay
 *   short MSMs;
 * - results come back as 96-byte uncompressed points and become noble points with
 *   `G1.fromAffine` (no re-validation: blst's outputs are group elements).
 *
 * Input checks happen here, in the same order and with the same messages as smdp/msm.ts and
 * smdp/encoding.ts, so both backends reject the same inputs the same way; the addon checks
 * again and reports anything else as an error (it never aborts the process).
 */
import { G1, R, type G1Affine, type G1Point } from '../smdp/field.ts';
import { G1_NOT_IN_SUBGROUP, G1_NOT_ON_CURVE, encodeG2, readCompressedG1, rememberEncoding } from '../smdp/encoding.ts';
import { badInput } from '../smdp/errors.ts';
import type { CurveOps } from '../smdp/curve-ops.ts';
import { toAffineAll } from '../smdp/accumulator.ts';
import type { MsmBackend } from '../smdp/msm.ts';
import type { ProverKernels } from '../smdp/kernels.ts';
import type { VerifierKey } from '../smdp/srs.ts';

/** The addon's exports (native/src/lib.rs). */
export interface NativeAddon {
  G1Basis: new (bytes: Uint8Array) => NativeG1Basis;
  G2Table: new (bytes: Uint8Array) => NativeG2Table;
  msmSmall(basis: NativeG1Basis, offset: number, scalars: Float64Array): Promise<Buffer>;
  subsetSum(basis: NativeG1Basis, offset: number, bits: Uint8Array): Promise<Buffer>;
  msmFull(basis: NativeG1Basis, offset: number, mags: Uint8Array, signs: Uint8Array): Promise<Buffer>;
  msmFullPoints(points: Uint8Array, mags: Uint8Array, signs: Uint8Array): Buffer;
  /**
   * Several `msmFullPoints` in one call, `counts[g]` points each: small groups on the calling
   * thread (or spread over threads), groups of ≥ 256 points on every thread.
   */
  msmFullPointsGroups(points: Uint8Array, mags: Uint8Array, signs: Uint8Array, counts: Uint32Array): Buffer;
  blstPippenger(basis: NativeG1Basis, offset: number, len: number, scalars: Uint8Array, nbits: number): Buffer;
  /** `checkSubgroup` false: curve check only (absent from older builds' signature: always checked). */
  g1Decompress(bytes: Uint8Array, checkSubgroup?: boolean): Buffer;
  pairingCheck(table: NativeG2Table, g1: Uint8Array, slots: Uint32Array): boolean;
  rangeSumcheck(
    bits: Uint8Array,
    n: number,
    ell: number,
    groups: number,
    r: Uint8Array,
    alphaPows: Uint8Array,
    weights: Uint8Array,
    negB: Uint8Array,
    c: Uint8Array,
    withSq: boolean,
    challenge: (g: Buffer) => Buffer,
  ): Buffer;
  openBitsTables(bits: Uint8Array, n: number, ell: number, eta: Uint8Array, point: Uint8Array, lead: Uint8Array | null, splitRounds: number): [Buffer, Buffer, Buffer];
  bitPairDiffQuotient(basis: NativeG1Basis, offset: number, bits: Uint8Array, n: number, round: number, eta: Uint8Array, prefix: Uint8Array, lead: boolean): Promise<Buffer>;
  subsetSums(basis: NativeG1Basis, offset: number, bits: Uint8Array, n: number): Promise<Buffer>;
}

export interface NativeG1Basis {
  readonly length: number;
}

export interface NativeG2Table {
  readonly length: number;
}

const P_FIELD = 0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaabn;
const HALF_R = R >> 1n;
const AFFINE_BYTES = 96;

/** Arrays at least this long are cached and searched for slices. */
const CACHE_MIN = 64;
/** Cached arrays at least this long are candidates for serving slices of them. */
const SLICE_SOURCE_MIN = 1024;

function writeFp(buf: Buffer, x: bigint, offset: number): void {
  buf.write(x.toString(16).padStart(96, '0'), offset, 48, 'hex');
}

/** Affine points → `n × 96` bytes; non-canonical coordinates throw msm.ts's error. */
export function affineBytes(fn: string, points: readonly G1Affine[]): Buffer {
  const buf = Buffer.alloc(points.length * AFFINE_BYTES);
  for (let i = 0; i < points.length; i++) {
    const { x, y } = points[i]!;
    if (!(typeof x === 'bigint' && typeof y === 'bigint' && x >= 0n && x < P_FIELD && y >= 0n && y < P_FIELD)) {
      throw new Error(`${fn}: point ${i} has non-canonical coordinates`);
    }
    writeFp(buf, x, i * AFFINE_BYTES);
    writeFp(buf, y, i * AFFINE_BYTES + 48);
  }
  return buf;
}

/** A 96-byte uncompressed result (blst serialisation) as a noble point (its bytes remembered). */
export function pointFromBytes(b: Uint8Array, at = 0): G1Point {
  if ((b[at]! & 0x40) !== 0) return G1.ZERO;
  const buf = Buffer.from(b.buffer, b.byteOffset + at, AFFINE_BYTES);
  const x = BigInt('0x' + buf.toString('hex', 0, 48));
  const y = BigInt('0x' + buf.toString('hex', 48, 96));
  const p = G1.fromAffine({ x, y });
  affineOf.set(p, buf);
  return p;
}

/** Full scalars in [0, r) → 32-byte little-endian magnitudes and signs (s > r/2 ↦ −(r − s)). */
function fullScalarBytes(fn: string, scalars: readonly bigint[]): { mags: Buffer; signs: Uint8Array } {
  const n = scalars.length;
  const mags = Buffer.alloc(n * 32);
  const view = new DataView(mags.buffer, mags.byteOffset, mags.byteLength);
  const signs = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const s = scalars[i]!;
    if (typeof s !== 'bigint' || s < 0n || s >= R) throw new Error(`${fn}: scalar ${i} is not in [0, r)`);
    if (s === 0n) continue;
    const negative = s > HALF_R;
    let m = negative ? R - s : s;
    signs[i] = negative ? 1 : 0;
    // Four 64-bit little-endian words, low first (m < 2^255).
    for (let w = 0; w < 4 && m !== 0n; w++) {
      view.setBigUint64(i * 32 + w * 8, BigInt.asUintN(64, m), true);
      m >>= 64n;
    }
  }
  return { mags, signs };
}

/**
 * The 96-byte affine form of points that came out of the addon (decoded proof points, MSM
 * results): the verifier passes them back into MSMs, and the bytes it already has spare the
 * bigint → bytes conversion. Entries die with their points.
 */
const affineOf = new WeakMap<G1Point, Uint8Array>();

/** Non-identity points → `n × 96` affine bytes (cached forms first, one batch inversion for the rest). */
function pointsBytes(fn: string, points: readonly G1Point[]): Buffer {
  const buf = Buffer.alloc(points.length * AFFINE_BYTES);
  const todo: number[] = [];
  for (let i = 0; i < points.length; i++) {
    const known = affineOf.get(points[i]!);
    if (known !== undefined) buf.set(known, i * AFFINE_BYTES);
    else todo.push(i);
  }
  if (todo.length > 0) {
    const affine = toAffineAll(todo.map((i) => points[i]!));
    todo.forEach((i, k) => {
      const { x, y } = affine[k]!;
      if (!(x >= 0n && x < P_FIELD && y >= 0n && y < P_FIELD)) throw new Error(`${fn}: point ${i} has non-canonical coordinates`);
      writeFp(buf, x, i * AFFINE_BYTES);
      writeFp(buf, y, i * AFFINE_BYTES + 48);
    });
  }
  return buf;
}

interface Located {
  readonly basis: NativeG1Basis;
  readonly offset: number;
}

/**
 * Native handles of point arrays. `WeakMap` entries die with their arrays; the list of slice
 * sources holds only weak references.
 */
class BasisCache {
  private readonly byArray = new WeakMap<readonly G1Affine[], NativeG1Basis>();
  private readonly sources: WeakRef<readonly G1Affine[]>[] = [];

  constructor(private readonly addon: NativeAddon) {}

  locate(fn: string, points: readonly G1Affine[]): Located {
    const hit = this.byArray.get(points);
    if (hit !== undefined) return { basis: hit, offset: 0 };
    if (points.length >= CACHE_MIN) {
      const slice = this.findSlice(points);
      if (slice !== undefined) return slice;
    }
    const basis = new this.addon.G1Basis(affineBytes(fn, points));
    if (points.length >= CACHE_MIN) {
      this.byArray.set(points, basis);
      if (points.length >= SLICE_SOURCE_MIN) this.sources.push(new WeakRef(points));
    }
    return { basis, offset: 0 };
  }

  /** A cached array holding `points` as a contiguous run (same point objects). */
  private findSlice(points: readonly G1Affine[]): Located | undefined {
    const first = points[0];
    for (let k = this.sources.length - 1; k >= 0; k--) {
      const source = this.sources[k]!.deref();
      if (source === undefined) {
        this.sources.splice(k, 1);
        continue;
      }
      if (source.length < points.length) continue;
      const offset = source.indexOf(first!);
      if (offset < 0 || offset + points.length > source.length) continue;
      let same = true;
      for (let i = 1; i < points.length && same; i++) same = source[offset + i] === points[i];
      const basis = this.byArray.get(source);
      if (same && basis !== undefined) return { basis, offset };
    }
    return undefined;
  }
}

/** Validates small scalars exactly as msm.ts `msmSmall` does. */
function smallScalars(fn: string, scalars: ArrayLike<number>): Float64Array {
  const n = scalars.length;
  const out = scalars instanceof Float64Array ? scalars : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = scalars[i]!;
    if (!Number.isSafeInteger(s)) throw new Error(`${fn}: scalar ${i} is not a safe integer: ${s}`);
    if (out !== scalars) out[i] = s;
  }
  return out;
}

function checkLength(fn: string, points: { readonly length: number }, got: number, what: string): void {
  if (points.length !== got) throw new Error(`${fn}: expected ${points.length} ${what}, got ${got}`);
}

/** Field elements (in [0, r)) → 32-byte little-endian encodings, concatenated. */
export function frBytesLe(fn: string, xs: readonly bigint[]): Buffer {
  const out = Buffer.alloc(xs.length * 32);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (typeof x !== 'bigint' || x < 0n || x >= R) throw new Error(`${fn}: scalar ${i} is not in [0, r)`);
    if (x === 0n) continue;
    out.write(x.toString(16).padStart(64, '0'), i * 32, 32, 'hex');
    out.subarray(i * 32, i * 32 + 32).reverse();
  }
  return out;
}

/** 32-byte little-endian encodings → field elements. */
export function frFromLe(b: Uint8Array, count: number, at = 0): bigint[] {
  const out = new Array<bigint>(count);
  for (let i = 0; i < count; i++) {
    const le = Buffer.from(b.buffer, b.byteOffset + at + i * 32, 32);
    out[i] = BigInt('0x' + Buffer.from(le).reverse().toString('hex'));
  }
  return out;
}

/** ℓ vectors of n bytes (0/1) → one ℓ·n buffer, checked. */
function packBits(fn: string, bits: readonly Uint8Array[], n: number): Buffer {
  const out = Buffer.alloc(bits.length * n);
  bits.forEach((b, j) => {
    if (b.length !== n) throw new Error(`${fn}: bit vector ${j} has ${b.length} entries, expected ${n}`);
    out.set(b, j * n);
  });
  return out;
}

/**
 * Opening rounds whose bit part is committed as signed subset sums: round r costs at most
 * ≈ ℓ·n/4 point additions (fewer where high bits are constant, as in real drift), while a
 * 255-bit MSM of n/2^r points halves each round. Measured on 1M-parameter bounded-full
 * certification: 1 round 12.3 s, 2 rounds 10.9 s, 3 rounds 10.4 s.
 */
const OPEN_SPLIT_ROUNDS = 3;

/** The prover's field kernels on the addon (smdp/kernels.ts); synchronous loops in Rust. */
export function nativeKernels(addon: NativeAddon, cache: BasisCache): ProverKernels {
  return {
    rangeSumcheck(input, challenge) {
      const { n } = input;
      const mu = input.r.length;
      if (n !== 2 ** mu) throw new Error(`rangeSumcheck: n = ${n} does not match a point of ${mu} coordinates`);
      const ell = input.weights.length;
      const groups = input.squareCoeffs.length;
      if (input.bits.length !== ell * groups) throw new Error(`rangeSumcheck: ${input.bits.length} bit vectors for ${groups} tiles of ${ell}`);
      const point: bigint[] = [];
      const out = addon.rangeSumcheck(
        packBits('rangeSumcheck', input.bits, n),
        n,
        ell,
        groups,
        frBytesLe('rangeSumcheck', input.r),
        frBytesLe('rangeSumcheck', input.alphaPow),
        frBytesLe('rangeSumcheck', input.weights),
        frBytesLe('rangeSumcheck', [input.negB]),
        frBytesLe('rangeSumcheck', input.squareCoeffs),
        input.withSquareSum,
        (g) => {
          const rho = challenge(point.length, frFromLe(g, 4));
          point.push(rho);
          return frBytesLe('rangeSumcheck', [rho]);
        },
      );
      if (point.length !== mu) throw new Error(`rangeSumcheck: the kernel drew ${point.length} challenges, expected ${mu}`);
      const rounds: bigint[][] = [];
      for (let i = 0; i < mu; i++) rounds.push(frFromLe(out, 4, i * 128));
      return { rounds, point, bitEvals: frFromLe(out, ell * groups, mu * 128) };
    },
    async openBits(basis, bits, eta, point, lead) {
      const mu = point.length;
      const n = 2 ** mu;
      if (lead !== null && lead.length !== n) throw new Error(`openBits: the leading vector has ${lead.length} entries, expected ${n}`);
      const packed = packBits('openBits', bits, n);
      // The first rounds' quotients split: the bits' part of round r,
      //   Σ_j η^j·Σ_t eq(t, ρ_1..ρ_{r−1})·Σ_k (β_j[(2k+1)h + t] − β_j[2kh + t])·L_k   (h = 2^(r−1)),
      // is ℓ·h signed subset sums (differences are −1, 0, 1) combined with those scalars — far
      // cheaper than a 255-bit MSM while h is small — and the table holds only the leading
      // vector's part of these rounds.
      // With a leading vector only round 1 splits: past it, v's folded part is a full-field
      // table that needs its own MSM anyway, which the combined table's MSM already covers.
      const split = bits.length === 0 ? 0 : Math.min(mu, lead === null ? OPEN_SPLIT_ROUNDS : 1);
      const [mags, signs, value] = addon.openBitsTables(
        packed,
        n,
        bits.length,
        frBytesLe('openBits', [eta]),
        frBytesLe('openBits', point),
        lead === null ? null : frBytesLe('openBits', lead),
        split,
      );
      const etaBytes = frBytesLe('openBits', [eta]);
      // Every round's MSMs are independent once the tables exist: all are in flight at once.
      const rounds: Promise<G1Point>[] = [];
      let at = 0;
      for (let i = 0; i < mu; i++) {
        const half = n >> (i + 1);
        const points = basis(mu - i - 1);
        if (points.length !== half) throw new Error(`openBits: basis of ${mu - i - 1} variables has ${points.length} points, expected ${half}`);
        const loc = cache.locate('openBits', points);
        const tableOnly = i >= split;
        const table = !tableOnly && lead === null ? Promise.resolve(G1.ZERO) : addon.msmFull(loc.basis, loc.offset, mags.subarray(at * 32, (at + half) * 32), signs.subarray(at, at + half)).then((b) => pointFromBytes(b));
        const bitsPart = tableOnly ? Promise.resolve(G1.ZERO) : addon.bitPairDiffQuotient(loc.basis, loc.offset, packed, n, i + 1, etaBytes, frBytesLe('openBits', point.slice(0, i)), lead !== null).then((b) => pointFromBytes(b));
        rounds.push(Promise.all([table, bitsPart]).then(([a, b]) => a.add(b)));
        at += half;
      }
      const quotients = await Promise.all(rounds);
      return { value: frFromLe(value, 1)[0]!, quotients };
    },
    async commitBitVectors(points, bits) {
      const n = points.length;
      if (bits.length === 0) return [];
      const packed = packBits('commitBitVectors', bits, n);
      const loc = cache.locate('commitBitVectors', points);
      if (n === 0) return bits.map(() => G1.ZERO);
      const out = await addon.subsetSums(loc.basis, loc.offset, packed, n);
      return bits.map((_, j) => pointFromBytes(out, j * AFFINE_BYTES));
    },
  };
}

/** The prover's MSM backend on the addon. Calls run off the JS thread (blst's thread pool). */
export function nativeMsmBackend(addon: NativeAddon): MsmBackend & { readonly cache: BasisCache } {
  const cache = new BasisCache(addon);
  return {
    name: 'native-blst',
    cache,
    kernels: nativeKernels(addon, cache),
    async msmSmall(points, scalars) {
      checkLength('msmSmall', points, scalars.length, 'scalars');
      const at = cache.locate('msmSmall', points);
      const values = smallScalars('msmSmall', scalars);
      if (points.length === 0) return G1.ZERO;
      return pointFromBytes(await addon.msmSmall(at.basis, at.offset, values));
    },
    async subsetSum(points, bits) {
      checkLength('subsetSum', points, bits.length, 'bits');
      const at = cache.locate('subsetSum', points);
      const n = bits.length;
      const packed = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const bit = bits[i];
        if (bit === 1) packed[i] = 1;
        else if (bit !== 0) throw new Error(`subsetSum: bit ${i} is not 0 or 1: ${bit}`);
      }
      if (n === 0) return G1.ZERO;
      return pointFromBytes(await addon.subsetSum(at.basis, at.offset, packed));
    },
    async msmFull(points, scalars) {
      checkLength('msmFull', points, scalars.length, 'scalars');
      const at = cache.locate('msmFull', points);
      const { mags, signs } = fullScalarBytes('msmFull', scalars);
      if (points.length === 0) return G1.ZERO;
      return pointFromBytes(await addon.msmFull(at.basis, at.offset, mags, signs));
    },
  };
}

/** Maps the addon's per-point decoding status to encoding.ts's errors. */
function decodedPoint(out: Buffer, k: number, field: string): G1Point {
  const at = k * (AFFINE_BYTES + 1);
  switch (out[at]) {
    case 0:
      return pointFromBytes(out, at + 1);
    case 2:
      return badInput('NOT_ON_CURVE', field, G1_NOT_ON_CURVE);
    case 3:
      return badInput('NOT_IN_SUBGROUP', field, G1_NOT_IN_SUBGROUP);
    default:
      // The byte checks (readCompressedG1) already passed, so blst agreeing is expected.
      return badInput('NON_CANONICAL', field, `the native decoder rejected the encoding (status ${out[at]})`);
  }
}

/** The verifier's curve backend on the addon. */
export function nativeCurveOps(addon: NativeAddon): CurveOps {
  const tables = new WeakMap<VerifierKey, NativeG2Table>();
  const g2Table = (vk: VerifierKey): NativeG2Table => {
    let t = tables.get(vk);
    if (t === undefined) {
      const parts = [vk.g2One, ...vk.g2Tau].map((q) => encodeG2(q));
      t = new addon.G2Table(Buffer.concat(parts));
      tables.set(vk, t);
    }
    return t;
  };
  const decodeMany = (bytes: readonly Uint8Array[], fields: readonly string[], subgroup = true): G1Point[] => {
    // Byte checks first; curve work for the rest in one native call; then errors in input
    // order, so the first bad point is the one reported, as with the JS decoder.
    const out = new Array<G1Point>(bytes.length);
    const failed = new Map<number, unknown>();
    const todo: number[] = [];
    bytes.forEach((b, i) => {
      try {
        if (readCompressedG1(b, fields[i] ?? 'g1').infinity) out[i] = G1.ZERO;
        else todo.push(i);
      } catch (e) {
        failed.set(i, e);
      }
    });
    const decoded = todo.length > 0 ? addon.g1Decompress(Buffer.concat(todo.map((i) => bytes[i]!)), subgroup) : undefined;
    let k = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (failed.has(i)) throw failed.get(i);
      if (out[i] === undefined) out[i] = rememberEncoding(decodedPoint(decoded!, k++, fields[i] ?? 'g1'), bytes[i]!);
    }
    return out;
  };
  return {
    name: 'native-blst',
    decodeG1: (bytes, field, subgroup) => decodeMany([bytes], [field], subgroup)[0]!,
    decodeG1s: decodeMany,
    msmFull(points, scalars) {
      checkLength('msmFull', points, scalars.length, 'scalars');
      const pts = affineBytes('msmFull', points);
      const { mags, signs } = fullScalarBytes('msmFull', scalars);
      if (points.length === 0) return G1.ZERO;
      // One group: a small MSM stays on this thread (no thread-pool hand-off).
      return pointFromBytes(addon.msmFullPointsGroups(pts, mags, signs, Uint32Array.of(points.length)));
    },
    msmGroups(groups) {
      const points: G1Point[] = [];
      const scalars: bigint[] = [];
      const counts = new Uint32Array(groups.length);
      groups.forEach((g, k) => {
        checkLength('msmGroups', g.points, g.scalars.length, 'scalars');
        counts[k] = g.points.length;
        points.push(...g.points);
        scalars.push(...g.scalars);
      });
      const { mags, signs } = fullScalarBytes('msmGroups', scalars);
      const out = addon.msmFullPointsGroups(pointsBytes('msmGroups', points), mags, signs, counts);
      return groups.map((_, k) => pointFromBytes(out, k * AFFINE_BYTES));
    },
    pairingCheck(vk, P) {
      if (P.length !== vk.N + 1) throw new Error(`pairingCheck: expected ${vk.N + 1} points, got ${P.length}`);
      const live = P.map((p, j) => ({ p, j })).filter(({ p }) => !p.is0());
      if (live.length === 0) return true;
      const affine = toAffineAll(live.map(({ p }) => p));
      return addon.pairingCheck(g2Table(vk), affineBytes('pairingCheck', affine), Uint32Array.from(live.map(({ j }) => j)));
    },
  };
}
