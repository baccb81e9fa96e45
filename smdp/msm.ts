/**
 * Multi-scalar multiplication (MSM) over BLS12-381 G1 in pure JS bigint arithmetic.
 *
 *     MSM(P, s) = Σ_i s_i·P_i
 *
 * A multilinear KZG commitment C = Σ_b v_b·L[b] has fixed affine SRS points L[b] and SMALL
 * signed weights v_b (24–40 bits). A generic Pippenger (noble's `pippenger`) walks all 255 bits
 * of every scalar with complete projective additions (~11–14 µs each). This file does three
 * things differently; together they are ≈ 15–20× faster for 32-bit scalars at n = 2^12 … 2^16
 * (≈ 2.5× for uniform 255-bit scalars, where only the cheaper additions help); see bench/msm.ts.
 *
 * 1. Signed (balanced) windows sized to the actual scalars.
 *    Write |s| = Σ_w d_w·2^(c·w) with digits d_w ∈ (−2^(c−1), 2^(c−1)]: take u = m mod 2^c; if
 *    u > 2^(c−1) use d = u − 2^c and carry 1 into the next window (m ← (m − d)/2^c). Then
 *    s·P = Σ_w 2^(c·w)·d_w·P, and a negative digit means adding −P = (x, p − y), which is free
 *    in affine coordinates. So a window needs only 2^(c−1) buckets (|d| = 1 … 2^(c−1)) instead
 *    of 2^c − 1, and the number of windows is set by the largest |s| actually present (a scan
 *    first), so 32-bit scalars use ⌈33/c⌉ windows, not ⌈255/c⌉. For |s| < 2^53 the digits are
 *    computed with exact JS number arithmetic, no bigint per digit. The window width c is
 *    chosen by a small cost model (see `chooseWindow`) that trades bucket-accumulation work
 *    (≈ n − #non-empty buckets additions per window) against bucket-reduction work
 *    (≈ 2 batch-affine additions per bucket per window).
 *
 * 2. Batch-affine bucket accumulation.
 *    Within a window every point goes to bucket |d|. We counting-sort the (point, ±) entries by
 *    bucket, so each bucket is a contiguous segment, and then sum all segments by a pairwise
 *    tree: in each round, entries (0,1), (2,3), … of every segment are added, and ALL these
 *    additions (across all buckets) are independent. An affine addition
 *        λ = (y2 − y1)/(x2 − x1),  x3 = λ² − x1 − x2,  y3 = λ·(x1 − x3) − y1
 *    costs one inversion; Montgomery's trick inverts k denominators d_1 … d_k with ONE field
 *    inversion plus 3(k−1) multiplications (prefix products a_j = d_1⋯d_j, invert a_k, then
 *    walk back: d_j^{-1} = a_k^{-1}·a_{j−1}, a_{j−1}^{-1} = a_j^{-1}·d_j). So one addition costs
 *    ≈ 6 modular multiplications (≈ 4.3 µs measured) instead of the ≈ 14 multiplications plus
 *    ≈ 20 reduced additions of noble's complete projective formula. Pairing inside segments means no two
 *    additions of a round touch the same bucket, so no collision handling is needed; a round
 *    halves every segment, so there are ⌈log2(max segment)⌉ rounds. Special cases (rare but
 *    handled): x1 = x2, y1 = y2 is a doubling, λ = 3x1²/(2y1) (a = 0 on BLS12-381: y² = x³ + 4);
 *    x1 = x2, y1 ≠ y2 means P2 = −P1 and the pair sums to the identity and is dropped.
 *    Coordinates are kept canonical in [0, p) so equality tests are plain `===`; intermediate
 *    differences may be negative, which `%` (truncating) keeps in (−p, p) and that is fine for
 *    products (same residue class).
 *
 * 3. Bucket reduction by chunked running sums, also batch-affine; windows by Horner.
 *    Σ_{d=1}^{B} d·S_d = Σ_{d=1}^{B} (Σ_{e≥d} S_e): keep a running suffix sum and add it to a
 *    total once per bucket, 2 additions per bucket. One running sum is sequential, so the
 *    bucket range of every window is cut into K chunks and all W·K chunk sums advance in
 *    lockstep, one batch inversion per step (see `reduceWindows` for the chunk algebra); the
 *    few chunk results are combined with noble projective points. Windows combine by Horner:
 *    Σ_w 2^(c·w)·T_w = ((T_{W−1}·2^c + T_{W−2})·2^c + …) + T_0.
 *
 * Field arithmetic is raw bigint `(a*b) % p` with unreduced differences: ≈ 7% faster than
 * `Fp.mul`/`Fp.sub` here (same `%` reduction, but no call and no sign fix-up where the sign
 * provably does not matter). The `%` of a 762-bit product (≈ 0.4 µs) dominates everything.
 *
 * `subsetSum` is the 1-bit case (one bucket, no windows). `msmFull` uses the same machinery on
 * 255-bit scalars: s > r/2 is replaced by −(r − s) so magnitudes have ≤ 254 bits, and each
 * scalar is split into 32-bit words once, from which the signed digits are read.
 *
 * Everything here is deterministic, synchronous and variable-time (all inputs are public).
 */
