// Quantization q(w) = roundHalfEven(w·2^s) (model/quantize.ts, PROTOCOLS.md §1): ties to even,
// negatives, subnormals, no −0, exact agreement with a BigInt computation of the same rational
// (random doubles, and every finite F16 and BF16 value), and bad input — NaN/±∞ (NON_FINITE)
// and |q| ≥ 2^53 (QUANTIZE_OVERFLOW) — naming the file, tensor and flat index.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ModelError } from '../model/errors.ts';
import { QUANTIZED_LIMIT, quantize, quantizeToBigInt, roundHalfEven, roundHalfEvenExact } from '../model/quantize.ts';
import { decodeFloats } from '../model/safetensors.ts';

const q1 = (w: number, s = 0): number => quantize(Float64Array.of(w), s, { tensor: 't', startIndex: 0 })[0]!;

/**
 * The reference: w = ±m·2^e exactly (m, e from the IEEE bits), so w·2^s = ±m·2^(e+s) and
 * round half to even is integer arithmetic on m. Independent of Math.round and of doubles.
 */
function exactQ(w: number, s: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, w);
  const bits = dv.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const m = exp === 0 ? frac : frac | (1n << 52n);
  const e = (exp === 0 ? 1 : exp) - 1075 + s;
  if (e >= 0) return sign * (m << BigInt(e));
  const k = BigInt(-e);
  const fl = m >> k;
  const rem = m - (fl << k);
  const half = 1n << (k - 1n);
  return sign * (rem > half || (rem === half && (fl & 1n) === 1n) ? fl + 1n : fl);
}

/** quantize one value, or the error code it raises. */
function qOrCode(w: number, s: number): number | string {
  try {
    return q1(w, s);
  } catch (e) {
    if (e instanceof ModelError) return e.code;
    throw e;
  }
}

function expectedOrCode(w: number, s: number): number | string {
  if (!Number.isFinite(w)) return 'NON_FINITE';
  const q = exactQ(w, s);
  return (q < 0n ? -q : q) >= BigInt(QUANTIZED_LIMIT) ? 'QUANTIZE_OVERFLOW' : Number(q);
}

