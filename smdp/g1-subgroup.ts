/**
 * Fast G1 subgroup membership test for decoders (hand-written: noble's `isTorsionFree` runs
 * the same test through its generic wNAF ladder with complete projective formulas, ≈ 3×
 * slower; decoding proof points is the verifier's largest per-block cost).
 *
 * Test (Scott, "A note on group membership tests for G1, G2 and GT on BLS pairing-friendly
 * curves", ePrint 2021/1130 §6, as in noble): P ∈ G1 ⇔ φ(P) = [−z²]P, where z is the BLS12-381
 * parameter (z = −0xd201000000010000) and φ(x, y) = (βx, y) with β a primitive cube root of
 * unity in Fp (the same β noble uses). [z²]P = [|z|]([|z|]P) costs 2 × (63 doublings + 5
 * mixed additions) in Jacobian coordinates on y² = x³ + 4 (a = 0):
 *   doubling dbl-2009-l (2M + 5S), mixed addition madd-2007-bl (7M + 4S),
 * with raw bigint arithmetic mod p. The result is compared to φ(P) projectively:
 *   X_R = βx·Z_R², −Y_R = y·Z_R³.
 */
import { Fp } from './field.ts';

const P = Fp.ORDER;
const Z_ABS = 0xd201000000010000n;
const BETA = 0x5f19672fdf76ce51ba69c6076a0f77eaddb3a93be6f89688de17d813620a00022e01fffffffefffen;
const Z_BITS = Z_ABS.toString(2);

const m = (a: bigint): bigint => {
  const r = a % P;
  return r < 0n ? r + P : r;
};

interface Jac {
  X: bigint;
  Y: bigint;
  Z: bigint;
}

/** [|z|]·(x, y) for an affine point (not the identity), Jacobian result (Z = 0: identity). */
function mulZ(x: bigint, y: bigint): Jac {
  let X = x;
  let Y = y;
  let Z = 1n;
  for (let i = 1; i < Z_BITS.length; i++) {
    if (Z === 0n) return { X: 1n, Y: 1n, Z: 0n };
    // dbl-2009-l
    const A = (X * X) % P;
    const B = (Y * Y) % P;
    const C = (B * B) % P;
    const xb = X + B;
    const D = m(2n * ((xb * xb) % P - A - C));
    const E = (3n * A) % P;
    const F = (E * E) % P;
    const X3 = m(F - 2n * D);
    const Y3 = m(E * (D - X3) - 8n * C);
    const Z3 = (2n * Y * Z) % P;
    X = X3;
    Y = Y3;
    Z = Z3;
    if (Z_BITS[i] === '1') {
      // madd-2007-bl: (X, Y, Z) + (x, y, 1)
      const Z1Z1 = (Z * Z) % P;
      const U2 = (x * Z1Z1) % P;
      const S2 = (((y * Z) % P) * Z1Z1) % P;
      const H = m(U2 - X);
      const r = m(2n * (S2 - Y));
      if (H === 0n) {
        if (r === 0n) throw new Error('mulZ: unexpected doubling (point of tiny order)');
        return { X: 1n, Y: 1n, Z: 0n };
      }
      const HH = (H * H) % P;
      const I = (4n * HH) % P;
      const J = (H * I) % P;
      const V = (X * I) % P;
      const X3a = m(r * r - J - 2n * V);
      const Y3a = m(r * (V - X3a) - 2n * ((Y * J) % P));
      const zh = Z + H;
      const Z3a = m((zh * zh) % P - Z1Z1 - HH);
      X = X3a;
      Y = Y3a;
      Z = Z3a;
    }
  }
  return { X, Y, Z };
}

/** Is the affine curve point (x, y) in the prime-order subgroup G1? */
export function isInG1(x: bigint, y: bigint): boolean {
  const q = mulZ(x, y);
  if (q.Z === 0n) return false; // [|z|]P = O: P has order dividing |z|, not r
  const zi = Fp.inv(q.Z);
  const zi2 = (zi * zi) % P;
  const qx = (q.X * zi2) % P;
  const qy = (((q.Y * zi2) % P) * zi) % P;
  const r = mulZ(qx, qy);
  if (r.Z === 0n) return false;
  const Z2 = (r.Z * r.Z) % P;
  const Z3 = (Z2 * r.Z) % P;
  // φ(P) = (βx, y) must equal −[z²]P = (X_R/Z², −Y_R/Z³)
  return (((BETA * x) % P) * Z2) % P === r.X && (y * Z3) % P === m(-r.Y);
}
