// Quantization q(w) = roundHalfEven(w·2^s): ties to even, negatives, exactness, bad values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ModelError } from '../model/errors.ts';
import { quantize, roundHalfEvenExact } from '../model/quantize.ts';

const q1 = (w: number, s = 0): number => quantize(Float64Array.of(w), s, { tensor: 't', startIndex: 0 })[0]!;

describe('quantize', () => {
  it('rounds half to even, symmetric for negatives', () => {
    assert.deepEqual([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 2.4999999999999996, 2.5000000000000004].map((w) => q1(w)), [0, 2, 2, 4, 0, -2, -2, 2, 3]);
    assert.equal(Object.is(q1(-0.4), -0), false, 'no negative zero');
  });

  it('scales by 2^s exactly', () => {
    assert.equal(q1(1, 24), 2 ** 24);
    assert.equal(q1(2 ** -25, 24), 0); // exactly ½ → even 0
    assert.equal(q1(3 * 2 ** -25, 24), 2); // 1.5 → 2
    assert.equal(q1(-0.001, 24), -16777);
  });

  it('agrees with an exact rational computation (fast-check)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1000, max: 1000, noNaN: true }), fc.integer({ min: 0, max: 30 }), (w, s) => {
        // Exact: w = m·2^e; x = w·2^s as a fraction n / 2^k, round half to even with bigints.
        const buf = new DataView(new ArrayBuffer(8));
        buf.setFloat64(0, w);
        const bits = buf.getBigUint64(0);
        const sign = bits >> 63n ? -1n : 1n;
        const exp = Number((bits >> 52n) & 0x7ffn);
        const frac = bits & ((1n << 52n) - 1n);
        const m = exp === 0 ? frac : frac | (1n << 52n);
        const e = (exp === 0 ? 1 : exp) - 1075 + s; // x = m·2^e
        let q: bigint;
        if (e >= 0) q = m << BigInt(e);
        else {
          const k = BigInt(-e);
          const fl = m >> k;
          const rem = m - (fl << k);
          const half = 1n << (k - 1n);
          q = rem > half || (rem === half && (fl & 1n) === 1n) ? fl + 1n : fl;
        }
        assert.equal(q1(w, s), Number(sign * q) || 0);
      }),
      { numRuns: 300 },
    );
  });

  it('NaN, ±Inf and values too large are bad input naming tensor and index', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      assert.throws(
        () => quantize(Float64Array.of(1, 2, bad), 24, { file: 'm.safetensors', tensor: 'layers.0.w', startIndex: 100 }),
        (e: unknown) => e instanceof ModelError && e.code === 'NON_FINITE' && /m\.safetensors: tensor "layers\.0\.w": weight at flat index 102 is/.test(e.message),
      );
    }
    assert.throws(() => q1(2 ** 40, 24), (e: unknown) => e instanceof ModelError && /too large to quantize exactly/.test(e.message));
  });

  it('roundHalfEvenExact on integers and halves', () => {
    const xs = [-3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3];
    assert.deepEqual(xs.map((x) => roundHalfEvenExact(x) + 0), [-3, -2, -2, -2, -1, 0, 0, 0, 1, 2, 2, 2, 3]);
  });
});