import type { ProverKernels } from './kernels.ts';
import { Fp, G1, R } from './field.ts';
import type { G1Affine, G1Point } from './field.ts';

/** The base-field modulus p of BLS12-381 (381 bits). */
const P: bigint = Fp.ORDER;
const HALF_R: bigint = R >> 1n;

/** Kinds of operations within one batch of affine additions. */
const PAIR_ADD = 0; // x1 ≠ x2: chord, λ = (y2 − y1)/(x2 − x1)
const PAIR_DOUBLE = 1; // P1 = P2: tangent, λ = 3x1²/(2y1)
const PAIR_CANCEL = 2; // P2 = −P1: the sum is the identity
const PAIR_COPY = 3; // P1 = O: the sum is P2, nothing to invert

/**
 * Per-batch arrays of Montgomery's batch inversion: the denominators (overwritten in place by
 * their inverses), their prefix products and the kind of each addition.
 */
class BatchScratch {
  readonly den: bigint[];
  readonly prefix: bigint[];
  readonly kind: Uint8Array;

  constructor(capacity: number) {
    const size = Math.max(1, capacity);
    // Filled with 0n (not `new Array(n)`) so V8 keeps them as packed element arrays.
    this.den = new Array<bigint>(size).fill(0n);
    this.prefix = new Array<bigint>(size).fill(0n);
    this.kind = new Uint8Array(size);
  }
}

/**
 * Pass 1 for one addition P1 + P2 (both finite, canonical coordinates): records its kind and
 * denominator in slot j and returns the running product of all denominators so far.
 */
function scheduleAddition(
  scratch: BatchScratch,
  j: number,
  x1: bigint,
  y1: bigint,
  x2: bigint,
  y2: bigint,
  product: bigint,
): bigint {
  let d: bigint;
  if (x1 !== x2) {
    d = x2 - x1; // in (−p, p) \ {0}; the sign is harmless for products mod p
    scratch.kind[j] = PAIR_ADD;
  } else if (y1 === y2 && y1 !== 0n) {
    d = y1 << 1n;
    scratch.kind[j] = PAIR_DOUBLE;
  } else {
    d = 1n; // P + (−P) = O (y = 0 would be 2-torsion, absent from the prime-order group)
    scratch.kind[j] = PAIR_CANCEL;
  }
  scratch.den[j] = d;
  if (d !== 1n) product = (product * d) % P;
  scratch.prefix[j] = product;
  return product;
}

/**
 * Pass 2: given a_j = d_0⋯d_j in `prefix` and the total product, replaces every d_j by d_j^{-1}
 * with one field inversion: walking back, d_j^{-1} = a_j^{-1}·a_{j−1} and a_{j−1}^{-1} = a_j^{-1}·d_j.
 * Entries with d_j = 1 (cancellations and copies use 1) are left out of the product; d = 1 is
 * its own inverse, so skipping it changes nothing.
 */
