/**
 * Dense linear algebra for the profiler and the low-rank factoriser (PROTOCOLS.md §5.4
 * "random projections serve the profiler", §5.5 "a truncated SVD of Δ (randomized range
 * finder)"). Row-major `Float64Array` matrices; nothing here is used for soundness — a wrong
 * estimate can only make a recommendation too loose or a proof refuse, never a false proof.
 *
 * Contents:
 * - `matmul` A·B, `matmulTransA` Aᵀ·B, `matmulTransB` A·Bᵀ, `transpose`;
 * - `householderQr`: thin QR by Householder reflections (Golub & Van Loan, *Matrix
 *   Computations*, 4th ed., §5.2). Unlike Gram–Schmidt, Q stays orthonormal to working
 *   precision when the input is rank-deficient (a zero column gets an arbitrary orthonormal
 *   direction, and R a zero diagonal entry);
 * - `jacobiSvd`: one-sided (Hestenes) Jacobi SVD of a small matrix (Golub & Van Loan §8.6.3;
 *   Demmel & Veselić 1992 for its relative accuracy on small singular values);
 * - `randomizedSvd`: Halko, Martinsson & Tropp, "Finding structure with randomness" (SIAM
 *   Review 53(2), 2011), Algorithm 4.4 (randomized subspace iteration: q power iterations,
 *   each followed by re-orthonormalisation) with oversampling p = 8, then Algorithm 5.1
 *   (B = QᵀA, SVD of the small B, U = Q·U_B).
 *
 * Why hand-written: the JS linear-algebra libraries that exist are either unmaintained, lack a
 * seeded randomized SVD, or pull in WebAssembly/LAPACK builds; the few kernels needed here
 * are short, and writing them keeps one property that matters to fti: **bit-for-bit
 * determinism across machines**. Only +, −, ×, ÷ and `Math.sqrt` are used (the four are
 * correctly rounded by the ECMAScript spec, which also rules out fused multiply-add; the spec
 * leaves `Math.sqrt` implementation-approximated, but V8 and the other engines use the
 * correctly rounded hardware square root IEEE 754 requires), summation orders are fixed, and
 * the test matrix Ω is Rademacher (±1) from a seeded xoshiro128** generator — no
 * `Math.log`/`Math.cos`, whose last bit does differ between libm versions. So `fti profile`
 * on one machine and `fti certify` on another derive the same SVD factors from the same Δ.
 *
 * Streaming: the randomized SVD touches A only through a `LinearOperator` (X·Aᵀ and Y·A for
 * thin X, Y), and the dense operator computes both in one pass over A's rows with the thin
 * operands in cache, so a row-streaming operator (rows read from disk) plugs in unchanged.
 */

/** A dense row-major matrix: entry (i, j) is `data[i·cols + j]`. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

function checkDims(rows: number, cols: number, fn: string): void {
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 0) throw new Error(`${fn}: expected non-negative integer dimensions, got ${rows} × ${cols}`);
}

/** A rows × cols matrix over `data` (not copied), or zeros. */
export function matrix(rows: number, cols: number, data?: Float64Array): Matrix {
  checkDims(rows, cols, 'matrix');
  if (data === undefined) return { rows, cols, data: new Float64Array(rows * cols) };
  if (data.length !== rows * cols) throw new Error(`matrix: expected ${rows} × ${cols} = ${rows * cols} entries, got ${data.length}`);
  return { rows, cols, data };
}

/** Row i of M as a view (no copy). */
export function row(M: Matrix, i: number): Float64Array {
  return M.data.subarray(i * M.cols, (i + 1) * M.cols);
}

export function transpose(A: Matrix): Matrix {
  const { rows: m, cols: n, data: a } = A;
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j]!;
  return { rows: n, cols: m, data: t };
}

/** Above this many result entries, C no longer fits in cache: stream B per row of A instead. */
const OUTER_PRODUCT_LIMIT = 1 << 18;

/**
 * C[i, ·] += Σ_{t<4} A[i, k+t]·B[k+t, ·] for k = k0 (four rows of B at once, so each entry of
 * C is loaded and stored once per four products), or a single row when fewer are left.
 * Both loop orders of `matmul` call this with the same grouping, so they give the same bits.
 */
