/**
 * The native backend (native/, the blst addon) against the pure-JS reference: the same points
 * for MSMs on random and edge inputs, the same rejections (messages for the MSM contract
 * errors, SmdpError codes and messages for bad encodings), the same pairing verdicts.
 * Skipped, with the reason, when the addon is not built (`npm run build:native`).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { ADDON_PATH, loadAddon } from '../native/loader.ts';
import { affineBytes, nativeCurveOps, nativeMsmBackend, pointFromBytes, type NativeAddon } from '../native/backend.ts';
import { PendingAccumulator, pairingCheck, pairingCheckJs } from '../smdp/accumulator.ts';
import { curveOps, jsCurveOps, useCurveOps, withPrefetchedG1, type CurveOps } from '../smdp/curve-ops.ts';
import { decodeG1, decodeG1Js, encodeG1 } from '../smdp/encoding.ts';
import { SmdpError } from '../smdp/errors.ts';
import { Fp, G1, G2, R, g1BatchAffine, type G1Affine, type G1Point } from '../smdp/field.ts';
import { msmFull, msmSmall, subsetSum, type MsmBackend } from '../smdp/msm.ts';
import { commitRange, openRangeBits, proveRange } from '../smdp/classes/range.ts';
import { encodeNormProof, proveNormBound } from '../smdp/classes/norm.ts';
import { commitSmall } from '../smdp/pst.ts';
import { Transcript } from '../smdp/transcript.ts';
import { devSrs, devTau } from '../smdp/srs-insecure-dev.ts';

const loaded = loadAddon();
const skip = 'reason' in loaded ? `${loaded.reason}; the JS backend is tested elsewhere` : false;
const addon = 'addon' in loaded ? loaded.addon : (undefined as unknown as NativeAddon);

const P = Fp.ORDER;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** n distinct points A + i·Q, affine (one batch inversion). */
function buildPoints(n: number, seed = 0x243f6a8885a308d3n): G1Affine[] {
  if (n === 0) return [];
  const q = G1.BASE.multiply(0x5eed0f4d57a71n);
  const proj: G1Point[] = [];
  let p = G1.BASE.multiply(seed);
  for (let i = 0; i < n; i++) {
    proj.push(p);
    p = p.add(q);
  }
  return g1BatchAffine(proj);
}

function negate(p: G1Affine): G1Affine {
  return { x: p.x, y: p.y === 0n ? 0n : P - p.y };
}

function assertPointEq(actual: G1Point, expected: G1Point, what: string): void {
  if (!actual.equals(expected)) assert.fail(`${what}: ${Buffer.from(encodeG1(actual)).toString('hex')} ≠ ${Buffer.from(encodeG1(expected)).toString('hex')}`);
}

/** The message the JS function throws for these inputs (it must throw). */
function jsError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return assert.fail('the JS reference accepted the input');
}

/** Deterministic pseudo-random integers (xorshift), signed, |s| < 2^bits. */
function randomInts(n: number, bits: number, seed: number): number[] {
  let x = BigInt(seed) | 1n;
  const out: number[] = [];
  const mask = (1n << 64n) - 1n;
  for (let i = 0; i < n; i++) {
    x ^= (x << 13n) & mask;
    x ^= x >> 7n;
    x ^= (x << 17n) & mask;
    const m = Number(x % (1n << BigInt(bits)));
    out.push((x >> 63n) & 1n ? -m : m);
  }
  return out;
}

function randomField(n: number, seed: number): bigint[] {
  const ints = randomInts(4 * n, 48, seed);
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    let v = 0n;
    for (let k = 0; k < 4; k++) v = (v << 64n) | BigInt(Math.abs(ints[4 * i + k]!));
    out.push(v % R);
  }
  return out;
}