function invertDenominators(scratch: BatchScratch, count: number, product: bigint): void {
  const { den, prefix } = scratch;
  if (product < 0n) product += P;
  let inv = product === 1n ? 1n : Fp.inv(product);
  for (let j = count - 1; j > 0; j--) {
    const d = den[j]!;
    den[j] = (inv * prefix[j - 1]!) % P;
    if (d !== 1n) inv = (inv * d) % P;
  }
  if (count > 0) den[0] = inv;
}

/**
 * Pass 3 for a chord or tangent: (x3, y3) = P1 + P2 from λ's inverted denominator, written to
 * slot `at` of (xs, ys) in canonical form:
 *   λ = (y2 − y1)·inv (chord) or 3x1²·inv (tangent),  x3 = λ² − x1 − x2,  y3 = λ(x1 − x3) − y1.
 */
function writeAffineSum(
  kind: number,
  x1: bigint,
  y1: bigint,
  x2: bigint,
  y2: bigint,
  inv: bigint,
  xs: bigint[],
  ys: bigint[],
  at: number,
): void {
  const lambda = kind === PAIR_ADD ? ((y2 - y1) * inv) % P : (((3n * x1 * x1) % P) * inv) % P;
  let x3 = (lambda * lambda - x1 - x2) % P;
  if (x3 < 0n) x3 += P;
  let y3 = (lambda * (x1 - x3) - y1) % P;
  if (y3 < 0n) y3 += P;
  xs[at] = x3;
  ys[at] = y3;
}

/**
 * Scratch space for bucket accumulation: entries sorted by bucket (segment b is
 * [start[b], start[b] + len[b]) of xs/ys). Coordinates live in flat bigint arrays, so the
 * inner loops allocate no point objects.
 */
class BucketWorkspace {
  readonly xs: bigint[];
  readonly ys: bigint[];
  readonly batch: BatchScratch;
  readonly start: Int32Array;
  readonly len: Int32Array;
  readonly active: Int32Array;

  constructor(entryCapacity: number, bucketCapacity: number) {
    this.xs = new Array<bigint>(entryCapacity).fill(0n);
    this.ys = new Array<bigint>(entryCapacity).fill(0n);
    this.batch = new BatchScratch(entryCapacity >>> 1);
    this.start = new Int32Array(bucketCapacity + 1);
    this.len = new Int32Array(bucketCapacity + 1);
    this.active = new Int32Array(bucketCapacity + 1);
  }
}

/**
 * Sums every bucket segment in place by a pairwise tree of batch-affine additions; afterwards
 * each bucket b in 1..bucketCount has len[b] ∈ {0, 1} (0 = identity / empty).
 */
function sumBucketSegments(ws: BucketWorkspace, bucketCount: number): void {
  const { xs, ys, batch, start, len, active } = ws;
  let activeCount = 0;
  for (let b = 1; b <= bucketCount; b++) if (len[b]! >= 2) active[activeCount++] = b;

  while (activeCount > 0) {
    // Pass 1: pair up entries (0,1), (2,3), … of every active segment.
    let pairs = 0;
    let product = 1n;
    for (let a = 0; a < activeCount; a++) {
      const b = active[a]!;
      const s = start[b]!;
      const end = s + (len[b]! & ~1);
      for (let i = s; i < end; i += 2) {
        product = scheduleAddition(batch, pairs++, xs[i]!, ys[i]!, xs[i + 1]!, ys[i + 1]!, product);
      }
    }
    invertDenominators(batch, pairs, product);

    // Pass 3: finish each addition and compact the results to the segment's front.
    // Writing at w ≤ i never clobbers an entry that is still to be read.
    let pair = 0;
    let stillActive = 0;
    for (let a = 0; a < activeCount; a++) {
      const b = active[a]!;
      const s = start[b]!;
      const length = len[b]!;
      const end = s + (length & ~1);
      let w = s;
      for (let i = s; i < end; i += 2, pair++) {
        const kind = batch.kind[pair]!;
        if (kind === PAIR_CANCEL) continue;
        writeAffineSum(kind, xs[i]!, ys[i]!, xs[i + 1]!, ys[i + 1]!, batch.den[pair]!, xs, ys, w++);
      }
      if (length & 1) {
        xs[w] = xs[s + length - 1]!;
        ys[w] = ys[s + length - 1]!;
        w++;
      }
      len[b] = w - s;
      if (w - s >= 2) active[stillActive++] = b;
    }
    activeCount = stillActive;
  }
}

