/**
 * The profiler (issue 3 item 5): per tensor, what changed between base and fine-tune and the
 * tightest drift class that fits it, and a ready version-1 policy (exact tensor names as
 * `match`, default `frozen`) for `fti profile --write-policy`.
 *
 * Measured per tensor (PROTOCOLS.md §1 units). Values are quantized here with the spec's
 * q(w) = roundHalfEven(w·2^s) (a local implementation: this module takes decoded real values,
 * so the CLI needs no second pass), and Δ_q = q(W_ft) − q(W_base) is what a proof bounds:
 *   nonzeros      |supp Δ_q| (exact)
 *   l2, linf      ‖Δ_q‖₂·2^-s, max|Δ_q|·2^-s (real units)
 *   relativeL2    l2 / ‖W_base‖₂ (real base values; null when the base is all zero)
 *   rank          the smallest k with ‖Δ − Δ_k‖_F ≤ ε·‖Δ‖_F (ε = 1e-3 by default), Δ_k the
 *                 rank-k truncation of a seeded randomized SVD (HMT 2011 Alg. 4.4, linalg.ts),
 *                 searched by doubling the sketch up to `maxRank`; with the residual Δ − Δ_k
 *                 (L2 and L∞, real units) at that k. The randomized residual is an upper bound
 *                 on the optimal one, so the estimate never claims a lower rank than exists
 *                 (up to ε) — it may overshoot a little.
 * These are estimates for choosing a policy; nothing here is relied on for soundness (the
 * proofs check every bound; PROTOCOLS §5.4 explains why random projections serve only here).
 *
 * Recommendation, tightest first:
 *   frozen   the raw bytes are equal (the caller compares them and passes `rawEqual`);
 *   linf 0   bytes differ but Δ_q = 0 (changes below the quantization step; PROTOCOLS §5.1
 *            says such a tensor is not frozen);
 *   sparse   nonzeros ≤ 1% of entries; maxNonzeros = nonzeros;
 *   lowrank  2-D and rank ≤ min(rows, cols)/8 (or a LoRA adapter's factors, when supplied);
 *            rank rounded up to a power of two (the factor width the proof pads to anyway),
 *            residualMaxLinf = 1.1 × the residual the quantized factors actually leave
 *            (`factors.ts`, the same seeded factoriser `certify` uses), none if it is exactly 0;
 *   norm     maxL2 = 1.05 × measured (or linf maxLinf, with `boundedClass: 'linf'`);
 *   free     only for tensors the base lacks (added tensors).
 * Bounds are rounded up to three significant digits. The margins absorb the difference
 * between the profiler's sketch and a re-run; they are not a statistical guarantee.
 *
 * Memory: `profileModel` consumes an async iterable one tensor at a time and keeps only the
 * result rows; per tensor it holds Δ_q (one float64 per entry) besides the caller's arrays.
 * Time: the randomized SVD passes over Δ 2q + 2 times per sketch (q = 2 power iterations), a
 * 4096 × 4096 Δ with a small rank takes a few seconds; a dense Δ gives up after the first
 * sketch when its spectrum is too flat to reach ε within `maxRank` (a heuristic, below).
 */
import { matrixView } from '../smdp/aggregate.ts';
import { ModelError } from './errors.ts';
import { defaultFactorBits, lowRankFactorsFromDelta, quantizeFactors, type QuantizedFactors, type RealFactors } from './factors.ts';
import { matrix, nextPowerOfTwo, randomizedSvd, roundHalfEven, type Matrix, type RandomizedSvdOptions, type Svd } from './linalg.ts';

export const DEFAULT_FRACTIONAL_BITS = 24;
export const DEFAULT_RANK_EPSILON = 1e-3;
/** Sparse when nonzeros ≤ this fraction of the entries. */
export const DEFAULT_SPARSE_FRACTION = 0.01;
/** Low-rank when rank ≤ this fraction of min(rows, cols). */
export const DEFAULT_LOWRANK_FRACTION = 1 / 8;
/** The largest rank searched by default (raise `maxRank` for wider LoRA ranks). */
export const DEFAULT_MAX_RANK = 128;
export const DEFAULT_INITIAL_RANK = 16;
export const NORM_MARGIN = 1.05;
export const RESIDUAL_MARGIN = 1.1;
/** Seed of the profiler's rank sketches. */
export const PROFILE_SEED = 'fti/profile/rank/v1';