describe('native backend vs JS', { skip }, () => {
  const msm = skip === false ? nativeMsmBackend(addon) : undefined!;
  const curve = skip === false ? nativeCurveOps(addon) : undefined!;
  const BASIS = buildPoints(2048);

  describe('msmSmall', () => {
    it('matches JS for sizes 0, 1, 2, 3 and odd sizes around the small-n thresholds', async () => {
      for (const n of [0, 1, 2, 3, 7, 31, 32, 33, 65, 257, 1001]) {
        const pts = buildPoints(n, BigInt(1000 + n));
        const s = randomInts(n, 33, n + 1);
        assertPointEq(await msm.msmSmall(pts, s), msmSmall(pts, s), `n=${n}`);
      }
    });

    it('matches JS on random signed scalars of 8 … 53 bits (property)', async () => {
      const pool = BASIS.slice(0, 300);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 53 }), fc.integer(), async (n, bits, seed) => {
          const pts = pool.slice(0, n);
          const s = randomInts(n, bits, seed).map((v) => Math.max(-MAX_SAFE, Math.min(MAX_SAFE, v)));
          assertPointEq(await msm.msmSmall(pts, s), msmSmall(pts, s), `n=${n} bits=${bits}`);
        }),
        { numRuns: 40 },
      );
    });

    it('edge scalars: all zero → identity, ±1, ±(2^53 − 1), negatives only, duplicates and P with −P', async () => {
      const pts = BASIS.slice(0, 40);
      const zero = await msm.msmSmall(pts, new Array<number>(40).fill(0));
      assert.ok(zero.is0(), 'all-zero scalars give the identity');
      const cases: number[][] = [
        pts.map((_, i) => (i % 3) - 1),
        pts.map((_, i) => (i % 2 === 0 ? MAX_SAFE : -MAX_SAFE)),
        pts.map((_, i) => -(i + 1)),
        pts.map((_, i) => (i === 17 ? -MAX_SAFE : 0)),
        pts.map((_, i) => (i % 2 === 0 ? 1 : 0)),
      ];
      for (const [k, s] of cases.entries()) assertPointEq(await msm.msmSmall(pts, s), msmSmall(pts, s), `case ${k}`);
      // Duplicated points and a point next to its negation: doublings and cancellations.
      const dup = [pts[0]!, pts[0]!, pts[1]!, negate(pts[1]!), pts[2]!, pts[2]!, negate(pts[2]!)];
      for (const s of [[5, 5, 7, 7, 1, 1, 1], [1, -1, 3, 3, -2, 9, 4], [MAX_SAFE, MAX_SAFE, -3, 3, 0, 2, 2]]) {
        assertPointEq(await msm.msmSmall(dup, s), msmSmall(dup, s), `duplicates ${s.join(',')}`);
      }
      const cancel = await msm.msmSmall(dup, [1, -1, 1, 1, 0, 0, 0]);
      assert.ok(cancel.is0(), 'P − P + Q + (−Q) is the identity');
    });

    it('matches JS above the tiling threshold (4096 points) for 1 … 53-bit scalars', async () => {
      const pts = buildPoints(4099, 4242n);
      for (const bits of [1, 2, 9, 17, 33, 40, 53]) {
        const s = randomInts(pts.length, bits, bits).map((v) => Math.max(-MAX_SAFE, Math.min(MAX_SAFE, v)));
        assertPointEq(await msm.msmSmall(pts, s), msmSmall(pts, s), `n=4099 bits=${bits}`);
      }
      const s = pts.map((_, i) => (i === 4098 ? MAX_SAFE : i % 7 === 0 ? -MAX_SAFE : 0));
      assertPointEq(await msm.msmSmall(pts, s), msmSmall(pts, s), 'sparse maximal scalars');
      const full = randomField(pts.length, 5);
      full[0] = R - 1n;
      full[1] = 0n;
      full[2] = 1n;
      assertPointEq(await msm.msmFull(pts, full), msmFull(pts, full), 'n=4099 full scalars');
    });

    it('above the threshold: repeated points, P with −P in one bucket, one bucket of more than 4096 points', async () => {
      // Batch-affine buckets (native/src/msm.rs): pairs with equal x (doublings, cancellations),
      // sums that are the identity and continue, and a bucket carried across groups.
      const few = [BASIS[0]!, negate(BASIS[0]!), BASIS[1]!, BASIS[1]!, negate(BASIS[2]!)];
      const pts = Array.from({ length: 9001 }, (_, i) => few[(i * 7 + (i >> 3)) % few.length]!);
      const small = randomInts(pts.length, 4, 11);
      assertPointEq(await msm.msmSmall(pts, small), msmSmall(pts, small), 'few points, 4-bit scalars');
      const wide = randomInts(pts.length, 31, 12);
      assertPointEq(await msm.msmSmall(pts, wide), msmSmall(pts, wide), 'few points, 31-bit scalars');
      const same = pts.map((_, i) => (i % 3 === 0 ? -12345 : 12345));
      assertPointEq(await msm.msmSmall(pts, same), msmSmall(pts, same), 'one magnitude everywhere');
      const alt = Array.from({ length: 8192 }, (_, i) => (i % 2 === 0 ? BASIS[3]! : negate(BASIS[3]!)));
      assert.ok((await msm.msmSmall(alt, new Array<number>(alt.length).fill(2 ** 40))).is0(), 'P − P + … is the identity');
      const fullSmall = wide.map((v) => (v < 0 ? R + BigInt(v) : BigInt(v)));
      assertPointEq(await msm.msmFull(pts, fullSmall), msmFull(pts, fullSmall), 'full scalars of 31 bits');
    });

    it('accepts number arrays, Int32Array and Float64Array scalars alike', async () => {
      const pts = BASIS.slice(0, 64);
      const s = randomInts(64, 30, 7);
      const expected = msmSmall(pts, s);
      assertPointEq(await msm.msmSmall(pts, s), expected, 'number[]');
      assertPointEq(await msm.msmSmall(pts, Int32Array.from(s)), expected, 'Int32Array');
      assertPointEq(await msm.msmSmall(pts, Float64Array.from(s)), expected, 'Float64Array');
    });

    it('serves slices of a cached basis from native memory at an offset', async () => {
      const big = buildPoints(4096, 77n);
      const s = randomInts(4096, 32, 3);
      assertPointEq(await msm.msmSmall(big, s), msmSmall(big, s), 'whole basis');
      const whole = msm.cache.locate('msmSmall', big);
      for (const [from, to] of [[0, 1024], [100, 1300], [4096 - 200, 4096], [3000, 3001 + 63]] as const) {
        const part = big.slice(from, to);
        const at = msm.cache.locate('msmSmall', part);
        assert.equal(at.basis, whole.basis, `slice [${from}, ${to}) uses the cached basis`);
        assert.equal(at.offset, from);
        const ps = s.slice(from, to);
        assertPointEq(await msm.msmSmall(part, ps), msmSmall(part, ps), `slice [${from}, ${to})`);
      }
      // Same coordinates but other objects: not a slice, converted on its own, same result.
      const copy = big.slice(10, 200).map((p) => ({ x: p.x, y: p.y }));
      assert.notEqual(msm.cache.locate('msmSmall', copy).basis, whole.basis);
      assertPointEq(await msm.msmSmall(copy, s.slice(10, 200)), msmSmall(copy, s.slice(10, 200)), 'copied points');
    });

    it('rejects what msm.ts rejects, with the same messages', async () => {
      const pts = BASIS.slice(0, 5);
      const bad: (readonly number[])[] = [[1, 2, 3, 4], [1, 2, 1.5, 0, 0], [0, 0, 0, 0, NaN], [2 ** 53, 0, 0, 0, 0], [0, -(2 ** 53), 0, 0, 0], [Infinity, 0, 0, 0, 0]];
      for (const s of bad) {
        await assert.rejects(msm.msmSmall(pts, s), { message: jsError(() => msmSmall(pts, s)) });
      }
      const offCanon = [...pts.slice(0, 2), { x: P, y: 1n }];
      await assert.rejects(msm.msmSmall(offCanon, [1, 2, 3]), { message: jsError(() => msmSmall(offCanon, [1, 2, 3])) });
      const negative = [pts[0]!, { x: pts[1]!.x, y: -1n }];
      await assert.rejects(msm.msmSmall(negative, [1, 2]), { message: jsError(() => msmSmall(negative, [1, 2])) });
    });
  });

  describe('subsetSum', () => {
    it('matches JS: random bits, none, all, n = 0 and 1', async () => {
      for (const n of [0, 1, 2, 33, 500, 2048]) {
        const pts = BASIS.slice(0, n);
        const bits = randomInts(n, 1, n + 5).map((b) => Math.abs(b));
        assertPointEq(await msm.subsetSum(pts, bits), subsetSum(pts, bits), `random n=${n}`);
        const none = new Uint8Array(n);
        const all = new Uint8Array(n).fill(1);
        assert.ok((await msm.subsetSum(pts, none)).is0(), `no bits n=${n}`);
        assertPointEq(await msm.subsetSum(pts, all), subsetSum(pts, all), `all bits n=${n}`);
      }
      const dup = [BASIS[0]!, BASIS[0]!, negate(BASIS[0]!), BASIS[1]!];
      assertPointEq(await msm.subsetSum(dup, [1, 1, 1, 1]), subsetSum(dup, [1, 1, 1, 1]), 'duplicates');
      assert.ok((await msm.subsetSum(dup, [1, 0, 1, 0])).is0(), 'P + (−P)');
    });

    it('rejects non-bits and length mismatches with the same messages', async () => {
      const pts = BASIS.slice(0, 4);
      for (const bits of [[0, 1, 2, 0], [0, 1, -1, 0], [1, 1, 1]]) {
        await assert.rejects(msm.subsetSum(pts, bits), { message: jsError(() => subsetSum(pts, bits)) });
      }
    });
  });

  describe('msmFull', () => {
    const HALF = R >> 1n;
    it('matches JS on 0, 1, r − 1, around r/2 and random scalars, n = 0, 1 and odd sizes', async () => {
      const edge = [0n, 1n, R - 1n, HALF, HALF + 1n, HALF - 1n, 2n, R - 2n, (1n << 254n) - 1n];
      const pts = BASIS.slice(0, edge.length);
      assertPointEq(await msm.msmFull(pts, edge), msmFull(pts, edge), 'edge scalars');
      assertPointEq(curve.msmFull(pts, edge), msmFull(pts, edge), 'edge scalars (curve ops)');
      for (const n of [0, 1, 3, 31, 33, 129]) {
        const p = BASIS.slice(5, 5 + n);
        const s = randomField(n, n + 11);
        assertPointEq(await msm.msmFull(p, s), msmFull(p, s), `random n=${n}`);
        assertPointEq(curve.msmFull(p, s), msmFull(p, s), `random n=${n} (curve ops)`);
      }
      const one = [BASIS[9]!];
      assertPointEq(await msm.msmFull(one, [R - 1n]), G1.fromAffine(BASIS[9]!).negate(), '(r − 1)·P = −P');
      assert.ok((await msm.msmFull(BASIS.slice(0, 7), new Array<bigint>(7).fill(0n))).is0(), 'zero scalars');
      const dup = [BASIS[3]!, BASIS[3]!, negate(BASIS[3]!)];
      assert.ok((await msm.msmFull(dup, [5n, R - 2n, 3n])).is0(), '5P − 2P − 3P = O');
    });

    it('msmFullPointsGroups, one group (on the calling thread), gives msmFullPoints\' bytes and the JS point', () => {
      const serial = (points: Uint8Array, mags: Uint8Array, signs: Uint8Array): Buffer => addon.msmFullPointsGroups(points, mags, signs, Uint32Array.of(signs.length));
      /** Signed 32-byte little-endian magnitudes, as native/backend.ts sends them. */
      const encode = (s: readonly bigint[]): { mags: Buffer; signs: Uint8Array } => {
        const mags = Buffer.alloc(s.length * 32);
        const signs = new Uint8Array(s.length);
        s.forEach((x, i) => {
          const neg = x > HALF;
          signs[i] = neg ? 1 : 0;
          mags.write((neg ? R - x : x).toString(16).padStart(64, '0'), i * 32, 'hex');
          mags.subarray(i * 32, i * 32 + 32).reverse();
        });
        return { mags, signs };
      };
      const both = (pts: readonly G1Affine[], s: readonly bigint[], what: string): void => {
        const bytes = affineBytes('test', pts);
        const { mags, signs } = encode(s);
        const a = addon.msmFullPoints(bytes, mags, signs);
        const b = serial(bytes, mags, signs);
        assert.equal(Buffer.from(b).toString('hex'), Buffer.from(a).toString('hex'), what);
        assertPointEq(curve.msmFull(pts, s), msmFull(pts, s), `${what} (curve ops vs JS)`);
      };
      for (const n of [1, 2, 3, 5, 8, 17, 31, 32]) {
        both(BASIS.slice(40, 40 + n), randomField(n, 7 * n + 1), `random n=${n}`);
        both(BASIS.slice(80, 80 + n), randomInts(n, 33, n).map((x) => (x < 0 ? R + BigInt(x) : BigInt(x))), `33-bit signed n=${n}`);
      }
      const edge = [0n, 1n, R - 1n, HALF, HALF + 1n, 2n, R - 2n, (1n << 254n) - 1n];
      both(BASIS.slice(0, edge.length), edge, 'edge scalars');
      both([BASIS[9]!], [R - 1n], 'one point, −1');
      both([BASIS[9]!], [0n], 'one point, zero scalar');
      both([BASIS[9]!], [123456789n], 'one point');
      both(BASIS.slice(0, 7), new Array<bigint>(7).fill(0n), 'all scalars zero');
      both([BASIS[3]!, BASIS[3]!, negate(BASIS[3]!)], [5n, R - 2n, 3n], 'cancelling to the identity');
      both([BASIS[3]!, negate(BASIS[3]!)], [1n, 1n], 'P + (−P): a one-bit MSM to the identity');
      const z = serial(affineBytes('test', [BASIS[3]!, negate(BASIS[3]!)]), encode([1n, 1n]).mags, Uint8Array.of(0, 0));
      assert.ok(pointFromBytes(z).is0(), 'the identity comes back as the identity');
      // The identity has no affine form: both entries reject the all-zero encoding alike.
      const zero = new Uint8Array(96);
      const one = encode([5n]);
      assert.throws(() => addon.msmFullPoints(zero, one.mags, one.signs), /point 0 is not on the curve/);
      assert.throws(() => serial(zero, one.mags, one.signs), /point 0 is not on the curve/);
      // Length checks: scalars against points, group counts against points.
      assert.throws(() => serial(affineBytes('test', BASIS.slice(0, 2)), one.mags, one.signs), /expected 2 scalars, got 1/);
      const two = encode([1n, 2n]);
      assert.throws(() => addon.msmFullPointsGroups(affineBytes('test', BASIS.slice(0, 2)), two.mags, two.signs, Uint32Array.of(1)), /group counts add up to 1, expected 2 points/);
    });

    it('msmGroups: one call, every group equal to JS msmFull (empty, small, threaded and ≥ 4096-point groups; decoded, computed and unnormalised points)', () => {
      assert.equal(typeof addon.msmFullPointsGroups, 'function', 'the addon exports msmFullPointsGroups');
      const big = buildPoints(4100, 77n).map((p) => G1.fromAffine(p));
      const decoded = curve.decodeG1s(
        big.slice(0, 40).map((p) => encodeG1(p)),
        big.slice(0, 40).map((_, i) => `d[${i}]`),
      );
      // Unnormalised (Z ≠ 1) sums, and points that came out of an earlier native MSM.
      const projective = big.slice(100, 140).map((p, i) => p.add(big[i + 200]!));
      const computed = curve.msmGroups(big.slice(300, 310).map((p, i) => ({ points: [p], scalars: [BigInt(i + 2)] })));
      const groups = [
        { points: [], scalars: [] },
        { points: [big[1]!], scalars: [R - 1n] },
        { points: [...decoded.slice(0, 3), ...computed.slice(0, 3)], scalars: [0n, 1n, R - 1n, R >> 1n, (R >> 1n) + 1n, 2n] },
        { points: [...projective, ...decoded], scalars: randomField(80, 5) },
        { points: big, scalars: randomField(4100, 6) },
        ...Array.from({ length: 12 }, (_, g) => ({ points: big.slice(500 + 70 * g, 570 + 70 * g), scalars: randomField(70, 100 + g) })),
        { points: [big[3]!, big[3]!, big[3]!.negate()], scalars: [5n, R - 2n, 3n] },
      ];
      const got = curve.msmGroups(groups);
      const js = jsCurveOps.msmGroups(groups);
      assert.equal(got.length, groups.length);
      groups.forEach((g, k) => {
        const expected = g.points.length === 0 ? G1.ZERO : msmFull(g.points.map((p) => p.toAffine()), g.scalars);
        assertPointEq(got[k]!, expected, `group ${k} (${g.points.length} points)`);
        assertPointEq(js[k]!, expected, `group ${k} (JS ops)`);
      });
      assert.ok(got[got.length - 1]!.is0(), '5P − 2P − 3P = O');
      assert.throws(() => curve.msmGroups([{ points: big.slice(0, 2), scalars: [1n] }]), { message: 'msmGroups: expected 2 scalars, got 1' });
      assert.throws(() => curve.msmGroups([{ points: big.slice(0, 1), scalars: [R] }]), { message: 'msmGroups: scalar 0 is not in [0, r)' });
    });

    it('rejects scalars outside [0, r) and length mismatches with the same messages', async () => {
      const pts = BASIS.slice(0, 3);
      const bad: bigint[][] = [[0n, R, 1n], [-1n, 0n, 0n], [1n, 2n]];
      for (const s of bad) {
        const message = jsError(() => msmFull(pts, s));
        await assert.rejects(msm.msmFull(pts, s), { message });
        assert.throws(() => curve.msmFull(pts, s), { message });
      }
    });
  });

  describe('decodeG1', () => {
    const valid = buildPoints(24, 99n).map((p) => encodeG1(G1.fromAffine(p)));
    it('decodes what the JS decoder decodes, the identity included, one by one and in a batch', () => {
      const all = [...valid, encodeG1(G1.ZERO)];
      const fields = all.map((_, i) => `p[${i}]`);
      const batch = curve.decodeG1s(all, fields);
      all.forEach((b, i) => {
        const ref = decodeG1Js(b, 'x');
        assertPointEq(curve.decodeG1(b, 'x'), ref, `point ${i}`);
        assertPointEq(batch[i]!, ref, `batch point ${i}`);
      });
      assert.deepEqual(jsCurveOps.decodeG1s(all, fields).map((p) => p.toHex()), batch.map((p) => p.toHex()));
    });

    /** Bytes of a point on the curve outside G1, and of an x with no point on the curve. */
    function offGroupAndOffCurve(): { offGroup: Uint8Array; offCurve: Uint8Array } {
      let offGroup: Uint8Array | undefined;
      let offCurve: Uint8Array | undefined;
      for (let x = 1n; offGroup === undefined || offCurve === undefined; x++) {
        const b = Fp.toBytes(x);
        b[0] = b[0]! | 0x80;
        try {
          decodeG1Js(b);
        } catch (e) {
          if ((e as SmdpError).code === 'NOT_IN_SUBGROUP') offGroup ??= b;
          if ((e as SmdpError).code === 'NOT_ON_CURVE') offCurve ??= b;
        }
      }
      return { offGroup, offCurve };
    }

    it('rejects bad encodings with the same SmdpError code, field and message', () => {
      const { offGroup, offCurve } = offGroupAndOffCurve();
      const good = valid[0]!;
      const withByte = (b: Uint8Array, i: number, v: number): Uint8Array => {
        const c = Uint8Array.from(b);
        c[i] = v;
        return c;
      };
      const pBytes = Fp.toBytes(P - 1n);
      const cases: Record<string, Uint8Array> = {
        short: good.subarray(0, 47),
        long: Uint8Array.from([...good, 0]),
        uncompressed: withByte(good, 0, good[0]! & 0x7f),
        infinityWithSort: withByte(encodeG1(G1.ZERO), 0, 0xe0),
        infinityWithBits: withByte(encodeG1(G1.ZERO), 47, 1),
        xNotBelowP: (() => {
          const b = Uint8Array.from(pBytes);
          b[47] = b[47]! + 1; // p itself
          b[0] = b[0]! | 0x80;
          return b;
        })(),
        offCurve,
        offGroup,
      };
      const seen = new Set<string>();
      for (const [name, b] of Object.entries(cases)) {
        let expected: SmdpError | undefined;
        try {
          decodeG1Js(b, `f.${name}`);
        } catch (e) {
          expected = e as SmdpError;
        }
        assert.ok(expected instanceof SmdpError, `${name}: the JS decoder rejects it`);
        seen.add(expected.code);
        assert.throws(() => curve.decodeG1(b, `f.${name}`), (e: unknown) => {
          assert.ok(e instanceof SmdpError, `${name}: a typed error`);
          assert.equal(e.code, expected.code, name);
          assert.equal(e.field, expected.field, name);
          assert.equal(e.message, expected.message, name);
          return true;
        });
      }
      assert.deepEqual([...seen].sort(), ['BAD_LENGTH', 'NON_CANONICAL', 'NOT_IN_SUBGROUP', 'NOT_ON_CURVE']);
      // In a batch, the first bad point in input order is the one reported.
      assert.throws(() => curve.decodeG1s([good, offGroup, good.subarray(1)], ['a', 'b', 'c']), { code: 'NOT_IN_SUBGROUP', field: 'b' });
      assert.throws(() => curve.decodeG1s([good, good.subarray(1), offGroup], ['a', 'b', 'c']), { code: 'BAD_LENGTH', field: 'b' });
    });

    it('withPrefetchedG1: one batch for what the scan announces, the same points, and the same first error', () => {
      const { offGroup } = offGroupAndOffCurve();
      const calls: string[] = [];
      const counting: CurveOps = {
        ...curve,
        decodeG1: (b, f) => (calls.push(`one:${f}`), curve.decodeG1(b, f)),
        decodeG1s: (bs, fs) => (calls.push(`batch:${bs.length}`), curve.decodeG1s(bs, fs)),
      };
      const previous = useCurveOps(counting);
      try {
        const [a, b, c] = [valid[0]!, valid[1]!, valid[2]!];
        const decodeAll = (list: Uint8Array[]) => list.map((x, i) => decodeG1(x, `p${i}`));
        // Same points; the repeated encoding is decoded once; c, not announced, on its own.
        const got = withPrefetchedG1(() => void decodeAll([a, b, a]), () => decodeAll([a, b, a, c]));
        assert.deepEqual(calls, ['batch:2', 'one:p3']);
        [a, b, a, c].forEach((x, i) => assertPointEq(got[i]!, decodeG1Js(x), `point ${i}`));
        // A bad point: the batch fails, the real pass reports the first bad one under its own name.
        calls.length = 0;
        assert.throws(() => withPrefetchedG1(() => void decodeAll([a, offGroup]), () => decodeAll([a, offGroup])), { code: 'NOT_IN_SUBGROUP', field: 'p1' });
        assert.deepEqual(calls, ['batch:2', 'one:p0', 'one:p1']);
        // A scan that throws does not stop the real pass.
        const one = withPrefetchedG1(() => {
          decodeAll([b]);
          throw new Error('scan gave up');
        }, () => decodeAll([b]));
        assertPointEq(one[0]!, decodeG1Js(b), 'after a failed scan');
      } finally {
        useCurveOps(previous);
      }
    });
  });

  describe('pairingCheck', () => {
    const N = 3;
    const { srs } = devSrs(N);
    const tau = devTau(N, 'fti-dev');
    const g = (k: bigint): G1Point => G1.BASE.multiply(((k % R) + R) % R);

    it('agrees with the JS multi-pairing on true and false products', () => {
      // e(P_0, [1]) · e(P_1, [τ_1]) · e(P_3, [τ_3]) = 1 with P_0 = −(aτ_1 + cτ_3)·g, P_1 = a·g, P_3 = c·g.
      const a = 123456789n;
      const c = 987654321n;
      const good = [g(-(a * tau[0]! + c * tau[2]!)), g(a), G1.ZERO, g(c)];
      const bad = [good[0]!.add(G1.BASE), good[1]!, good[2]!, good[3]!];
      const swapped = [good[0]!, good[3]!, G1.ZERO, good[1]!];
      const ops = nativeCurveOps(addon);
      for (const [name, pts, expected] of [
        ['balanced', good, true],
        ['off by g', bad, false],
        ['swapped slots', swapped, false],
        ['all identity', [G1.ZERO, G1.ZERO, G1.ZERO, G1.ZERO], true],
        ['one non-identity', [G1.ZERO, g(5n), G1.ZERO, G1.ZERO], false],
      ] as const) {
        assert.equal(pairingCheckJs(srs, pts), expected, `${name} (JS)`);
        assert.equal(ops.pairingCheck(srs, pts), expected, `${name} (native)`);
      }
      assert.throws(() => ops.pairingCheck(srs, good.slice(0, 3)), { message: 'pairingCheck: expected 4 points, got 3' });
    });
  });

  describe('robustness', () => {
    it('bad arguments straight to the addon are errors, not crashes', async () => {
      const basis = new addon.G1Basis(Buffer.alloc(0));
      assert.equal(basis.length, 0);
      assert.throws(() => new addon.G1Basis(Buffer.alloc(95)), /multiple of 96/);
      assert.throws(() => new addon.G1Basis(Buffer.alloc(96, 1)), /not on the curve|non-canonical/);
      assert.throws(() => addon.msmSmall(basis, 0, new Float64Array(1)), /outside the basis/);
      assert.throws(() => addon.msmSmall(basis, 0, Float64Array.of(0.5)), /outside the basis|safe integer/);
      const one = new addon.G1Basis(Buffer.from(encodeAffine(BASIS[0]!)));
      assert.throws(() => addon.msmSmall(one, 0, Float64Array.of(0.5)), /not a safe integer/);
      assert.throws(() => addon.msmSmall(one, 1, Float64Array.of(1)), /outside the basis/);
      assert.throws(() => addon.subsetSum(one, 0, Uint8Array.of(2)), /not 0 or 1/);
      assert.throws(() => addon.msmFull(one, 0, new Uint8Array(31), Uint8Array.of(0)), /scalar bytes/);
      assert.throws(() => addon.msmFull(one, 0, new Uint8Array(32), Uint8Array.of(2)), /sign 0/);
      assert.throws(() => addon.g1Decompress(new Uint8Array(47)), /multiple of 48/);
      assert.throws(() => new addon.G2Table(new Uint8Array(96)), /not a non-identity point/);
      const t = new addon.G2Table(G2.BASE.toBytes(true));
      assert.throws(() => addon.pairingCheck(t, Buffer.from(encodeAffine(BASIS[0]!)), Uint32Array.of(1)), /outside the G2 table/);
      assert.throws(() => addon.pairingCheck(t, Buffer.from(encodeAffine(BASIS[0]!)), Uint32Array.of()), /expected 1 slots/);
      assert.equal(addon.pairingCheck(t, new Uint8Array(0), Uint32Array.of()), true);
      assert.ok((await addon.msmSmall(one, 0, Float64Array.of(0))).subarray(0, 1)[0]! & 0x40, 'identity flag');
    });

    it('loads and computes in a worker thread (the prover pool runs there)', async () => {
      const hex = Buffer.from(encodeAffine(BASIS[5]!)).toString('hex');
      const code = `
        const { parentPort } = require('node:worker_threads');
        const addon = require(${JSON.stringify(ADDON_PATH)});
        const basis = new addon.G1Basis(Buffer.from('${hex}', 'hex'));
        addon.msmSmall(basis, 0, Float64Array.of(3)).then((b) => parentPort.postMessage(Buffer.from(b).toString('hex')));
      `;
      const worker = new Worker(code, { eval: true });
      const out = await new Promise<string>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      await worker.terminate();
      const x = BigInt('0x' + out.slice(0, 96));
      const y = BigInt('0x' + out.slice(96));
      assertPointEq(G1.fromAffine({ x, y }), G1.fromAffine(BASIS[5]!).multiply(3n), '3·P from a worker');
    });
  });
});