function accumulateRows(c: Float64Array, co: number, a: Float64Array, ao: number, b: Float64Array, k: number, p: number, n: number): number {
  if (k + 4 <= p) {
    const x0 = a[ao + k]!;
    const x1 = a[ao + k + 1]!;
    const x2 = a[ao + k + 2]!;
    const x3 = a[ao + k + 3]!;
    if (x0 !== 0 || x1 !== 0 || x2 !== 0 || x3 !== 0) {
      const b0 = k * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++) c[co + j]! += x0 * b[b0 + j]! + x1 * b[b1 + j]! + x2 * b[b2 + j]! + x3 * b[b3 + j]!;
    }
    return 4;
  }
  const x = a[ao + k]!;
  if (x !== 0) {
    const bo = k * n;
    for (let j = 0; j < n; j++) c[co + j]! += x * b[bo + j]!;
  }
  return 1;
}

/**
 * C = A·B. When C is small (the thin panels of the randomized SVD: ℓ × n) the rows of B are
 * the outer loop, so a large B is read once; otherwise B is streamed per row of A. Both orders
 * group the products identically (`accumulateRows`), so the result does not depend on it.
 */
export function matmul(A: Matrix, B: Matrix): Matrix {
  if (A.cols !== B.rows) throw new Error(`matmul: inner dimensions differ: ${A.rows} × ${A.cols} times ${B.rows} × ${B.cols}`);
  const m = A.rows;
  const p = A.cols;
  const n = B.cols;
  const a = A.data;
  const b = B.data;
  const c = new Float64Array(m * n);
  if (m * n <= OUTER_PRODUCT_LIMIT) {
    for (let k = 0; k < p; k += k + 4 <= p ? 4 : 1) {
      for (let i = 0; i < m; i++) accumulateRows(c, i * n, a, i * p, b, k, p, n);
    }
  } else {
    for (let i = 0; i < m; i++) {
      for (let k = 0; k < p; ) k += accumulateRows(c, i * n, a, i * p, b, k, p, n);
    }
  }
  return { rows: m, cols: n, data: c };
}

/** C = Aᵀ·B (A: m × p, B: m × n → p × n), one pass over the rows of A and B. */
export function matmulTransA(A: Matrix, B: Matrix): Matrix {
  if (A.rows !== B.rows) throw new Error(`matmulTransA: row counts differ: ${A.rows} × ${A.cols} and ${B.rows} × ${B.cols}`);
  const m = A.rows;
  const p = A.cols;
  const n = B.cols;
  const a = A.data;
  const b = B.data;
  const c = new Float64Array(p * n);
  for (let r = 0; r < m; r++) {
    const bo = r * n;
    for (let i = 0; i < p; i++) {
      const x = a[r * p + i]!;
      if (x === 0) continue;
      const co = i * n;
      for (let j = 0; j < n; j++) c[co + j]! += x * b[bo + j]!;
    }
  }
  return { rows: p, cols: n, data: c };
}

/**
 * C = A·Bᵀ (A: m × p, B: n × p → m × n): C[i,j] = ⟨A_i, B_j⟩. The outer loop runs over the
 * rows of B, so B (the large operand in X·Aᵀ of the range finder) is read once.
 */
export function matmulTransB(A: Matrix, B: Matrix): Matrix {
  if (A.cols !== B.cols) throw new Error(`matmulTransB: column counts differ: ${A.rows} × ${A.cols} and ${B.rows} × ${B.cols}`);
  const m = A.rows;
  const p = A.cols;
  const n = B.rows;
  const a = A.data;
  const b = B.data;
  const c = new Float64Array(m * n);
  for (let j = 0; j < n; j++) {
    const bo = j * p;
    let i = 0;
    // Four rows of A per pass over B_j: B_j is loaded once per four dot products.
    for (; i + 4 <= m; i += 4) {
      const a0 = i * p;
      const a1 = a0 + p;
      const a2 = a1 + p;
      const a3 = a2 + p;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < p; k++) {
        const y = b[bo + k]!;
        s0 += a[a0 + k]! * y;
        s1 += a[a1 + k]! * y;
        s2 += a[a2 + k]! * y;
        s3 += a[a3 + k]! * y;
      }
      c[i * n + j] = s0;
      c[(i + 1) * n + j] = s1;
      c[(i + 2) * n + j] = s2;
      c[(i + 3) * n + j] = s3;
    }
    for (; i < m; i++) {
      const ao = i * p;
      let s = 0;
      for (let k = 0; k < p; k++) s += a[ao + k]! * b[bo + k]!;
      c[i * n + j] = s;
    }
  }
  return { rows: m, cols: n, data: c };
}

/** ‖A‖_F² with a fixed summation order. */
export function frobeniusSquared(A: Matrix | Float64Array): number {
  const d = A instanceof Float64Array ? A : A.data;
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]! * d[i]!;
  return s;
}