/**
 * A set of affine point slots, each possibly the identity, updated by batches of independent
 * additions `slot[dst_k] ← slot[dst_k] + slot[src_k]`.
 */
class SlotTable {
  readonly xs: bigint[];
  readonly ys: bigint[];
  /** 1 where the slot holds the identity. */
  readonly isZero: Uint8Array;

  constructor(size: number) {
    this.xs = new Array<bigint>(size).fill(0n);
    this.ys = new Array<bigint>(size).fill(0n);
    this.isZero = new Uint8Array(size).fill(1);
  }

  point(slot: number): G1Point | undefined {
    return this.isZero[slot] === 1 ? undefined : G1.fromAffine({ x: this.xs[slot]!, y: this.ys[slot]! });
  }
}

/**
 * Performs slot[dst_k] += slot[src_k] for k < count with one batch inversion. Sources must be
 * finite and destinations distinct; an operation may read a slot that a LATER operation of the
 * same batch writes (pass 3 runs in order), but never one written by an earlier operation.
 */
function addSlots(table: SlotTable, dst: Int32Array, src: Int32Array, count: number, scratch: BatchScratch): void {
  const { xs, ys, isZero } = table;
  let product = 1n;
  for (let k = 0; k < count; k++) {
    const t = dst[k]!;
    const s = src[k]!;
    if (isZero[t] === 1) {
      scratch.kind[k] = PAIR_COPY;
      scratch.den[k] = 1n;
      scratch.prefix[k] = product;
    } else {
      product = scheduleAddition(scratch, k, xs[t]!, ys[t]!, xs[s]!, ys[s]!, product);
    }
  }
  invertDenominators(scratch, count, product);
  for (let k = 0; k < count; k++) {
    const t = dst[k]!;
    const s = src[k]!;
    const kind = scratch.kind[k]!;
    if (kind === PAIR_COPY) {
      xs[t] = xs[s]!;
      ys[t] = ys[s]!;
      isZero[t] = 0;
    } else if (kind === PAIR_CANCEL) {
      isZero[t] = 1;
    } else {
      writeAffineSum(kind, xs[t]!, ys[t]!, xs[s]!, ys[s]!, scratch.den[k]!, xs, ys, t);
    }
  }
}

/**
 * Counting-sorts the window's entries into bucket segments: entry i goes to bucket |d_i| with
 * the point P_i (d_i > 0) or −P_i = (x_i, p − y_i) (d_i < 0); zero digits are skipped.
 */
function fillBuckets(
  ws: BucketWorkspace,
  points: readonly G1Affine[],
  negY: readonly bigint[],
  digits: Int32Array,
  offset: number,
  n: number,
  bucketCount: number,
): void {
  const { xs, ys, start, len } = ws;
  len.fill(0, 0, bucketCount + 1);
  for (let i = 0; i < n; i++) {
    const d = digits[offset + i]!;
    if (d !== 0) len[d < 0 ? -d : d]!++;
  }
  let pos = 0;
  for (let b = 1; b <= bucketCount; b++) {
    start[b] = pos;
    pos += len[b]!;
  }
  // Reuse `len` as the fill cursor; it counts back up to the segment lengths.
  len.fill(0, 0, bucketCount + 1);
  for (let i = 0; i < n; i++) {
    const d = digits[offset + i]!;
    if (d === 0) continue;
    const b = d < 0 ? -d : d;
    const at = start[b]! + len[b]!++;
    const pt = points[i]!;
    xs[at] = pt.x;
    ys[at] = d > 0 ? pt.y : negY[i]!;
  }
}