/** A recommended rule body (real units), in the shape of the version-1 policy (issue 3). */
export type RecommendedRule =
  | { readonly class: 'frozen' }
  | { readonly class: 'free' }
  | { readonly class: 'sparse'; readonly maxNonzeros: number }
  | { readonly class: 'norm'; readonly maxL2: number }
  | { readonly class: 'linf'; readonly maxLinf: number }
  | { readonly class: 'lowrank'; readonly rank: number; readonly residualMaxLinf?: number };

/** A ready version-1 policy: exact tensor names as `match`, default frozen. */
export interface ProfilePolicy {
  readonly version: 1;
  readonly fractionalBits: number;
  readonly default: { readonly class: 'frozen' };
  readonly rules: readonly ({ readonly match: string } & RecommendedRule)[];
}

export interface ProfileInput {
  readonly name: string;
  readonly shape: readonly number[];
  /** Base values (real units); null when the base model has no such tensor (added). */
  readonly base: Float64Array | null;
  readonly ft: Float64Array;
  /** Whether base and fine-tuned raw bytes are identical (the caller compares them). */
  readonly rawEqual: boolean;
  /** Factors of ΔW from a LoRA adapter (factors.ts `loraUpdates`), when one was supplied. */
  readonly adapter?: RealFactors;
}

export interface ProfileOptions extends RandomizedSvdOptions {
  /** s (default 24). */
  readonly fractionalBits?: number;
  /** ε of the rank estimate (default 1e-3). */
  readonly epsilon?: number;
  readonly sparseFraction?: number;
  readonly lowRankFraction?: number;
  /** Largest rank searched (default min(128, ⌊min(rows, cols)·lowRankFraction⌋), at least 1). */
  readonly maxRank?: number;
  /** First sketch's target rank (default 16); doubled until ε is reached or maxRank. */
  readonly initialRank?: number;
  /** Class recommended for bounded dense updates (default 'norm'). */
  readonly boundedClass?: 'norm' | 'linf';
  /** Factor scales s_a, s_b for the low-rank residual (default ⌈s/2⌉ each, as policy.ts). */
  readonly factorBitsA?: number;
  readonly factorBitsB?: number;
}

export interface RankEstimate {
  /** 'svd': estimated from Δ; 'adapter': the supplied LoRA factors' rank. */
  readonly source: 'svd' | 'adapter';
  /** The estimate; null when it is above `searchedUpTo`. */
  readonly rank: number | null;
  /** The largest rank the search covered. */
  readonly searchedUpTo: number;
  /** ‖Δ − Δ_k‖ at k = rank (or searchedUpTo), real units; for 'adapter' the factors' residual. */
  readonly residualL2: number;
  readonly residualLinf: number;
  /** residualL2 / ‖Δ‖₂ */
  readonly relativeResidual: number;
}

export interface TensorProfile {
  readonly name: string;
  readonly shape: readonly number[];
  readonly rows: number;
  readonly cols: number;
  readonly entries: number;
  readonly rawEqual: boolean;
  /** Exact |supp Δ_q|. */
  readonly nonzeros: number;
  /** ‖Δ_q‖₂·2^-s and max|Δ_q|·2^-s (real units). */
  readonly l2: number;
  readonly linf: number;
  /** ‖W_base‖₂ (real units; 0 for added tensors). */
  readonly baseL2: number;
  /** l2 / baseL2; null when baseL2 = 0 (and Δ ≠ 0). */
  readonly relativeL2: number | null;
  /** Computed only where it decides the class (2-D, not frozen, not sparse); else null. */
  readonly rank: RankEstimate | null;
  /** For a lowrank recommendation: the exact residual of the quantized factors (real units). */
  readonly lowRankResidual: { readonly rank: number; readonly linf: number; readonly l2: number } | null;
  readonly recommendation: RecommendedRule;
  /** Why this class, in one sentence. */
  readonly reason: string;
}

/** Round x > 0 up to `digits` significant decimal digits (never below x). */
export function ceilSignificant(x: number, digits = 3): number {
  if (!(x > 0) || !Number.isFinite(x)) return x;
  const e = Math.floor(Math.log10(x)) - (digits - 1);
  let mantissa = Math.ceil(x / 10 ** e);
  // Parse "m e" so the result is the double nearest the decimal, then step up if that fell below x.
  let y = Number(`${mantissa}e${e}`);
  while (y < x) {
    mantissa++;
    y = Number(`${mantissa}e${e}`);
  }
  return y;
}