/**
 * Householder QR of the k vectors stored as the rows of `P` (k × n), i.e. of the n × k matrix
 * Pᵀ. Returns the reflectors' output: `Qt` (p × n, p = min(k, n), rows orthonormal, spanning
 * the rows of P when they are independent) and `R` (p × k, upper triangular) with Pᵀ = Qᵀᵀ·R.
 * Working on rows keeps every inner loop contiguous.
 */
function householderRows(P: Matrix): { Qt: Matrix; R: Matrix } {
  const k = P.rows;
  const n = P.cols;
  const p = Math.min(k, n);
  const w = Float64Array.from(P.data);
  const vs: (Float64Array | null)[] = [];
  const R = new Float64Array(p * k);
  for (let j = 0; j < p; j++) {
    const wo = j * n;
    let norm2 = 0;
    for (let t = j; t < n; t++) norm2 += w[wo + t]! * w[wo + t]!;
    if (norm2 === 0) {
      // A zero column: no reflector (H = I); R gets a zero pivot, Q keeps e_j's image.
      vs.push(null);
    } else {
      const norm = Math.sqrt(norm2);
      const x0 = w[wo + j]!;
      // α = −sign(x0)·‖x‖ avoids cancellation in v = x − α e_1.
      const alpha = x0 >= 0 ? -norm : norm;
      const v = w.slice(wo + j, wo + n);
      v[0] = x0 - alpha;
      const vnorm = Math.sqrt(norm2 - x0 * x0 + v[0] * v[0]);
      for (let t = 0; t < v.length; t++) v[t] = v[t]! / vnorm;
      vs.push(v);
      w[wo + j] = alpha;
      for (let t = j + 1; t < n; t++) w[wo + t] = 0;
      // Apply H_j = I − 2vvᵀ to the later vectors.
      for (let i = j + 1; i < k; i++) {
        const io = i * n + j;
        let d = 0;
        for (let t = 0; t < v.length; t++) d += v[t]! * w[io + t]!;
        d *= 2;
        if (d !== 0) for (let t = 0; t < v.length; t++) w[io + t]! -= d * v[t]!;
      }
    }
    // Row j of R: the j-th coordinates of vectors j..k−1 once H_0..H_j are applied.
    for (let i = j; i < k; i++) R[j * k + i] = w[i * n + j]!;
  }
  // q_i = H_0·H_1·…·H_{p−1}·e_i; H_j with j > i leaves e_i unchanged (v_j lives on t ≥ j).
  const Qt = new Float64Array(p * n);
  for (let i = 0; i < p; i++) {
    const qo = i * n;
    Qt[qo + i] = 1;
    for (let j = i; j >= 0; j--) {
      const v = vs[j];
      if (!v) continue;
      const o = qo + j;
      let d = 0;
      for (let t = 0; t < v.length; t++) d += v[t]! * Qt[o + t]!;
      d *= 2;
      if (d !== 0) for (let t = 0; t < v.length; t++) Qt[o + t]! -= d * v[t]!;
    }
  }
  return { Qt: { rows: p, cols: n, data: Qt }, R: { rows: p, cols: k, data: R } };
}

/**
 * Thin QR: A (m × n) = Q·R with Q: m × p orthonormal columns, R: p × n upper triangular,
 * p = min(m, n). Rank-deficient A still gets an orthonormal Q (zero pivots in R).
 */
export function householderQr(A: Matrix): { Q: Matrix; R: Matrix } {
  const { Qt, R } = householderRows(transpose(A));
  return { Q: transpose(Qt), R };
}

const JACOBI_TOLERANCE = 1e-15;
const JACOBI_MAX_SWEEPS = 80;

/**
 * One-sided Jacobi on the rows of P (k × n): plane rotations of row pairs until every pair is
 * orthogonal to working precision. Returns W = G·P with orthogonal rows and G (k × k,
 * orthogonal), both sorted by descending row norm, and the norms (the singular values of P):
 * P = Gᵀ·W, so P = U·Σ·Vᵀ with U = Gᵀ, Σ = norms, Vᵀ = W's rows normalised.
 */
