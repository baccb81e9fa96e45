/** Test fixtures: points of E(Fp) (y² = x³ + 4) found by small x, almost all outside G1. */
import { Fp } from '../smdp/field.ts';

/** Affine points on y² = x³ + 4 for x = from, from + 1, … below `limit`. */
export function* curvePointsBySmallX(limit = 2000n, from = 1n): Generator<{ x: bigint; y: bigint }> {
  for (let x = from; x < limit; x++) {
    const y2 = Fp.add(Fp.mul(Fp.sqr(x), x), 4n);
    let y: bigint;
    try {
      y = Fp.sqrt(y2);
    } catch {
      continue;
    }
    if (Fp.sqr(y) === y2) yield { x, y };
  }
}