/** Relative costs for the window-size model, in units of one batch-affine addition (≈ 6 M). */
const COST_AFFINE_ADD = 1;
/** Bucket reduction: two batch-affine additions per bucket (running sum and total). */
const COST_BUCKET_REDUCE = 2.2;
/** Counting sort and bookkeeping per (point, window) entry. */
const COST_ENTRY = 0.05;
/** One projective (noble) addition or doubling. */
const COST_PROJECTIVE = 3;
/** One field inversion (extended Euclid, ≈ 60 µs). */
const COST_INVERSION = 12;
/** Per chunk and window in the reduction: ≈ 3 projective additions to combine chunk results. */
const COST_CHUNK = 3 * COST_PROJECTIVE;
const MAX_WINDOW_BITS = 20;

interface WindowPlan {
  /** Window width c. */
  readonly bits: number;
  /** Number of windows W. */
  readonly windows: number;
}

/**
 * Balanced-digit chain of the largest magnitude M: m ← ⌊(m + 2^(c−1) − 1)/2^c⌋ is monotone in m,
 * so M needs the most windows and has the largest top digit of all |s| ≤ M.
 */
function windowShape(maxMagnitude: bigint, c: number): { windows: number; topDigit: number } {
  const shift = BigInt(c);
  const halfMinusOne = (1n << (shift - 1n)) - 1n;
  let m = maxMagnitude;
  let windows = 0;
  let last = 0n;
  while (m > 0n) {
    last = m;
    m = (m + halfMinusOne) >> shift;
    windows++;
  }
  return { windows, topDigit: Number(last) };
}

/** Expected number of non-empty buckets when `entries` digits fall uniformly into `buckets`. */
function expectedNonEmpty(buckets: number, entries: number): number {
  return buckets * -Math.expm1(entries * Math.log1p(-1 / buckets));
}

/**
 * Number K of chunks per window in the batched bucket reduction. With m = ⌈B/K⌉ lockstep
 * steps (one inversion each) and K chunk results per window to combine projectively, the
 * overhead m·Inv + W·K·Chunk is smallest at K = √(Inv·B / (Chunk·W)).
 */
function chooseChunks(maxBuckets: number, windows: number): number {
  const k = Math.round(Math.sqrt((COST_INVERSION * maxBuckets) / (COST_CHUNK * windows)));
  return Math.min(maxBuckets, Math.max(1, k));
}

/**
 * Picks the window width c minimising the modelled cost
 *   Σ_w [ (n − E[non-empty buckets_w])·A + B_w·Reduce + n·Entry ]
 *   + 2·√(Inv·Chunk·W·B) (chunked-reduction overhead) + W·(c + 1)·Proj (Horner).
 */
function chooseWindow(n: number, maxMagnitude: bigint): WindowPlan {
  let best: WindowPlan = { bits: 1, windows: 0 };
  let bestCost = Infinity;
  for (let c = 1; c <= MAX_WINDOW_BITS; c++) {
    const { windows, topDigit } = windowShape(maxMagnitude, c);
    const fullBuckets = windows > 1 ? 2 ** (c - 1) : topDigit;
    let cost = windows * (c + 1) * COST_PROJECTIVE;
    cost += 2 * Math.sqrt(COST_INVERSION * COST_CHUNK * windows * fullBuckets);
    for (let w = 0; w < windows; w++) {
      const buckets = w === windows - 1 ? topDigit : fullBuckets;
      cost += Math.max(0, n - expectedNonEmpty(buckets, n)) * COST_AFFINE_ADD;
      cost += buckets * COST_BUCKET_REDUCE + n * COST_ENTRY;
    }
    if (cost < bestCost) {
      bestCost = cost;
      best = { bits: c, windows };
    }
  }
  return best;
}

/**
 * Σ_w 2^(c·w)·Σ_d d·S_{w,d} for bucket sums S_{w,d} (d = 1 … B_w) held in `table` at slot
 * bucketBase + w·maxBuckets + d − 1.
 *
 * Each window's bucket range is cut into K chunks of m = ⌈B/K⌉ buckets; chunk j covers
 * d ∈ (j·m, (j+1)·m]. All W·K chunks run their running sums in lockstep, so one step is one
 * batch of up to 2·W·K independent affine additions sharing one inversion. For chunk j,
 * walking d downwards from (j+1)·m with  T ← T + S;  S ← S + S_d  (both read the old S, so
 * they are independent) and a final T ← T + S gives
 *     S_j = Σ_{d ∈ chunk} S_d,    T_j = Σ_{d ∈ chunk} (d − j·m)·S_d,
 * and then  Σ_d d·S_d = Σ_j T_j + m·Σ_j j·S_j, the last sum by a short projective running sum.
 */