function jacobiRows(P: Matrix): { W: Float64Array; G: Float64Array; sigma: Float64Array } {
  const k = P.rows;
  const n = P.cols;
  const w = Float64Array.from(P.data);
  const g = new Float64Array(k * k);
  for (let i = 0; i < k; i++) g[i * k + i] = 1;
  for (let sweep = 0; sweep < JACOBI_MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < k - 1; p++) {
      for (let q = p + 1; q < k; q++) {
        const po = p * n;
        const qo = q * n;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let t = 0; t < n; t++) {
          const x = w[po + t]!;
          const y = w[qo + t]!;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= JACOBI_TOLERANCE * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        // The rotation that zeroes ⟨w_p, w_q⟩ (Golub & Van Loan Alg. 8.5.1, symmetric Schur 2×2).
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let u = 0; u < n; u++) {
          const x = w[po + u]!;
          const y = w[qo + u]!;
          w[po + u] = c * x - s * y;
          w[qo + u] = s * x + c * y;
        }
        const gp = p * k;
        const gq = q * k;
        for (let u = 0; u < k; u++) {
          const x = g[gp + u]!;
          const y = g[gq + u]!;
          g[gp + u] = c * x - s * y;
          g[gq + u] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let t = 0; t < n; t++) s += w[i * n + t]! * w[i * n + t]!;
    norms[i] = Math.sqrt(s);
  }
  // Stable sort by descending norm (ties keep their order: deterministic).
  const order = Array.from({ length: k }, (_, i) => i).sort((x, y) => norms[y]! - norms[x]! || x - y);
  const W = new Float64Array(k * n);
  const G = new Float64Array(k * k);
  const sigma = new Float64Array(k);
  order.forEach((from, to) => {
    W.set(w.subarray(from * n, from * n + n), to * n);
    G.set(g.subarray(from * k, from * k + k), to * k);
    sigma[to] = norms[from]!;
  });
  return { W, G, sigma };
}

/** A thin SVD: A ≈ Σ_j S_j·u_j·v_jᵀ with u_j = row j of Ut, v_j = row j of Vt, S descending. */
export interface Svd {
  /** Singular values, descending. */
  readonly S: Float64Array;
  /** c × rows: left singular vectors as rows. */
  readonly Ut: Matrix;
  /** c × cols: right singular vectors as rows (Vᵀ). */
  readonly Vt: Matrix;
}

/** Normalise the rows of W (k × n) by sigma; rows with σ = 0 stay zero (no direction exists). */
function normalisedRows(W: Float64Array, sigma: Float64Array, n: number): Float64Array {
  const out = new Float64Array(W.length);
  for (let i = 0; i < sigma.length; i++) {
    const s = sigma[i]!;
    if (s === 0) continue;
    for (let t = 0; t < n; t++) out[i * n + t] = W[i * n + t]! / s;
  }
  return out;
}

/**
 * Thin SVD of a small matrix by one-sided Jacobi: A (m × n) = Utᵀ·diag(S)·Vt with
 * c = min(m, n) components. Singular vectors of zero singular values are returned as zero
 * rows (the factorisation still holds; the profiler and factoriser never need them).
 * Cost O(sweeps · c² · max(m, n)): meant for the ℓ × n sketch, not for a whole tensor.
 */
export function jacobiSvd(A: Matrix): Svd {
  const m = A.rows;
  const n = A.cols;
  if (m <= n) {
    // Orthogonalise the rows: A = Gᵀ·W, so U = Gᵀ (Ut = G), Vᵀ = W / σ.
    const { W, G, sigma } = jacobiRows(A);
    return { S: sigma, Ut: { rows: m, cols: m, data: G }, Vt: { rows: m, cols: n, data: normalisedRows(W, sigma, n) } };
  }
  const t = jacobiSvd(transpose(A));
  return { S: t.S, Ut: t.Vt, Vt: t.Ut };
}