function finiteError(tensor: string, which: 'base' | 'ft', index: number, value: number, s: number): never {
  const what = Number.isFinite(value) ? `${value} is too large to quantize exactly with s = ${s} (|w·2^s| or |Δ·2^s| ≥ 2^53)` : `${value} is not finite`;
  throw new ModelError('NON_FINITE', `tensor ${JSON.stringify(tensor)}: ${which} value at index ${index}: ${what}`, { tensor, field: `${which}[${index}]` });
}

const TWO_53 = 2 ** 53;

/**
 * Δ_q = q(ft) − q(base) as doubles holding exact integers, with ‖W_base‖₂ (real). Throws
 * NON_FINITE naming the tensor and index for NaN/±Inf or |w·2^s| ≥ 2^53.
 */
export function quantizedDelta(name: string, base: Float64Array | null, ft: Float64Array, s: number): { deltaQ: Float64Array; baseL2: number } {
  if (base !== null && base.length !== ft.length) throw new Error(`quantizedDelta: tensor ${JSON.stringify(name)}: base has ${base.length} values, fine-tune ${ft.length}`);
  const scale = 2 ** s;
  const deltaQ = new Float64Array(ft.length);
  let base2 = 0;
  for (let i = 0; i < ft.length; i++) {
    const f = ft[i]!;
    const qf = roundHalfEven(f * scale);
    if (!(Math.abs(qf) < TWO_53)) finiteError(name, 'ft', i, f, s);
    let qb = 0;
    if (base !== null) {
      const b = base[i]!;
      qb = roundHalfEven(b * scale);
      if (!(Math.abs(qb) < TWO_53)) finiteError(name, 'base', i, b, s);
      base2 += b * b;
    }
    // Integers below 2^53: the difference is exact when it is below 2^53 too, and rounding
    // is monotonic, so a computed |d| < 2^53 proves the exact one is.
    const d = qf - qb;
    if (!(Math.abs(d) < TWO_53)) finiteError(name, 'ft', i, f, s);
    deltaQ[i] = d;
  }
  return { deltaQ, baseL2: Math.sqrt(base2) };
}

export interface RankSearchOptions extends RandomizedSvdOptions {
  readonly epsilon?: number;
  readonly maxRank?: number;
  readonly initialRank?: number;
}

/** How far a flat spectrum's estimated tail may be from reaching ε before the search stops. */
const GIVE_UP_FACTOR = 4;

/**
 * The smallest k ≤ maxRank with ‖Δ − Δ_k‖_F ≤ ε‖Δ‖_F, Δ_k from a randomized SVD (units of Δ).
 * Doubling search: sketch with target k (ℓ = k + p vectors); for that sketch the residual of
 * its rank-j truncation is √(‖Δ‖² − Σ_{i<j} S_i²) (an orthogonal split, linalg.ts), so every
 * j ≤ ℓ is tested at once; if none reaches ε, k doubles (up to maxRank). When ℓ covers
 * min(rows, cols) the SVD is exact and the answer is exact up to rounding.
 * Early stop (heuristic): after a sketch, the energy still missing above ε must come from at
 * most maxRank − k more components, none larger than S_k (σ is non-increasing); if the
 * missing energy exceeds GIVE_UP_FACTOR × that, the search stops with rank null — this is
 * what makes a dense 4096 × 4096 update cost one sketch rather than five.
 * Returns the residual Δ − Δ_k explicitly (L2 and L∞), with k = the estimate or the last k.
 */