function encodeAffine(p: G1Affine): Uint8Array {
  return Uint8Array.from([...Fp.toBytes(p.x), ...Fp.toBytes(p.y)]);
}

describe('curve-ops seam', () => {
  it('decodeG1, accumulator evaluation and pairingCheck run on the installed ops; useCurveOps restores', () => {
    const calls: string[] = [];
    const counting: CurveOps = {
      name: 'counting',
      decodeG1: (b, f) => (calls.push('decodeG1'), jsCurveOps.decodeG1(b, f)),
      decodeG1s: (b, f) => (calls.push('decodeG1s'), jsCurveOps.decodeG1s(b, f)),
      msmFull: (p, s) => (calls.push('msmFull'), jsCurveOps.msmFull(p, s)),
      msmGroups: (g) => (calls.push('msmGroups'), jsCurveOps.msmGroups(g)),
      pairingCheck: (vk, P) => (calls.push('pairingCheck'), jsCurveOps.pairingCheck(vk, P)),
    };
    const previous = useCurveOps(counting);
    try {
      assert.equal(curveOps(), counting);
      const { srs } = devSrs(1);
      const pt = decodeG1(encodeG1(G1.BASE.multiply(7n)));
      const acc = new PendingAccumulator(1).add(1, pt, 3n).addG1(5n);
      const evaluated = acc.evaluate();
      assertPointEq(evaluated[0]!, G1.BASE.multiply(5n), 'slot 0 holds the g1 term');
      assertPointEq(evaluated[1]!, G1.BASE.multiply(21n), 'slot 1 holds 3·(7·g)');
      assert.equal(pairingCheck(srs, evaluated), false);
      assert.deepEqual(calls, ['decodeG1', 'msmGroups', 'pairingCheck']);
    } finally {
      assert.equal(useCurveOps(previous), counting);
    }
    assert.equal(curveOps(), previous);
  });
});

