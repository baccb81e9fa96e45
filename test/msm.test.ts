/**
 * smdp/msm.ts against two references: noble's `pippenger` (scalars embedded in Fr) and the
 * naive Σ s_i·P_i. Points are multiples of the generator; a fixed pool is built once and the
 * property tests pick indices into it, so duplicates (→ doublings inside the batch-affine
 * tree) and negations (→ P + (−P) = O) come up naturally, besides the dedicated edge cases.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pippenger } from '@noble/curves/abstract/curve.js';
import { Fp, G1, R, frSigned, g1ScalarMul } from '../smdp/field.ts';
import type { G1Affine, G1Point } from '../smdp/field.ts';
import { encodeG1 } from '../smdp/encoding.ts';
import { jsMsmBackend, msmFull, msmSmall, subsetSum } from '../smdp/msm.ts';

const MAX_ABS = 2 ** 52 - 1;
const P = Fp.ORDER;

/** Affine k·G for a few awkward-looking k. */
function pointFor(k: bigint): G1Affine {
  const a = G1.BASE.multiply(k).toAffine();
  return { x: a.x, y: a.y };
}

function negate(p: G1Affine): G1Affine {
  const a = G1.fromAffine(p).negate().toAffine();
  return { x: a.x, y: a.y };
}

const POOL_SIZE = 48;
/** Distinct points plus the negations of the first few, so the pool itself has P and −P. */
const POOL: G1Affine[] = (() => {
  const pts: G1Affine[] = [];
  for (let i = 0; i < POOL_SIZE; i++) pts.push(pointFor(0x9e3779b97f4a7c15n * BigInt(i + 1) + 12345n));
  for (let i = 0; i < 8; i++) pts.push(negate(pts[i]!));
  return pts;
})();

function naive(points: readonly G1Affine[], scalars: ArrayLike<number | bigint>): G1Point {
  let acc = G1.ZERO;
  for (let i = 0; i < points.length; i++) {
    const s = scalars[i]!;
    acc = acc.add(g1ScalarMul(G1.fromAffine(points[i]!), frSigned(s)));
  }
  return acc;
}

function noble(points: readonly G1Affine[], scalars: ArrayLike<number | bigint>): G1Point {
  const proj = points.map((p) => G1.fromAffine(p));
  return pippenger(G1, proj, Array.from(scalars, (s) => frSigned(s)));
}

function assertPointEq(actual: G1Point, expected: G1Point, what: string): void {
  if (!actual.equals(expected)) assert.fail(`${what}: ${encodeG1(actual).toString()} ≠ ${encodeG1(expected).toString()}`);
}

/** Checks msmSmall against the naive sum (and noble when asked) for one input. */
function checkSmall(points: readonly G1Affine[], scalars: readonly number[], withNoble = false): void {
  const ours = msmSmall(points, scalars);
  assertPointEq(ours, naive(points, scalars), 'msmSmall vs naive');
  if (withNoble) assertPointEq(ours, noble(points, scalars), 'msmSmall vs noble pippenger');
}

const scalarArb = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.integer({ min: -3, max: 3 }),
  fc.integer({ min: -MAX_ABS, max: MAX_ABS }),
  fc.constantFrom(MAX_ABS, -MAX_ABS, 2 ** 40, -(2 ** 40), 2 ** 24 + 1),
);