export function estimateRank(delta: Matrix, options: RankSearchOptions = {}): { rank: number | null; searchedUpTo: number; residualL2: number; residualLinf: number; frobenius: number } {
  const { rows: m, cols: n } = delta;
  const eps = options.epsilon ?? DEFAULT_RANK_EPSILON;
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new Error(`estimateRank: ε must be a finite number ≥ 0, got ${eps}`);
  const full = Math.min(m, n);
  const maxRank = Math.min(options.maxRank ?? full, full);
  let total = 0;
  for (let i = 0; i < delta.data.length; i++) total += delta.data[i]! * delta.data[i]!;
  const frobenius = Math.sqrt(total);
  if (total === 0 || full === 0) return { rank: 0, searchedUpTo: 0, residualL2: 0, residualLinf: 0, frobenius };
  const target = eps * eps * total;
  if (total <= target) return { rank: 0, searchedUpTo: 0, residualL2: frobenius, residualLinf: maxAbs(delta.data), frobenius };
  const svdOptions: RandomizedSvdOptions = {
    seed: options.seed ?? PROFILE_SEED,
    ...(options.oversampling !== undefined ? { oversampling: options.oversampling } : {}),
    ...(options.powerIterations !== undefined ? { powerIterations: options.powerIterations } : {}),
  };
  let k = Math.max(1, Math.min(options.initialRank ?? DEFAULT_INITIAL_RANK, maxRank));
  for (;;) {
    const svd = randomizedSvd(delta, k, svdOptions);
    const ell = svd.S.length;
    let captured = 0;
    let found = -1;
    for (let j = 0; j < ell; j++) {
      captured += svd.S[j]! * svd.S[j]!;
      if (total - captured <= target) {
        found = j + 1;
        break;
      }
    }
    // A sketch of the whole space is exact; rounding may leave the last residual a hair
    // above a very small target, and then the full rank is the answer.
    if (found < 0 && ell === full) found = full;
    if (found > 0 && found <= maxRank) return { rank: found, searchedUpTo: Math.max(found, Math.min(k, maxRank)), ...residualAt(delta, svd, found), frobenius };
    if (found > maxRank || k >= maxRank) return { rank: null, searchedUpTo: maxRank, ...residualAt(delta, svd, Math.min(maxRank, ell)), frobenius };
    let capturedK = 0;
    for (let j = 0; j < Math.min(k, ell); j++) capturedK += svd.S[j]! * svd.S[j]!;
    const sk = svd.S[Math.min(k, ell) - 1]!;
    const missing = total - capturedK - target;
    if (missing > GIVE_UP_FACTOR * (maxRank - k) * sk * sk) return { rank: null, searchedUpTo: maxRank, ...residualAt(delta, svd, Math.min(k, ell)), frobenius };
    k = Math.min(2 * k, maxRank);
  }
}

function maxAbs(xs: Float64Array): number {
  let m = 0;
  for (let i = 0; i < xs.length; i++) {
    const a = Math.abs(xs[i]!);
    if (a > m) m = a;
  }
  return m;
}

/** ‖Δ − Σ_{l<k} S_l u_l v_lᵀ‖ in L2 and L∞, one pass over the rows of Δ. */
function residualAt(delta: Matrix, svd: Svd, k: number): { residualL2: number; residualLinf: number } {
  const { rows: m, cols: n, data } = delta;
  const acc = new Float64Array(n);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < m; i++) {
    acc.set(data.subarray(i * n, (i + 1) * n));
    for (let l = 0; l < k; l++) {
      const a = svd.Ut.data[l * m + i]! * svd.S[l]!;
      if (a === 0) continue;
      const vo = l * n;
      for (let c = 0; c < n; c++) acc[c]! -= a * svd.Vt.data[vo + c]!;
    }
    for (let c = 0; c < n; c++) {
      const e = acc[c]!;
      sum += e * e;
      const ae = Math.abs(e);
      if (ae > max) max = ae;
    }
  }
  return { residualL2: Math.sqrt(sum), residualLinf: max };
}

function residualReal(q: QuantizedFactors): { linf: number; l2: number } {
  // E is in units of 2^-(s_a+s_b); Number() of the bigints rounds, which is fine for a report.
  const unit = 2 ** -(q.factorBitsA + q.factorBitsB);
  return { linf: Number(q.residualMaxAbs) * unit, l2: Math.sqrt(Number(q.residualSquaredNorm)) * unit };
}