/**
 * Seeded xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
 * 2018), state expanded from the seed by splitmix32. Not cryptographic: it only makes the
 * profiler's sketches reproducible.
 */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number | string) {
    let x = typeof seed === 'number' ? seed >>> 0 : fnv1a(seed);
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Fill `out` with independent ±1 (Rademacher) entries, 32 per draw. */
  fillRademacher(out: Float64Array): Float64Array {
    for (let i = 0; i < out.length; i += 32) {
      const bits = this.nextUint32();
      const end = Math.min(32, out.length - i);
      for (let b = 0; b < end; b++) out[i + b] = (bits >>> b) & 1 ? 1 : -1;
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** FNV-1a over the UTF-16 code units of a string seed (e.g. a tensor name). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A matrix A (rows × cols) seen only through products with thin matrices, as the
 * randomized SVD needs. Both products take and return *panels*: k vectors stored as rows.
 */
export interface LinearOperator {
  readonly rows: number;
  readonly cols: number;
  /** X·Aᵀ for X: k × cols (the k vectors A·x_j, as rows). */
  timesTransposed(X: Matrix): Matrix;
  /** Y·A for Y: k × rows (the k vectors Aᵀ·y_j, as rows). */
  leftTimes(Y: Matrix): Matrix;
}

/** The dense operator: both products are one pass over the rows of A. */
export function denseOperator(A: Matrix): LinearOperator {
  return {
    rows: A.rows,
    cols: A.cols,
    timesTransposed: (X) => matmulTransB(X, A),
    leftTimes: (Y) => matmul(Y, A),
  };
}

export interface RandomizedSvdOptions {
  /** p: extra sketch vectors beyond the target rank (HMT §4.2 recommends 5–10). Default 8. */
  readonly oversampling?: number;
  /** q: power iterations (HMT Alg. 4.4). Default 2. */
  readonly powerIterations?: number;
  /** Seed of the Rademacher test matrix Ω. Default 0. */
  readonly seed?: number | string;
}

export const DEFAULT_OVERSAMPLING = 8;
export const DEFAULT_POWER_ITERATIONS = 2;

/**
 * Randomized truncated SVD (HMT 2011, Alg. 4.4 then Alg. 5.1). With ℓ = min(k + p, m, n):
 *   Ω ∈ {±1}^(n×ℓ);  Q = orth(A·Ω);  q times: Q̃ = orth(Aᵀ·Q), Q = orth(A·Q̃);
 *   B = Qᵀ·A (ℓ × n);  B = U_B·Σ·Vᵀ (Jacobi);  U = Q·U_B.
 * Returns all ℓ components (the first k are the requested ones; the p extra ones are less
 * accurate but still exact singular triplets of the projection Q·Qᵀ·A). With B_j the rank-j
 * truncation of B, A − Q·B_j = (A − Q·Qᵀ·A) + Q·(B − B_j), two Frobenius-orthogonal parts,
 * so the residual of the rank-j approximation Σ_{i<j} S_i u_i v_iᵀ is
 * √(‖A‖_F² − Σ_{i<j} S_i²) (up to rounding) — an upper bound on the best rank-j residual. When ℓ = min(m, n) the sketch is the whole space and the SVD
 * is exact up to rounding. Tall, wide, rank-deficient and zero A are all handled (zero
 * singular values come with zero vectors).
 */
export function randomizedSvd(A: Matrix | LinearOperator, k: number, options: RandomizedSvdOptions = {}): Svd {
  const op = 'data' in A ? denseOperator(A) : A;
  const m = op.rows;
  const n = op.cols;
  const p = options.oversampling ?? DEFAULT_OVERSAMPLING;
  const q = options.powerIterations ?? DEFAULT_POWER_ITERATIONS;
  if (!Number.isSafeInteger(k) || k < 1) throw new Error(`randomizedSvd: expected a target rank k ≥ 1, got ${k}`);
  if (!Number.isSafeInteger(p) || p < 0) throw new Error(`randomizedSvd: expected oversampling p ≥ 0, got ${p}`);
  if (!Number.isSafeInteger(q) || q < 0) throw new Error(`randomizedSvd: expected power iterations q ≥ 0, got ${q}`);
  const ell = Math.min(k + p, m, n);
  if (ell === 0) return { S: new Float64Array(0), Ut: matrix(0, m), Vt: matrix(0, n) };
  const rng = new SeededRandom(options.seed ?? 0);
  const omega = matrix(ell, n, rng.fillRademacher(new Float64Array(ell * n)));
  // Panels: the rows of Qt are the columns of Q (m-vectors).
  let Qt = householderRows(op.timesTransposed(omega)).Qt;
  for (let i = 0; i < q; i++) {
    const Zt = householderRows(op.leftTimes(Qt)).Qt;
    Qt = householderRows(op.timesTransposed(Zt)).Qt;
  }
  // B = Qᵀ·A: its rows are the rows of the panel Qt·A.
  const B = op.leftTimes(Qt);
  const { W, G, sigma } = jacobiRows(B);
  // B = Gᵀ·W ⇒ A ≈ Q·Gᵀ·W: left vectors u_j = Q·(row j of G) = Σ_i G[j,i]·Qt_i.
  const Ut = matmul({ rows: ell, cols: ell, data: G }, Qt);
  // A zero singular value has no meaningful direction: return a zero vector, as for V.
  for (let j = 0; j < ell; j++) if (sigma[j] === 0) Ut.data.fill(0, j * m, (j + 1) * m);
  return { S: sigma, Ut, Vt: { rows: ell, cols: n, data: normalisedRows(W, sigma, n) } };
}

/**
 * Round to the nearest integer, ties to even (PROTOCOLS.md §1's q(w) = roundHalfEven(w·2^s)).
 * Exact for every finite double: x − ⌊x⌋ is exact below 2^52, and above it x is an integer.
 * Non-finite input is returned as is; callers reject it with the tensor's name.
 */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** 2^⌈log2 x⌉ for x ≥ 1 (1 for x ≤ 1). */
export function nextPowerOfTwo(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}