function reduceWindows(
  table: SlotTable,
  bucketBase: number,
  maxBuckets: number,
  maxDigit: Int32Array,
  plan: WindowPlan,
  chunks: number,
): G1Point {
  const windows = plan.windows;
  const steps = Math.ceil(maxBuckets / chunks);
  const lanes = windows * chunks;
  // Lane ℓ = w·K + j keeps T at slot ℓ and S at slot lanes + ℓ (bucketBase ≥ 2·lanes).
  const sumBase = lanes;
  const dst = new Int32Array(2 * lanes);
  const src = new Int32Array(2 * lanes);
  const scratch = new BatchScratch(2 * lanes);
  const { isZero } = table;
  for (let t = 0; t <= steps; t++) {
    let count = 0;
    // T += S first: these read S before the S-updates below overwrite it.
    for (let lane = 0; lane < lanes; lane++) {
      if (isZero[sumBase + lane] === 1) continue;
      dst[count] = lane;
      src[count] = sumBase + lane;
      count++;
    }
    if (t < steps) {
      for (let w = 0, lane = 0; w < windows; w++) {
        const bucketCount = maxDigit[w]!;
        const windowBase = bucketBase + w * maxBuckets - 1;
        for (let j = 0; j < chunks; j++, lane++) {
          const d = (j + 1) * steps - t;
          if (d > bucketCount || isZero[windowBase + d] === 1) continue;
          dst[count] = sumBase + lane;
          src[count] = windowBase + d;
          count++;
        }
      }
    }
    addSlots(table, dst, src, count, scratch);
  }

  // Combine chunks, then windows by Horner: acc ← 2^c·acc + window sum.
  let acc: G1Point = G1.ZERO;
  for (let w = windows - 1; w >= 0; w--) {
    if (!acc.is0()) for (let b = 0; b < plan.bits; b++) acc = acc.double();
    let windowSum: G1Point = G1.ZERO;
    let running: G1Point = G1.ZERO;
    let weighted: G1Point = G1.ZERO;
    let anyWeighted = false;
    for (let j = chunks - 1; j >= 0; j--) {
      const lane = w * chunks + j;
      const tj = table.point(lane);
      if (tj !== undefined) windowSum = windowSum.add(tj);
      if (j === 0) break;
      const sj = table.point(sumBase + lane);
      if (sj !== undefined) {
        running = running.add(sj);
        anyWeighted = true;
      }
      if (anyWeighted) weighted = weighted.add(running);
    }
    if (anyWeighted && !weighted.is0()) windowSum = windowSum.add(weighted.multiplyUnsafe(BigInt(steps)));
    acc = acc.add(windowSum);
  }
  // One canonical identity: sums that cancel leave projective forms noble cannot encode.
  return acc.is0() ? G1.ZERO : acc;
}

/**
 * Σ_i Σ_w 2^(c·w)·d_{w,i}·P_i given the signed digits (window-major: digits[w·n + i]) and the
 * largest |digit| of each window.
 */