/** Profile one tensor and recommend its class (module comment). */
export function profileTensor(input: ProfileInput, options: ProfileOptions = {}): TensorProfile {
  const s = options.fractionalBits ?? DEFAULT_FRACTIONAL_BITS;
  if (!Number.isSafeInteger(s) || s < 0 || s > 255) throw new Error(`profileTensor: fractionalBits must be an integer in 0..255, got ${s}`);
  const { name, shape } = input;
  const view = matrixView(shape);
  const rows = Number(view.rows);
  const cols = Number(view.cols);
  const entries = rows * cols;
  if (input.ft.length !== entries) {
    throw new ModelError('BAD_SHAPE', `tensor ${JSON.stringify(name)}: shape [${shape.join(', ')}] has ${entries} entries, the fine-tuned values ${input.ft.length}`, { tensor: name, field: 'shape' });
  }
  if (input.base !== null && input.base.length !== entries) {
    throw new ModelError('BAD_SHAPE', `tensor ${JSON.stringify(name)}: shape [${shape.join(', ')}] has ${entries} entries, the base values ${input.base.length}`, { tensor: name, field: 'shape' });
  }
  const unit = 2 ** -s;
  const { deltaQ, baseL2 } = quantizedDelta(name, input.base, input.ft, s);
  let nonzeros = 0;
  let sum2 = 0;
  let maxQ = 0;
  for (let i = 0; i < deltaQ.length; i++) {
    const d = deltaQ[i]!;
    if (d === 0) continue;
    nonzeros++;
    sum2 += d * d;
    const a = Math.abs(d);
    if (a > maxQ) maxQ = a;
  }
  const l2 = Math.sqrt(sum2) * unit;
  const linf = maxQ * unit;
  const relativeL2 = baseL2 > 0 ? l2 / baseL2 : l2 === 0 ? 0 : null;
  const common = { name, shape: [...shape], rows, cols, entries, rawEqual: input.rawEqual, nonzeros, l2, linf, baseL2, relativeL2 };
  const done = (recommendation: RecommendedRule, reason: string, rank: RankEstimate | null = null, lowRankResidual: TensorProfile['lowRankResidual'] = null): TensorProfile => ({
    ...common,
    rank,
    lowRankResidual,
    recommendation,
    reason,
  });

  if (input.base === null) return done({ class: 'free' }, 'the base model has no such tensor (added): only free allows it');
  if (input.rawEqual) return done({ class: 'frozen' }, 'raw bytes are identical');
  if (nonzeros === 0) return done({ class: 'linf', maxLinf: 0 }, 'raw bytes differ only below the quantization step (Δ_q = 0): linf with bound 0, not frozen');
  const sparseFraction = options.sparseFraction ?? DEFAULT_SPARSE_FRACTION;
  if (nonzeros <= sparseFraction * entries) {
    return done({ class: 'sparse', maxNonzeros: nonzeros }, `${nonzeros} of ${entries} entries changed (≤ ${sparseFraction * 100}%)`);
  }

  const bounded = (rank: RankEstimate | null, why: string): TensorProfile =>
    options.boundedClass === 'linf'
      ? done({ class: 'linf', maxLinf: ceilSignificant(linf * NORM_MARGIN) }, `${why}; bounded by max |Δ| = ${linf.toPrecision(4)} (+5%)`, rank)
      : done({ class: 'norm', maxL2: ceilSignificant(l2 * NORM_MARGIN) }, `${why}; bounded by ‖Δ‖₂ = ${l2.toPrecision(4)} (+5%)`, rank);
  if (shape.length !== 2 || rows < 2 || cols < 2) return bounded(null, `dense change of a ${shape.length}-D tensor (low rank applies to 2-D tensors)`);

  const fraction = options.lowRankFraction ?? DEFAULT_LOWRANK_FRACTION;
  const limit = Math.floor(Math.min(rows, cols) * fraction);
  const factorDefaults = defaultFactorBits(s);
  const quantizeOptions = {
    fractionalBits: s,
    factorBitsA: options.factorBitsA ?? factorDefaults.factorBitsA,
    factorBitsB: options.factorBitsB ?? factorDefaults.factorBitsB,
    tensor: name,
  };

  if (input.adapter !== undefined) {
    const f = input.adapter;
    if (f.rows !== rows || f.cols !== cols) {
      throw new ModelError('BAD_ADAPTER', `tensor ${JSON.stringify(name)}: adapter factors are ${f.rows} × ${f.cols}, the tensor's matrix view is ${rows} × ${cols}`, { tensor: name, field: 'shape' });
    }
    const q = quantizeFactors(f, deltaQ, quantizeOptions);
    const res = residualReal(q);
    const est: RankEstimate = { source: 'adapter', rank: f.rank, searchedUpTo: f.rank, residualL2: res.l2, residualLinf: res.linf, relativeResidual: l2 > 0 ? res.l2 / l2 : 0 };
    if (f.rank > limit) return bounded(est, `adapter rank ${f.rank} is above min(rows, cols)·${fraction} = ${limit}`);
    return done(lowRankRule(f.rank, q), `LoRA adapter of rank ${f.rank}; residual max |E| = ${res.linf.toPrecision(4)}`, est, { rank: f.rank, ...res });
  }

  const maxRank = options.maxRank ?? Math.max(1, Math.min(DEFAULT_MAX_RANK, limit));
  const svdOptions: RankSearchOptions = {
    epsilon: options.epsilon ?? DEFAULT_RANK_EPSILON,
    maxRank,
    ...(options.initialRank !== undefined ? { initialRank: options.initialRank } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.oversampling !== undefined ? { oversampling: options.oversampling } : {}),
    ...(options.powerIterations !== undefined ? { powerIterations: options.powerIterations } : {}),
  };
  const r = estimateRank(matrix(rows, cols, deltaQ), svdOptions);
  const est: RankEstimate = {
    source: 'svd',
    rank: r.rank,
    searchedUpTo: r.searchedUpTo,
    residualL2: r.residualL2 * unit,
    residualLinf: r.residualLinf * unit,
    relativeResidual: r.frobenius > 0 ? r.residualL2 / r.frobenius : 0,
  };
  if (r.rank === null || r.rank > limit) {
    const what = r.rank === null ? `rank above ${r.searchedUpTo}` : `rank ${r.rank}`;
    return bounded(est, `dense update (${what} at ε = ${svdOptions.epsilon}; low rank needs ≤ ${limit})`);
  }
  const rank = Math.min(nextPowerOfTwo(Math.max(1, r.rank)), Math.min(rows, cols));
  const q = lowRankFactorsFromDelta(deltaQ, rows, cols, rank, quantizeOptions);
  const res = residualReal(q);
  return done(lowRankRule(rank, q), `rank ${r.rank} at ε = ${svdOptions.epsilon} (≤ ${limit}); factors of rank ${rank} leave max |E| = ${res.linf.toPrecision(4)}`, est, { rank, ...res });
}

