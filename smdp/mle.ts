/**
 * Multilinear extensions over the boolean hypercube (PROTOCOLS.md §1). A vector v of length
 * 2^μ has ṽ(X) = Σ_b v_b·eq(b, X), eq(b, X) = Π_i (b_i X_i + (1−b_i)(1−X_i)). Index bit i
 * (least significant first) is variable X_{i+1}: so X_1..X_μy are column bits of a tile.
 */
import { Fr, R } from './field.ts';

/** eq(b, X) for all b ∈ {0,1}^μ, index LSB-first: out[i] = eq(bits(i), point). */
export function eqTable(point: readonly bigint[]): bigint[] {
  let table: bigint[] = [1n];
  for (let k = 0; k < point.length; k++) {
    const x = point[k]!;
    const next = new Array<bigint>(table.length * 2);
    const half = table.length;
    for (let i = 0; i < half; i++) {
      const e = table[i]!;
      const hi = Fr.mul(e, x);
      next[i] = Fr.sub(e, hi); // e·(1 − x)
      next[i + half] = hi;
    }
    table = next;
  }
  return table;
}

/** eq(a, b) = Π (a_i b_i + (1−a_i)(1−b_i)) for two points of equal length. */
export function eqEval(a: readonly bigint[], b: readonly bigint[]): bigint {
  if (a.length !== b.length) throw new Error(`eqEval: expected points of equal length, got ${a.length} and ${b.length}`);
  let acc = 1n;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    const bi = b[i]!;
    // a·b + (1−a)(1−b) = 1 − a − b + 2ab
    const t = Fr.add(Fr.sub(Fr.sub(1n, ai), bi), Fr.mul(2n, Fr.mul(ai, bi)));
    acc = Fr.mul(acc, t);
  }
  return acc;
}

/**
 * Fix the lowest remaining variable to x: out[j] = f[2j] + x·(f[2j+1] − f[2j]).
 * This is one round of both the sumcheck prover and the PST opening (PROTOCOLS §2).
 */
export function foldLowest(f: readonly bigint[], x: bigint): bigint[] {
  const half = f.length >> 1;
  const out = new Array<bigint>(half);
  for (let j = 0; j < half; j++) {
    const f0 = f[2 * j]!;
    const f1 = f[2 * j + 1]!;
    out[j] = f1 === f0 ? f0 : Fr.add(f0, Fr.mul(x, Fr.sub(f1, f0)));
  }
  return out;
}

/** ṽ(point) by successive folding, O(2^μ). */
export function evaluateMle(values: readonly bigint[], point: readonly bigint[]): bigint {
  if (values.length !== 1 << point.length) {
    throw new Error(`evaluateMle: expected ${1 << point.length} values for ${point.length} variables, got ${values.length}`);
  }
  let t: readonly bigint[] = values;
  for (const x of point) t = foldLowest(t, x);
  return t[0]!;
}

/** Embed signed safe integers into Fr (negative x ↦ r − |x|). */
export function toField(values: ArrayLike<number>): bigint[] {
  const out = new Array<bigint>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = v >= 0 ? BigInt(v) : R + BigInt(v);
  }
  return out;
}

/** log2 of a power of two, or an error naming what was expected. */
export function log2Exact(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || (n & (n - 1)) !== 0) throw new Error(`${what}: expected a power of two, got ${n}`);
  return 31 - Math.clz32(n);
}

/** 1, x, x², …, x^(n−1) in Fr (batching coefficients). */
export function powers(x: bigint, n: number): bigint[] {
  const out: bigint[] = [];
  let p = 1n;
  for (let i = 0; i < n; i++) {
    out.push(p);
    p = Fr.mul(p, x);
  }
  return out;
}