describe('quantize', () => {
  it('rounds half to even, symmetric for negatives, never −0', () => {
    assert.deepEqual(
      [0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, -3.5, 2.4999999999999996, 2.5000000000000004, 0.49999999999999994].map((w) => q1(w)),
      [0, 2, 2, 4, 0, -2, -2, -4, 2, 3, 0],
    );
    for (const [w, s] of [[-0, 24], [-0.4, 0], [-0.5, 0], [-1e-300, 40]] as const) assert.ok(Object.is(q1(w, s), 0), `q(${w}) is +0`);
    const xs = [-3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3];
    assert.deepEqual(
      xs.map((x) => roundHalfEven(x) + 0),
      [-3, -2, -2, -2, -1, 0, 0, 0, 1, 2, 2, 2, 3],
    );
    assert.equal(roundHalfEvenExact, roundHalfEven);
    // Above 2^52 every double is an integer: returned unchanged.
    assert.equal(roundHalfEven(2 ** 52 + 1), 2 ** 52 + 1);
    assert.equal(roundHalfEven(-(2 ** 53)), -(2 ** 53));
  });

  it('scales by 2^s exactly, ties included', () => {
    assert.equal(q1(1, 24), 2 ** 24);
    assert.equal(q1(2 ** -25, 24), 0); // exactly ½ → even 0
    assert.equal(q1(3 * 2 ** -25, 24), 2); // 1.5 → 2
    assert.equal(q1(5 * 2 ** -25, 24), 2); // 2.5 → 2
    assert.equal(q1(-0.001, 24), -16777); // −16777.216
    assert.equal(q1(0.1, 40), 109951162778); // 0.1·2^40 = 109951162777.6000…
  });

  it('subnormal weights: exact, and ties among them go to even', () => {
    // F64 subnormals vanish at any policy precision …
    assert.equal(q1(2 ** -1074, 40), 0);
    assert.equal(q1(-(2 ** -1030), 40), 0);
    // … F16 subnormals (k·2^-24) do not: at s = 24 they are the integers k, at s = 23 halves.
    for (let k = 1; k < 1024; k++) {
      assert.equal(q1(k * 2 ** -24, 24), k);
      assert.equal(q1(-k * 2 ** -24, 23), Number(exactQ(-k * 2 ** -24, 23)) + 0);
    }
    assert.equal(q1(2 ** -24, 23), 0); // ½ → 0
    assert.equal(q1(3 * 2 ** -24, 23), 2); // 1½ → 2
  });

  it('agrees with an exact rational computation on random doubles (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ min: -1000, max: 1000, noNaN: true }), fc.double({ noNaN: true }), fc.double({ min: -1e-6, max: 1e-6 })),
        fc.integer({ min: 0, max: 40 }),
        (w, s) => {
          assert.equal(qOrCode(w, s), expectedOrCode(w, s), `q(${w}) with s = ${s}`);
        },
      ),
      { numRuns: 3000 },
    );
    // Ties built on purpose: (k + ½)·2^-s for random k, both signs.
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), fc.integer({ min: 1, max: 40 }), (k, s) => {
        const w = (k + 0.5) * 2 ** -s;
        const want = k % 2 === 0 ? k : k + 1;
        assert.equal(q1(w, s), want + 0);
      }),
      { numRuns: 1000 },
    );
  });

  for (const dtype of ['F16', 'BF16'] as const) {
    it(`every ${dtype} value, at s = 0, 10, 24 and 40, matches the exact computation`, () => {
      const all = decodeFloats(new Uint8Array(new Uint16Array(65536).map((_, i) => i).buffer), dtype, { file: 'all', tensor: dtype });
      for (const s of [0, 10, 24, 40]) {
        for (let i = 0; i < 65536; i++) {
          const w = all[i]!;
          const got = qOrCode(w, s);
          const want = expectedOrCode(w, s);
          if (got !== want) assert.fail(`${dtype} 0x${i.toString(16)} = ${w}, s = ${s}: got ${got}, expected ${want}`);
        }
      }
    });
  }

  it('NaN and ±∞ are NON_FINITE naming file, tensor, flat index and position', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      assert.throws(
        () => quantize(Float64Array.of(1, 2, bad), 24, { file: 'm.safetensors', tensor: 'layers.0.w', startIndex: 100, shape: [4, 30] }),
        (e: unknown) => {
          assert.ok(e instanceof ModelError);
          assert.equal(e.code, 'NON_FINITE');
          assert.equal(e.message, `m.safetensors: tensor "layers.0.w": weight at flat index 102 (position [3, 12]) is ${bad}: weights must be finite`);
          assert.deepEqual([e.file, e.tensor, e.field], ['m.safetensors', 'layers.0.w', '[102]']);
          return true;
        },
      );
    }
    // Without a file or shape, the message still names tensor and index.
    assert.throws(() => quantize(Float64Array.of(NaN), 24, { tensor: 'b', startIndex: 0 }), /^ModelError: tensor "b": weight at flat index 0 is NaN/);
  });

  it('|q| ≥ 2^53 is QUANTIZE_OVERFLOW; just below is exact', () => {
    assert.equal(q1(2 ** 29 - 2 ** -24, 24), 2 ** 53 - 1); // the largest quantizable at s = 24
    for (const w of [2 ** 29, -(2 ** 29), 1e300, 65504 * 2 ** 30]) {
      assert.throws(
        () => quantize(Float64Array.of(0, w), 24, { file: 'f', tensor: 'big', startIndex: 7 }),
        (e: unknown) =>
          e instanceof ModelError &&
          e.code === 'QUANTIZE_OVERFLOW' &&
          e.tensor === 'big' &&
          e.field === '[8]' &&
          new RegExp(`^f: tensor "big": weight at flat index 8 is ${String(w).replace('+', '\\+')}: \\|w·2\\^24\\| ≥ 2\\^53`).test(e.message),
      );
    }
    // F16's largest value is fine at s = 24 but overflows at s = 40 (65504·2^40 > 2^53).
    assert.equal(q1(65504, 24), 65504 * 2 ** 24);
    assert.equal(qOrCode(65504, 40), 'QUANTIZE_OVERFLOW');
    // w·2^s overflowing to ∞ is an overflow, not a non-finite weight.
    assert.equal(qOrCode(Number.MAX_VALUE, 40), 'QUANTIZE_OVERFLOW');
  });

  it('quantizeToBigInt agrees with quantize; bad fractional bits are a programming error', () => {
    const w = Float64Array.from([0.5, -1.5, 1e-9, 3.25, -(2 ** 20) + 2 ** -30]);
    const q = quantize(w, 30, { tensor: 't', startIndex: 0 });
    assert.deepEqual([...quantizeToBigInt(w, 30, { tensor: 't', startIndex: 0 })], [...q].map((x) => BigInt(x)));
    assert.throws(() => quantizeToBigInt(Float64Array.of(NaN), 3, { tensor: 't', startIndex: 5 }), (e: unknown) => e instanceof ModelError && e.code === 'NON_FINITE' && e.field === '[5]');
    for (const s of [-1, 1.5, NaN, 1001]) assert.throws(() => quantize(w, s, { tensor: 't', startIndex: 0 }), RangeError);
    assert.deepEqual(quantize(new Float64Array(0), 24, { tensor: 't', startIndex: 0 }), new Float64Array(0));
  });
});
