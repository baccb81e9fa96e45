// The hand-written G1 subgroup test must agree with noble's isTorsionFree everywhere:
// multiples of g1 (inside) and curve points found by x-search (almost all outside).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Fp, G1 } from '../smdp/field.ts';
import { isInG1 } from '../smdp/g1-subgroup.ts';
import { curvePointsBySmallX } from './curve-points.ts';

describe('isInG1', () => {
  it('accepts every multiple of the generator', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: (1n << 200n) }), (k) => {
        const p = G1.BASE.multiply(k).toAffine();
        assert.equal(isInG1(p.x, p.y), true);
      }),
      { numRuns: 25 },
    );
  });

  it('agrees with noble on curve points outside the subgroup', () => {
    let outside = 0;
    for (const { x, y } of curvePointsBySmallX()) {
      if (outside >= 8) break;
      const p = G1.fromAffine({ x, y });
      const expected = p.isTorsionFree();
      assert.equal(isInG1(x, y), expected, `x = ${x}`);
      assert.equal(isInG1(x, Fp.neg(y)), expected, `x = ${x}, −y`);
      if (!expected) outside++;
    }
    assert.ok(outside >= 8, 'found enough points outside G1 to test rejection');
  });

  it('rejects a subgroup point plus a small-order component', () => {
    // Find a point T outside G1, clear its G1 part by multiplying by r: T' = r·T has order | h.
    for (const { x, y } of curvePointsBySmallX()) {
      const Q = G1.fromAffine({ x, y });
      const T = Q.multiplyUnsafe(G1.Fn.ORDER - 1n).add(Q); // r·Q: kills the G1 part
      if (T.is0()) continue;
      const mixed = G1.BASE.multiply(12345n).add(T).toAffine();
      assert.equal(isInG1(mixed.x, mixed.y), false);
      return;
    }
    assert.fail('no small-order point found');
  });
});

describe('encodeG1 / encodeG2 of the identity', () => {
  it('encode every projective form of the identity as 0xc0 ‖ 0…', async () => {
    const { encodeG1, encodeG2 } = await import('../smdp/encoding.ts');
    const { G2 } = await import('../smdp/field.ts');
    const p = G1.BASE.multiply(7n);
    const forms = [G1.ZERO, p.add(p.negate()), p.subtract(p), G1.ZERO.multiplyUnsafe(5n), new G1(5n, 7n, 0n)];
    for (const z of forms) {
      const b = encodeG1(z);
      assert.equal(b[0], 0xc0);
      assert.ok(b.subarray(1).every((x) => x === 0));
    }
    const q = G2.BASE.multiply(3n);
    assert.equal(encodeG2(q.subtract(q))[0], 0xc0);
  });
});