function msmFromDigits(
  points: readonly G1Affine[],
  digits: Int32Array,
  plan: WindowPlan,
  maxDigit: Int32Array,
): G1Point {
  const n = points.length;
  let maxBuckets = 0;
  for (let w = 0; w < plan.windows; w++) maxBuckets = Math.max(maxBuckets, maxDigit[w]!);
  if (maxBuckets === 0) return G1.ZERO;
  const negY = points.map((pt) => (pt.y === 0n ? 0n : P - pt.y));
  const ws = new BucketWorkspace(n, maxBuckets);
  // Slots: T and S of every reduction lane (W·K lanes), then the W·maxBuckets bucket sums.
  const chunks = chooseChunks(maxBuckets, plan.windows);
  const bucketBase = 2 * plan.windows * chunks;
  const table = new SlotTable(bucketBase + plan.windows * maxBuckets);
  for (let w = 0; w < plan.windows; w++) {
    const buckets = maxDigit[w]!;
    if (buckets === 0) continue;
    fillBuckets(ws, points, negY, digits, w * n, n, buckets);
    sumBucketSegments(ws, buckets);
    const windowBase = bucketBase + w * maxBuckets - 1;
    for (let d = 1; d <= buckets; d++) {
      if (ws.len[d] === 0) continue;
      const i = ws.start[d]!;
      table.xs[windowBase + d] = ws.xs[i]!;
      table.ys[windowBase + d] = ws.ys[i]!;
      table.isZero[windowBase + d] = 0;
    }
  }
  return reduceWindows(table, bucketBase, maxBuckets, maxDigit, plan, chunks);
}

/**
 * Checks the lengths match and the coordinates are canonical field elements: the batch-affine
 * code detects doubling and cancellation by `===` on coordinates, which needs x, y ∈ [0, p).
 * That the points lie in G1 is the caller's contract (checking it would cost ≈ 2 M per point).
 */
function checkInputs(fn: string, points: readonly G1Affine[], got: number, what: string): void {
  if (points.length !== got) throw new Error(`${fn}: expected ${points.length} ${what}, got ${got}`);
  for (let i = 0; i < points.length; i++) {
    const { x, y } = points[i]!;
    if (!(x >= 0n && x < P && y >= 0n && y < P)) throw new Error(`${fn}: point ${i} has non-canonical coordinates`);
  }
}

/** Σ s_i·P_i for signed safe-integer scalars (|s_i| < 2^52). */
export function msmSmall(points: readonly G1Affine[], scalars: ArrayLike<number>): G1Point {
  checkInputs('msmSmall', points, scalars.length, 'scalars');
  const n = points.length;
  let maxAbs = 0;
  let nonZero = 0;
  for (let i = 0; i < n; i++) {
    const s = scalars[i]!;
    if (!Number.isSafeInteger(s)) throw new Error(`msmSmall: scalar ${i} is not a safe integer: ${s}`);
    const m = Math.abs(s);
    if (m > maxAbs) maxAbs = m;
    if (m !== 0) nonZero++;
  }
  if (maxAbs === 0) return G1.ZERO;
  const plan = chooseWindow(nonZero, BigInt(maxAbs));
  const { bits: c, windows } = plan;
  const base = 2 ** c;
  const half = base / 2;
  const digits = new Int32Array(n * windows);
  const maxDigit = new Int32Array(windows);
  for (let i = 0; i < n; i++) {
    const s = scalars[i]!;
    if (s === 0) continue;
    // Exact in doubles: m < 2^53, base is a power of two, so %, − and / are exact.
    let m = Math.abs(s);
    for (let w = 0; m !== 0; w++) {
      let d = m % base;
      m = (m - d) / base;
      if (d > half) {
        d -= base;
        m += 1;
      }
      const ad = d < 0 ? -d : d;
      if (ad > maxDigit[w]!) maxDigit[w] = ad;
      digits[w * n + i] = s < 0 ? -d : d;
    }
  }
  return msmFromDigits(points, digits, plan, maxDigit);
}

/** Σ_{bits_i = 1} P_i  (bits are 0/1). Subset sum for boolean vectors. */
export function subsetSum(points: readonly G1Affine[], bits: ArrayLike<number>): G1Point {
  checkInputs('subsetSum', points, bits.length, 'bits');
  const n = points.length;
  let selected = 0;
  for (let i = 0; i < n; i++) {
    const bit = bits[i];
    if (bit === 1) selected++;
    else if (bit !== 0) throw new Error(`subsetSum: bit ${i} is not 0 or 1: ${bit}`);
  }
  if (selected === 0) return G1.ZERO;
  // One bucket holding every selected point; the tree of batch-affine additions sums it.
  const ws = new BucketWorkspace(selected, 1);
  let at = 0;
  for (let i = 0; i < n; i++) {
    if (bits[i] !== 1) continue;
    const pt = points[i]!;
    ws.xs[at] = pt.x;
    ws.ys[at] = pt.y;
    at++;
  }
  ws.start[1] = 0;
  ws.len[1] = selected;
  sumBucketSegments(ws, 1);
  return ws.len[1] === 0 ? G1.ZERO : G1.fromAffine({ x: ws.xs[0]!, y: ws.ys[0]! });
}