function lowRankRule(rank: number, q: QuantizedFactors): RecommendedRule {
  if (q.residualMaxAbs === 0n) return { class: 'lowrank', rank };
  const linf = residualReal(q).linf;
  return { class: 'lowrank', rank, residualMaxLinf: ceilSignificant(linf * RESIDUAL_MARGIN) };
}

/** Characters that make a `match` a glob rather than an exact name (policy.ts). */
const GLOB_CHARACTERS = /[*{},]/;

export interface ModelProfile {
  readonly rows: TensorProfile[];
  readonly policy: ProfilePolicy;
  /** Things the caller should show the user (e.g. names a policy glob cannot match exactly). */
  readonly warnings: string[];
}

/**
 * Profile every tensor of an (async) iterable, one at a time, and build the policy: one rule
 * per non-frozen tensor, in input order, `match` = its exact name; frozen tensors fall to the
 * default. `onTensor` sees each row as it is done (progress output).
 */
export async function profileModel(
  tensors: AsyncIterable<ProfileInput> | Iterable<ProfileInput>,
  options: ProfileOptions & { readonly onTensor?: (row: TensorProfile) => void } = {},
): Promise<ModelProfile> {
  const s = options.fractionalBits ?? DEFAULT_FRACTIONAL_BITS;
  const rows: TensorProfile[] = [];
  const rules: ({ match: string } & RecommendedRule)[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  for await (const t of tensors) {
    if (seen.has(t.name)) throw new ModelError('BAD_VALUE', `tensor ${JSON.stringify(t.name)} appears twice`, { tensor: t.name, field: 'name' });
    seen.add(t.name);
    const row = profileTensor(t, options);
    rows.push(row);
    options.onTensor?.(row);
    if (row.recommendation.class === 'frozen') continue;
    if (GLOB_CHARACTERS.test(t.name)) {
      warnings.push(`tensor ${JSON.stringify(t.name)} contains a glob character (* { } ,): its rule may match other tensors too; check the written policy`);
    }
    rules.push({ match: t.name, ...row.recommendation });
  }
  return { rows, policy: { version: 1, fractionalBits: s, default: { class: 'frozen' }, rules }, warnings };
}