describe('msmSmall', () => {
  it('matches noble pippenger and the naive sum on random small signed scalars', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ index: fc.nat(POOL.length - 1), scalar: scalarArb }), { maxLength: 64 }),
        (entries) => {
          const points = entries.map((e) => POOL[e.index]!);
          const scalars = entries.map((e) => e.scalar);
          checkSmall(points, scalars, true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('survives coincidences: few distinct points, their negations and tiny scalars', () => {
    // Equal or opposite bucket sums and running sums: doublings and cancellations everywhere,
    // including inside the batched bucket reduction.
    const tiny = [POOL[0]!, POOL[1]!, negate(POOL[0]!), negate(POOL[1]!), POOL[2]!];
    fc.assert(
      fc.property(
        fc.array(fc.record({ index: fc.nat(tiny.length - 1), scalar: fc.integer({ min: -12, max: 12 }) }), {
          maxLength: 48,
        }),
        (entries) => {
          checkSmall(
            entries.map((e) => tiny[e.index]!),
            entries.map((e) => e.scalar),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('returns the identity for empty input and for all-zero scalars', () => {
    assert.ok(msmSmall([], []).equals(G1.ZERO));
    assert.ok(msmSmall(POOL.slice(0, 10), new Array<number>(10).fill(0)).equals(G1.ZERO));
    assert.ok(msmSmall(POOL.slice(0, 3), new Float64Array([0, -0, 0])).equals(G1.ZERO));
  });

  it('handles a single point with extreme scalars', () => {
    const p = POOL[3]!;
    for (const s of [1, -1, 2, -2, 3, MAX_ABS, -MAX_ABS, 2 ** 52 - 2, -(2 ** 31), 2 ** 31, 1023, 1024, 1025]) {
      checkSmall([p], [s]);
    }
  });

  it('accepts every safe integer, including ±(2^53 − 1)', () => {
    const points = POOL.slice(0, 4);
    checkSmall(points, [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1, -1]);
  });

  it('handles scalars ±1 and ±(2^52 − 1) over many points (n not a power of two)', () => {
    const points = POOL.slice(0, 37);
    checkSmall(points, points.map((_, i) => (i % 2 === 0 ? 1 : -1)), true);
    checkSmall(points, points.map((_, i) => (i % 3 === 0 ? MAX_ABS : -MAX_ABS)));
  });

  it('doubles correctly when the same point lands in one bucket many times', () => {
    const p = POOL[5]!;
    const q = POOL[6]!;
    // 9 copies of p and 4 of q with equal scalars: every tree round meets equal points.
    const points = [...new Array<G1Affine>(9).fill(p), ...new Array<G1Affine>(4).fill(q)];
    checkSmall(points, new Array<number>(points.length).fill(7), true);
    checkSmall(points, new Array<number>(points.length).fill(-(2 ** 33 + 5)));
    checkSmall([p, p], [1, 1]);
    checkSmall([p, p, p], [5, 5, 5]);
  });

  it('cancels a point against its negation (P + (−P) = O)', () => {
    const p = POOL[2]!;
    const minusP = negate(p);
    assert.ok(msmSmall([p, minusP], [9, 9]).equals(G1.ZERO));
    assert.ok(msmSmall([p, p], [12345, -12345]).equals(G1.ZERO));
    assert.ok(msmSmall([p, minusP, p, minusP], [1, 1, 1, 1]).equals(G1.ZERO));
    // Cancellation in one bucket while other buckets are live.
    checkSmall([p, minusP, POOL[7]!, p, POOL[8]!], [3, 3, 3, 3, -3]);
    // Partial sums that hit the identity mid-tree, then continue.
    checkSmall([p, minusP, p, p, minusP, POOL[9]!], [4, 4, 4, 4, 4, 4]);
  });

  it('handles one heavily loaded bucket (deep tree) next to many light ones', () => {
    const points = POOL.slice(0, 44);
    const scalars = points.map((_, i) => (i < 30 ? 3 : (i * 7919) % 2000 - 1000));
    checkSmall(points, scalars, true);
  });

  it('accepts typed arrays of scalars', () => {
    const points = POOL.slice(0, 5);
    const ints = new Int32Array([5, -6, 7, -(2 ** 31), 2 ** 31 - 1]);
    assertPointEq(msmSmall(points, ints), naive(points, ints), 'Int32Array');
  });

  it('rejects mismatched lengths and non-integer scalars', () => {
    assert.throws(() => msmSmall(POOL.slice(0, 3), [1, 2]), { message: 'msmSmall: expected 3 scalars, got 2' });
    assert.throws(() => msmSmall(POOL.slice(0, 1), [0.5]), /not a safe integer/);
    assert.throws(() => msmSmall(POOL.slice(0, 1), [Number.NaN]), /not a safe integer/);
    assert.throws(() => msmSmall(POOL.slice(0, 1), [2 ** 53]), /not a safe integer/);
    const p = POOL[0]!;
    assert.throws(() => msmSmall([{ x: p.x, y: p.y + P }], [1]), /point 0 has non-canonical coordinates/);
  });
});

describe('subsetSum', () => {
  const points = POOL.slice(0, 41);

  it('is the identity for no bits set and the full sum for all bits set', () => {
    assert.ok(subsetSum([], []).equals(G1.ZERO));
    assert.ok(subsetSum(points, new Array<number>(points.length).fill(0)).equals(G1.ZERO));
    const all = new Array<number>(points.length).fill(1);
    assertPointEq(subsetSum(points, all), naive(points, all), 'all ones');
  });

  it('matches the naive sum on random bits (with duplicates and negations in the pool)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ index: fc.nat(POOL.length - 1), bit: fc.constantFrom(0, 1) }), { maxLength: 64 }),
        (entries) => {
          const pts = entries.map((e) => POOL[e.index]!);
          const bits = Uint8Array.from(entries, (e) => e.bit);
          assertPointEq(subsetSum(pts, bits), naive(pts, bits), 'subsetSum');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('handles doubling and cancellation', () => {
    const p = POOL[1]!;
    assertPointEq(subsetSum([p, p, p, p, p], [1, 1, 1, 1, 1]), g1ScalarMul(G1.fromAffine(p), 5n), '5·P');
    assert.ok(subsetSum([p, negate(p)], [1, 1]).equals(G1.ZERO));
  });

  it('rejects bits other than 0/1 and mismatched lengths', () => {
    assert.throws(() => subsetSum(points.slice(0, 2), [1, 2]), /not 0 or 1/);
    assert.throws(() => subsetSum(points.slice(0, 2), [1]), { message: 'subsetSum: expected 2 bits, got 1' });
  });
});

describe('msmFull', () => {
  const bigScalarArb = fc.oneof(
    fc.bigInt({ min: 0n, max: R - 1n }),
    fc.constantFrom(0n, 1n, 2n, R - 1n, R - 2n, R >> 1n, (R >> 1n) + 1n, (R >> 1n) - 1n),
    fc.bigInt({ min: 0n, max: 2n ** 64n }),
  );

  it('matches noble pippenger on random full scalars', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ index: fc.nat(POOL.length - 1), scalar: bigScalarArb }), { maxLength: 24 }),
        (entries) => {
          const pts = entries.map((e) => POOL[e.index]!);
          const scalars = entries.map((e) => e.scalar);
          assertPointEq(msmFull(pts, scalars), noble(pts, scalars), 'msmFull vs noble');
        },
      ),
      { numRuns: 25 },
    );
  });

  it('handles 0, 1, r − 1 and the r/2 boundary', () => {
    const pts = POOL.slice(0, 6);
    const scalars = [0n, 1n, R - 1n, R >> 1n, (R >> 1n) + 1n, 0n];
    assertPointEq(msmFull(pts, scalars), naive(pts, scalars), 'edge scalars');
    assert.ok(msmFull([], []).equals(G1.ZERO));
    assert.ok(msmFull(pts, new Array<bigint>(6).fill(0n)).equals(G1.ZERO));
    // (r − 1)·P + 1·P = O.
    assert.ok(msmFull([pts[0]!, pts[0]!], [R - 1n, 1n]).equals(G1.ZERO));
  });

  it('agrees with msmSmall on embedded signed scalars', () => {
    const pts = POOL.slice(0, 33);
    const small = pts.map((_, i) => ((i * 2654435761) % 2 ** 40) - 2 ** 39);
    assertPointEq(msmFull(pts, small.map((s) => frSigned(s))), msmSmall(pts, small), 'full vs small');
  });

  it('rejects out-of-range scalars and mismatched lengths', () => {
    assert.throws(() => msmFull(POOL.slice(0, 1), [R]), /not in \[0, r\)/);
    assert.throws(() => msmFull(POOL.slice(0, 1), [-1n]), /not in \[0, r\)/);
    assert.throws(() => msmFull(POOL.slice(0, 2), [1n]), { message: 'msmFull: expected 2 scalars, got 1' });
  });
});

describe('jsMsmBackend', () => {
  it('returns the same points as the synchronous functions', async () => {
    const pts = POOL.slice(0, 20);
    const small = pts.map((_, i) => (i * 104729) % 65536 - 32768);
    const bits = pts.map((_, i) => i % 3 === 0 ? 1 : 0);
    const full = pts.map((_, i) => (R - 1n) / BigInt(i + 2));
    assert.equal(jsMsmBackend.name, 'js-bigint');
    assertPointEq(await jsMsmBackend.msmSmall(pts, small), msmSmall(pts, small), 'backend msmSmall');
    assertPointEq(await jsMsmBackend.subsetSum(pts, bits), subsetSum(pts, bits), 'backend subsetSum');
    assertPointEq(await jsMsmBackend.msmFull(pts, full), msmFull(pts, full), 'backend msmFull');
    await assert.rejects(jsMsmBackend.msmSmall(pts, [1]), { message: 'msmSmall: expected 20 scalars, got 1' });
  });
});