/** Σ s_i·P_i for full field scalars s_i ∈ [0, r) (bigint). */
export function msmFull(points: readonly G1Affine[], scalars: readonly bigint[]): G1Point {
  checkInputs('msmFull', points, scalars.length, 'scalars');
  const n = points.length;
  // Signed magnitudes: s > r/2 is −(r − s), so |s| < r/2 < 2^254.
  let maxMagnitude = 0n;
  let nonZero = 0;
  for (let i = 0; i < n; i++) {
    const s = scalars[i]!;
    if (typeof s !== 'bigint' || s < 0n || s >= R) throw new Error(`msmFull: scalar ${i} is not in [0, r)`);
    const m = s > HALF_R ? R - s : s;
    if (m > maxMagnitude) maxMagnitude = m;
    if (m !== 0n) nonZero++;
  }
  if (maxMagnitude === 0n) return G1.ZERO;
  const plan = chooseWindow(nonZero, maxMagnitude);
  const { bits: c, windows } = plan;
  const base = 2 ** c;
  const half = base / 2;
  const mask = base - 1;
  const digits = new Int32Array(n * windows);
  const maxDigit = new Int32Array(windows);
  // 32-bit little-endian words of the magnitude, padded so a window may read past bit 256.
  const words = new Uint32Array(Math.ceil((windows * c) / 32) + 2);
  for (let i = 0; i < n; i++) {
    const s = scalars[i]!;
    if (s === 0n) continue;
    const negative = s > HALF_R;
    const hex = (negative ? R - s : s).toString(16);
    words.fill(0);
    for (let k = 0, end = hex.length; end > 0; k++, end -= 8) {
      words[k] = parseInt(hex.slice(Math.max(0, end - 8), end), 16);
    }
    let carry = 0;
    for (let w = 0; w < windows; w++) {
      const bit = w * c;
      const word = bit >>> 5;
      const shift = bit & 31;
      let chunk = words[word]! >>> shift;
      if (shift + c > 32) chunk |= words[word + 1]! << (32 - shift);
      let d = (chunk & mask) + carry;
      carry = 0;
      if (d > half) {
        d -= base;
        carry = 1;
      }
      const ad = d < 0 ? -d : d;
      if (ad > maxDigit[w]!) maxDigit[w] = ad;
      digits[w * n + i] = negative ? -d : d;
    }
  }
  return msmFromDigits(points, digits, plan, maxDigit);
}

/** Pluggable backend (later: a native addon, a worker-thread pool). Results must be identical. */
export interface MsmBackend {
  readonly name: string;
  /** Field-arithmetic kernels of the prover, when the backend has them (kernels.ts). */
  readonly kernels?: ProverKernels;
  msmSmall(points: readonly G1Affine[], scalars: ArrayLike<number>): Promise<G1Point>;
  subsetSum(points: readonly G1Affine[], bits: ArrayLike<number>): Promise<G1Point>;
  msmFull(points: readonly G1Affine[], scalars: readonly bigint[]): Promise<G1Point>;
}

/** Runs `compute` now; its result or its exception settles the returned promise. */
function settled<T>(compute: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(compute()));
}

/** The synchronous pure-JS implementation above, behind the async backend interface. */
export const jsMsmBackend: MsmBackend = {
  name: 'js-bigint',
  msmSmall: (points, scalars) => settled(() => msmSmall(points, scalars)),
  subsetSum: (points, bits) => settled(() => subsetSum(points, bits)),
  msmFull: (points, scalars) => settled(() => msmFull(points, scalars)),
};