describe('native prover kernels vs JS (range sumcheck, batched bit opening)', { skip }, () => {
  const withKernels = skip === false ? nativeMsmBackend(addon) : undefined!;
  // The same MSMs without the kernels: proveRange / openRangeBits then take smdp's JS loops.
  const withoutKernels: MsmBackend = skip === false ? { name: 'native-no-kernels', msmSmall: (p, s) => withKernels.msmSmall(p, s), subsetSum: (p, b) => withKernels.subsetSum(p, b), msmFull: (p, s) => withKernels.msmFull(p, s) } : undefined!;
  const N = 8;
  const srs = skip === false ? devSrs(N).srs : undefined!;

  /** Deltas in [−B, B] with both extremes present. */
  function deltasFor(n: number, B: bigint, seed: number): bigint[] {
    const span = Number(2n * B + 1n);
    const raw = randomInts(n, 40, seed).map((x) => BigInt(Math.abs(x) % span) - B);
    if (n > 1) raw[0] = B;
    if (n > 2) raw[n - 1] = -B;
    return raw;
  }

  async function both(mu: number, B: bigint, withSq: boolean, seed: number): Promise<void> {
    const n = 1 << mu;
    const delta = deltasFor(n, B, seed);
    const results = [];
    for (const msm of [withKernels, withoutKernels]) {
      const ctx = { srs, msm };
      const wit = await commitRange(ctx, delta, B);
      const t = new Transcript('fti/test/kernels');
      const rp = proveRange(t, 'k', wit, withSq, msm.kernels);
      const eta = t.challenge('k.eta');
      const lead = randomField(n, seed + 7);
      const plain = rp.bits.length === 0 ? null : await openRangeBits(ctx, rp.bits, eta, rp.point, null);
      const led = await openRangeBits(ctx, rp.bits, eta, rp.point, lead);
      results.push({ proof: rp.proof, point: rp.point, plain, led, after: t.challenge('k.after') });
    }
    const [k, js] = results;
    const what = `μ=${mu} B=${B} sq=${withSq}`;
    assert.deepEqual(k!.proof.sumcheck.rounds, js!.proof.sumcheck.rounds, `${what}: round polynomials`);
    assert.deepEqual(k!.point, js!.point, `${what}: sumcheck point`);
    assert.deepEqual(k!.proof.bitEvals, js!.proof.bitEvals, `${what}: bit evaluations`);
    assert.equal(k!.after, js!.after, `${what}: the transcripts end in the same state`);
    for (const key of ['plain', 'led'] as const) {
      const a = k![key];
      const b = js![key];
      assert.equal(a === null, b === null);
      if (a === null || b === null) continue;
      assert.equal(a.value, b.value, `${what}: ${key} opening value`);
      assert.equal(a.quotients.length, b.quotients.length);
      a.quotients.forEach((q, i) => assertPointEq(q, b.quotients[i]!, `${what}: ${key} quotient ${i}`));
    }
  }

  it('the range sumcheck and the bit openings match the JS loops byte for byte (norm, linf, edge sizes)', async () => {
    await both(0, 3n, true, 1); // one entry: no rounds
    await both(1, 1n, true, 2);
    await both(3, 0n, false, 3); // B = 0: no bits
    await both(4, 5n, false, 4); // linf: no square sum
    await both(6, 1000n, true, 5);
    await both(8, (1n << 40n) + 3n, true, 6); // wide weights, top weight not a power of two
    // Fewer variables than the kernel's pattern rounds, exactly as many, and past them.
    await both(2, 6n, true, 11);
    await both(3, 9n, true, 12);
    await both(5, 2n, false, 13);
  });

  it('the range sumcheck matches the JS loops when high bit planes are constant (real drift)', async () => {
    // |Δ| ≪ B: the top bits of Δ + B are the same almost everywhere, so most patterns are
    // all-zero or all-one and the kernel skips them.
    const n = 1 << N;
    const B = 1n << 20n;
    const delta = deltasFor(n, 60n, 14);
    const results = [];
    for (const msm of [withKernels, withoutKernels]) {
      const wit = await commitRange({ srs, msm }, delta, B);
      const t = new Transcript('fti/test/kernels');
      const rp = proveRange(t, 'k', wit, true, msm.kernels);
      results.push({ rounds: rp.proof.sumcheck.rounds, evals: rp.proof.bitEvals, after: t.challenge('k.after') });
    }
    assert.deepEqual(results[0], results[1]);
  });

  it('whole norm-class proofs are identical with and without the kernels', async () => {
    const mu = 6;
    const delta = deltasFor(1 << mu, 100n, 9);
    const cBase = await commitSmall({ srs, msm: withKernels }, randomInts(1 << mu, 20, 10));
    const input = {
      srsId: srs.id,
      job: 'kernels',
      tensor: 'layers.0.mlp.weight',
      blockIndex: 0,
      tensorShape: [8, 8],
      tile: { rowOffset: 0, colOffset: 0, muRows: 3, muCols: 3 },
      fractionalBits: 24,
      drift: { class: 'norm' as const, maxSquaredNorm: 100n * 100n * 64n },
      cBase,
    };
    const a = await proveNormBound({ srs, msm: withKernels }, input, delta);
    const b = await proveNormBound({ srs, msm: withoutKernels }, input, delta);
    assert.deepEqual(Buffer.from(encodeNormProof(a.proof)), Buffer.from(encodeNormProof(b.proof)));
    assert.ok(a.statement.cFt.equals(b.statement.cFt));
  });

  it('the kernels reject malformed inputs with errors, not crashes', () => {
    const kernels = withKernels.kernels!;
    const input = { bits: [Uint8Array.of(0, 2)], n: 2, r: [5n], alphaPow: [1n], weights: [1n], negB: R - 1n, squareCoeffs: [3n], withSquareSum: true };
    assert.throws(() => kernels.rangeSumcheck(input, () => 1n), /bit 1 of vector 0 is not 0 or 1/);
    assert.throws(() => kernels.rangeSumcheck({ ...input, bits: [Uint8Array.of(0, 1)], squareCoeffs: [R] }, () => 1n), /scalar 0 is not in \[0, r\)/);
    assert.throws(() => kernels.rangeSumcheck({ ...input, bits: [Uint8Array.of(0, 1)] }, () => R), /scalar 0 is not in \[0, r\)/);
    assert.throws(() => addon.rangeSumcheck(Buffer.of(0, 1), 2, 1, 1, Buffer.alloc(32, 0xff), Buffer.alloc(32), Buffer.alloc(32), Buffer.alloc(32), Buffer.alloc(32), true, () => Buffer.alloc(32)), /not below r/);
    assert.throws(() => addon.openBitsTables(Buffer.of(0, 1, 1), 3, 1, Buffer.alloc(32), Buffer.alloc(32), null, 0), /not a power of two/);
    const basis = new addon.G1Basis(affineBytes('test', buildPoints(4)));
    const eta = Buffer.alloc(32);
    const none = Buffer.alloc(0);
    assert.throws(() => addon.bitPairDiffQuotient(basis, 0, Buffer.of(0, 2, 1, 1), 4, 1, eta, none, false), /bit 1 of vector 0 is not 0 or 1/);
    assert.throws(() => addon.bitPairDiffQuotient(basis, 0, Buffer.of(0, 1, 1), 3, 1, eta, none, false), /divisible by 2\^1/);
    assert.throws(() => addon.bitPairDiffQuotient(basis, 0, Buffer.of(0, 1), 2, 2, eta, Buffer.alloc(32), false), /divisible by 2\^2/);
    assert.throws(() => addon.bitPairDiffQuotient(basis, 0, Buffer.of(0, 1), 2, 0, eta, none, false), /round 0 is not in/);
    assert.throws(() => addon.bitPairDiffQuotient(basis, 2, Buffer.alloc(8), 8, 1, eta, none, false), /outside the basis/);
    assert.throws(() => addon.bitPairDiffQuotient(basis, 0, Buffer.alloc(8), 8, 2, Buffer.alloc(32), Buffer.alloc(0), false), /round 2 takes 1 prefix coordinates/);
    assert.throws(() => addon.bitPairDiffQuotient(basis, 0, Buffer.alloc(8), 8, 1, Buffer.alloc(32, 0xff), Buffer.alloc(0), false), /not below r/);
    // A challenge callback that throws ends the sumcheck with that error.
    assert.throws(() => kernels.rangeSumcheck({ ...input, bits: [Uint8Array.of(0, 1)] }, () => { throw new Error('transcript closed'); }), /transcript closed/);
  });
});
