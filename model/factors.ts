/**
 * Low-rank factors of a tensor's update (issue 3 item 6; PROTOCOLS.md §5.5): the witness of
 * the `lowrank` class, λ·Δ_q = A·B + E with λ = 2^(s_a + s_b − s), in exactly the layouts
 * `smdp/classes/lowrank.ts` proves:
 *   A  row-major rows × 2^κ, index row·2^κ + l          (columns l ≥ rank are zero),
 *   B  row-major 2^κ × 2^μy, index l·2^μy + col          (rows l ≥ rank and cols ≥ cols zero),
 * κ = ⌈log2 rank⌉, 2^μy = the tensor's column count padded to a power of two (the tile width
 * of whole-row lowrank tiles). A tile of 2^μt whole rows proves with `factorTile(…)`, the
 * rows of A it covers (zero rows past the tensor's end).
 *
 * Where the real factors come from:
 * (a) a LoRA adapter (PEFT): ΔW = scaling·B_lora·A_lora with B_lora: out × r, A_lora: r × in,
 *     scaling = lora_alpha / r (lora_alpha / √r with `use_rslora`). We take A = scaling·B_lora
 *     (rows × r) and B = A_lora (r × cols). Names: see `parseLoraTensorName`.
 * (b) a truncated SVD of Δ (randomized, `linalg.ts`): Δ ≈ U_k·Σ_k·V_kᵀ, A = U_k·√Σ_k,
 *     B = √Σ_k·V_kᵀ (the balanced split keeps A and B on the same scale, so s_a = s_b loses
 *     the least). Seeded: the same Δ and options give the same bits on every machine, so the
 *     profiler's residual is the one `certify` will prove.
 * Then `quantizeFactors`: A_int = roundHalfEven(A·2^s_a), B_int = roundHalfEven(B·2^s_b) and
 * the residual E = λ·Δ_q − A_int·B_int computed **exactly** (integers; float64 where a bound
 * shows every partial sum stays below 2^53, bigint otherwise), with max |E| and Σ E².
 * The residual bound of a policy is stated in real units and converted with 2^(s_a+s_b)
 * (policy.ts); E/2^(s_a+s_b) is its real value.
 *
 * Factor scales: v1 policies do not state s_a, s_b; policy.ts fixes s_a = s_b = ⌈s/2⌉
 * (`lowRankFactorBits`). `defaultFactorBits` repeats that rule here (this file must not
 * import the policy module); both must change together.
 */
import { matrixView } from '../smdp/aggregate.ts';
import { ModelError } from './errors.ts';
import { matrix, nextPowerOfTwo, randomizedSvd, roundHalfEven, type RandomizedSvdOptions } from './linalg.ts';

/** Real-valued factors: Δ ≈ A·B with A: rows × rank, B: rank × cols (row-major). */
export interface RealFactors {
  readonly rows: number;
  readonly cols: number;
  readonly rank: number;
  readonly A: Float64Array;
  readonly B: Float64Array;
}

/** Integer factors and their exact residual, in smdp's lowrank layouts (module comment). */
export interface QuantizedFactors {
  readonly rows: number;
  readonly cols: number;
  readonly rank: number;
  /** κ = ⌈log2 rank⌉ */
  readonly kappa: number;
  /** 2^μy ≥ cols: the column count B is padded to. */
  readonly paddedCols: number;
  readonly fractionalBits: number;
  readonly factorBitsA: number;
  readonly factorBitsB: number;
  /** λ = 2^(s_a + s_b − s) */
  readonly lambda: bigint;
  /** rows × 2^κ, index row·2^κ + l */
  readonly A: bigint[];
  /** 2^κ × paddedCols, index l·paddedCols + col */
  readonly B: bigint[];
  /** max |E_i| over the tensor, E = λ·Δ_q − A·B (units of 2^-(s_a+s_b)) */
  readonly residualMaxAbs: bigint;
  /** Σ E_i² over the tensor (units of 2^-2(s_a+s_b)) */
  readonly residualSquaredNorm: bigint;
  /** Number of non-zero residual entries. */
  readonly residualNonzeros: number;
}

/** s_a = s_b = ⌈s/2⌉: must equal policy.ts `lowRankFactorBits` (module comment). */
export function defaultFactorBits(fractionalBits: number): { factorBitsA: number; factorBitsB: number } {
  const half = Math.ceil(fractionalBits / 2);
  return { factorBitsA: half, factorBitsB: half };
}

/** Seed of the factoriser's sketch. Changing it changes every SVD-derived certificate. */
export const FACTOR_SVD_SEED = 'fti/factors/svd/v1';

/** κ = ⌈log2 rank⌉ (as smdp's factorRankBits). */
function rankBits(rank: number): number {
  return rank <= 1 ? 0 : 32 - Math.clz32(rank - 1);
}

function checkRank(rank: number, fn: string): void {
  if (!Number.isSafeInteger(rank) || rank < 1 || rank > 1 << 20) throw new Error(`${fn}: expected a rank in 1..2^20, got ${rank}`);
}

/** Δ_q: rows·cols exact integers below 2^53 (quantized units); integrality is checked where Δ_q is read. */
function checkDelta(deltaQ: ArrayLike<number>, rows: number, cols: number, fn: string): void {
  if (deltaQ.length !== rows * cols) throw new Error(`${fn}: expected ${rows} × ${cols} = ${rows * cols} entries of Δ_q, got ${deltaQ.length}`);
}

export interface SvdFactorOptions extends RandomizedSvdOptions {
  /** s: Δ_q is in units of 2^-s. */
  readonly fractionalBits: number;
}

/**
 * Rank-`rank` factors of Δ = Δ_q·2^-s from a randomized truncated SVD (HMT 2011 Alg. 4.4;
 * default seed FACTOR_SVD_SEED, q = 2, p = 8). The sketch runs on Δ_q itself: scaling by a
 * power of two is exact in every step, so this equals the SVD of Δ bit for bit and saves a
 * copy. Components beyond the numerical rank of Δ come out zero.
 */
export function factorsFromSvd(deltaQ: Float64Array, rows: number, cols: number, rank: number, options: SvdFactorOptions): RealFactors {
  checkRank(rank, 'factorsFromSvd');
  checkDelta(deltaQ, rows, cols, 'factorsFromSvd');
  const A = new Float64Array(rows * rank);
  const B = new Float64Array(rank * cols);
  if (rows === 0 || cols === 0) return { rows, cols, rank, A, B };
  const svd = randomizedSvd(matrix(rows, cols, deltaQ), rank, { seed: FACTOR_SVD_SEED, ...options });
  const unit = 2 ** -options.fractionalBits;
  const used = Math.min(rank, svd.S.length);
  for (let l = 0; l < used; l++) {
    const root = Math.sqrt(svd.S[l]! * unit);
    if (root === 0) continue;
    const u = svd.Ut.data.subarray(l * rows, (l + 1) * rows);
    for (let i = 0; i < rows; i++) A[i * rank + l] = u[i]! * root;
    const v = svd.Vt.data.subarray(l * cols, (l + 1) * cols);
    const bo = l * cols;
    for (let c = 0; c < cols; c++) B[bo + c] = v[c]! * root;
  }
  return { rows, cols, rank, A, B };
}

export interface QuantizeFactorOptions {
  /** s: Δ_q is in units of 2^-s. */
  readonly fractionalBits: number;
  /** s_a, s_b; default ⌈s/2⌉ each (`defaultFactorBits`). s_a + s_b ≥ s is required. */
  readonly factorBitsA?: number;
  readonly factorBitsB?: number;
  /** 2^μy ≥ cols, the padded width of B; default the next power of two. */
  readonly paddedCols?: number;
  /** Tensor name, for error messages. */
  readonly tensor?: string;
}

const TWO_52 = 2 ** 52;

/** round(x·2^bits) for every entry, as doubles holding integers; non-finite → NON_FINITE. */
function quantizeEntries(x: Float64Array, bits: number, what: string, tensor: string | undefined): Float64Array {
  const scale = 2 ** bits;
  const out = new Float64Array(x.length);
  let max = 0;
  for (let i = 0; i < x.length; i++) {
    const v = roundHalfEven(x[i]! * scale);
    if (!Number.isFinite(v)) {
      throw new ModelError('NON_FINITE', `${tensor !== undefined ? `tensor ${JSON.stringify(tensor)}: ` : ''}factor ${what}[${i}] = ${x[i]} is not finite after scaling by 2^${bits}`, {
        ...(tensor !== undefined ? { tensor } : {}),
        field: `${what}[${i}]`,
      });
    }
    out[i] = v;
    if (Math.abs(v) > max) max = Math.abs(v);
  }
  return out;
}

function maxAbs(xs: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < xs.length; i++) {
    const a = Math.abs(xs[i]!);
    if (a > m) m = a;
  }
  return m;
}

/**
 * Exact Σ e² over integers e held in doubles: small squares (|e| < 2^26, so e² < 2^52) go to
 * a float accumulator that is flushed to a bigint before it could pass 2^53 (integer sums
 * below 2^53 are exact in float64); larger ones are squared as bigints.
 */
export class ExactSquareSum {
  private small = 0;
  private big = 0n;
  add(e: number): void {
    if (Math.abs(e) < 67108864) {
      this.small += e * e;
      if (this.small >= TWO_52) {
        this.big += BigInt(this.small);
        this.small = 0;
      }
    } else {
      const b = BigInt(e);
      this.big += b * b;
    }
  }
  addBig(e: bigint): void {
    this.big += e * e;
  }
  total(): bigint {
    return this.big + BigInt(this.small);
  }
}

/** Exact Σ x² of integers held in a Float64Array (`ExactSquareSum` over every entry). */
export function exactSquareSum(xs: Float64Array): bigint {
  const squares = new ExactSquareSum();
  for (let i = 0; i < xs.length; i++) squares.add(xs[i]!);
  return squares.total();
}

/**
 * Quantize real factors and compute the exact residual E = λ·Δ_q − A_int·B_int over the
 * whole tensor (rows × cols; padding contributes nothing since both sides are zero there).
 * Δ_q: the quantized update, integers in units of 2^-s (|Δ_q| < 2^53).
 */
export function quantizeFactors(f: RealFactors, deltaQ: ArrayLike<number>, options: QuantizeFactorOptions): QuantizedFactors {
  const { rows, cols, rank } = f;
  checkRank(rank, 'quantizeFactors');
  checkDelta(deltaQ, rows, cols, 'quantizeFactors');
  if (f.A.length !== rows * rank || f.B.length !== rank * cols) {
    throw new Error(`quantizeFactors: expected A of ${rows} × ${rank} and B of ${rank} × ${cols}, got ${f.A.length} and ${f.B.length} entries`);
  }
  const s = options.fractionalBits;
  const defaults = defaultFactorBits(s);
  const sa = options.factorBitsA ?? defaults.factorBitsA;
  const sb = options.factorBitsB ?? defaults.factorBitsB;
  for (const [name, v] of [['fractionalBits', s], ['factorBitsA', sa], ['factorBitsB', sb]] as const) {
    if (!Number.isSafeInteger(v) || v < 0 || v > 255) throw new Error(`quantizeFactors: ${name} must be an integer in 0..255, got ${v}`);
  }
  if (sa + sb < s) throw new Error(`quantizeFactors: s_a + s_b = ${sa + sb} is below s = ${s}; λ = 2^(s_a+s_b−s) must be an integer`);
  const paddedCols = options.paddedCols ?? nextPowerOfTwo(cols);
  if (!Number.isSafeInteger(paddedCols) || paddedCols < cols || paddedCols < 1 || (paddedCols & (paddedCols - 1)) !== 0) {
    throw new Error(`quantizeFactors: paddedCols must be a power of two ≥ ${cols}, got ${paddedCols}`);
  }
  const kappa = rankBits(rank);
  const K = 2 ** kappa;
  const lambdaExp = sa + sb - s;
  const lambda = 1n << BigInt(lambdaExp);
  const Aq = quantizeEntries(f.A, sa, 'A', options.tensor);
  const Bq = quantizeEntries(f.B, sb, 'B', options.tensor);

  let resMax = 0n;
  let nonzeros = 0;
  const squares = new ExactSquareSum();
  const maxD = maxAbs(deltaQ);
  // Every partial sum λ·Δ − Σ_{l'<l} a·b is an integer of magnitude ≤ λ·max|Δ| + rank·max|A|·max|B|;
  // below 2^52 (a margin for the bound's own rounding) float64 computes it exactly.
  const fast = 2 ** lambdaExp * maxD + rank * maxAbs(Aq) * maxAbs(Bq) < TWO_52;
  if (fast) {
    const lam = 2 ** lambdaExp;
    const acc = new Float64Array(cols);
    let maxE = 0;
    for (let i = 0; i < rows; i++) {
      for (let c = 0; c < cols; c++) {
        const d = deltaQ[i * cols + c]!;
        if (!Number.isInteger(d)) throw new Error(`quantizeFactors: Δ_q[${i * cols + c}] = ${d} is not an integer`);
        acc[c] = lam * d;
      }
      for (let l = 0; l < rank; l++) {
        const a = Aq[i * rank + l]!;
        if (a === 0) continue;
        const bo = l * cols;
        for (let c = 0; c < cols; c++) acc[c]! -= a * Bq[bo + c]!;
      }
      for (let c = 0; c < cols; c++) {
        const e = acc[c]!;
        if (e === 0) continue;
        nonzeros++;
        const ae = Math.abs(e);
        if (ae > maxE) maxE = ae;
        squares.add(e);
      }
    }
    resMax = BigInt(maxE);
  } else {
    const Ab = Array.from(Aq, (x) => BigInt(x));
    const Bb = Array.from(Bq, (x) => BigInt(x));
    for (let i = 0; i < rows; i++) {
      for (let c = 0; c < cols; c++) {
        const d = deltaQ[i * cols + c]!;
        if (!Number.isSafeInteger(d)) throw new Error(`quantizeFactors: Δ_q[${i * cols + c}] = ${d} is not a safe integer`);
        let e = lambda * BigInt(d);
        for (let l = 0; l < rank; l++) e -= Ab[i * rank + l]! * Bb[l * cols + c]!;
        if (e === 0n) continue;
        nonzeros++;
        const ae = e < 0n ? -e : e;
        if (ae > resMax) resMax = ae;
        squares.addBig(e);
      }
    }
  }

  const A = new Array<bigint>(rows * K).fill(0n);
  for (let i = 0; i < rows; i++) for (let l = 0; l < rank; l++) A[i * K + l] = BigInt(Aq[i * rank + l]!);
  const B = new Array<bigint>(K * paddedCols).fill(0n);
  for (let l = 0; l < rank; l++) for (let c = 0; c < cols; c++) B[l * paddedCols + c] = BigInt(Bq[l * cols + c]!);
  return {
    rows,
    cols,
    rank,
    kappa,
    paddedCols,
    fractionalBits: s,
    factorBitsA: sa,
    factorBitsB: sb,
    lambda,
    A,
    B,
    residualMaxAbs: resMax,
    residualSquaredNorm: squares.total(),
    residualNonzeros: nonzeros,
  };
}

/** `factorsFromSvd` then `quantizeFactors`: the SVD route of `certify` and `profile`. */
export function lowRankFactorsFromDelta(
  deltaQ: Float64Array,
  rows: number,
  cols: number,
  rank: number,
  options: QuantizeFactorOptions & RandomizedSvdOptions,
): QuantizedFactors {
  const { oversampling, powerIterations, seed, ...quantize } = options;
  const svdOptions: SvdFactorOptions = {
    fractionalBits: options.fractionalBits,
    ...(oversampling !== undefined ? { oversampling } : {}),
    ...(powerIterations !== undefined ? { powerIterations } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
  return quantizeFactors(factorsFromSvd(deltaQ, rows, cols, rank, svdOptions), deltaQ, quantize);
}

/**
 * The rows of A one whole-row tile covers: rows rowOffset .. rowOffset + tileRows − 1, as
 * smdp's `LowRankFactors.A` (tileRows × 2^κ, index row·2^κ + l); rows past the tensor's end
 * (padding) are zero, as Δ is there.
 */
export function factorTile(q: Pick<QuantizedFactors, 'A' | 'rows' | 'kappa'>, rowOffset: number, tileRows: number): bigint[] {
  if (!Number.isSafeInteger(rowOffset) || rowOffset < 0 || rowOffset >= Math.max(q.rows, 1)) throw new Error(`factorTile: row offset ${rowOffset} is outside 0..${q.rows - 1}`);
  if (!Number.isSafeInteger(tileRows) || tileRows < 1) throw new Error(`factorTile: expected a tile of ≥ 1 rows, got ${tileRows}`);
  const K = 2 ** q.kappa;
  const out = new Array<bigint>(tileRows * K).fill(0n);
  const end = Math.min(q.rows, rowOffset + tileRows);
  for (let r = rowOffset; r < end; r++) {
    for (let l = 0; l < K; l++) out[(r - rowOffset) * K + l] = q.A[r * K + l]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// LoRA adapters (PEFT)
// ---------------------------------------------------------------------------------------

/** The parts of PEFT's `adapter_config.json` that fix ΔW (validated). */
export interface LoraConfig {
  readonly r: number;
  readonly loraAlpha: number;
  /** scaling = alpha / √r instead of alpha / r (PEFT `use_rslora`). */
  readonly useRslora: boolean;
  /** Weights stored transposed (in × out), e.g. GPT-2 Conv1D (PEFT `fan_in_fan_out`). */
  readonly fanInFanOut: boolean;
  /** Per-module overrides of r and alpha; keys match a module name or a dotted suffix of it. */
  readonly rankPattern: Readonly<Record<string, number>>;
  readonly alphaPattern: Readonly<Record<string, number>>;
  readonly targetModules: readonly string[] | string | null;
}

function adapterError(message: string, where: { file?: string; tensor?: string; field?: string }): never {
  const at = [where.file !== undefined ? `${where.file}` : null, where.tensor !== undefined ? `tensor ${JSON.stringify(where.tensor)}` : null].filter((x) => x !== null).join(', ');
  throw new ModelError('BAD_ADAPTER', at.length > 0 ? `${at}: ${message}` : message, {
    ...(where.file !== undefined ? { file: where.file } : {}),
    ...(where.tensor !== undefined ? { tensor: where.tensor } : {}),
    ...(where.field !== undefined ? { field: where.field } : {}),
  });
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function positiveNumber(x: unknown, field: string, file: string | undefined, integer: boolean): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0 || (integer && !Number.isSafeInteger(x))) {
    adapterError(`${field} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(x)}`, { ...(file !== undefined ? { file } : {}), field });
  }
  return x;
}

function patternRecord(x: unknown, field: string, file: string | undefined, integer: boolean): Record<string, number> {
  if (x === undefined || x === null) return {};
  if (!isRecord(x)) adapterError(`${field} must be an object of module → number, got ${JSON.stringify(x)}`, { ...(file !== undefined ? { file } : {}), field });
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(x)) out[k] = positiveNumber(v, `${field}.${k}`, file, integer);
  return out;
}

/**
 * Validate an `adapter_config.json` object (PEFT LoRA). Keys other than those listed in
 * `LoraConfig` are ignored (PEFT configs carry many training-only keys); `use_dora: true` is
 * refused: DoRA rescales W by a learned magnitude, which is not an additive low-rank update.
 */
export function parseAdapterConfig(json: unknown, file?: string): LoraConfig {
  const at = file !== undefined ? { file } : {};
  if (!isRecord(json)) adapterError('adapter config must be a JSON object', at);
  if (json.peft_type !== undefined && json.peft_type !== 'LORA') adapterError(`peft_type ${JSON.stringify(json.peft_type)} is not supported (LORA only)`, { ...at, field: 'peft_type' });
  if (json.use_dora === true) adapterError('DoRA adapters (use_dora) are not supported: the update is not additive low-rank', { ...at, field: 'use_dora' });
  const r = positiveNumber(json.r, 'r', file, true);
  const loraAlpha = json.lora_alpha === undefined ? r : positiveNumber(json.lora_alpha, 'lora_alpha', file, false);
  for (const key of ['use_rslora', 'fan_in_fan_out'] as const) {
    if (json[key] !== undefined && typeof json[key] !== 'boolean') adapterError(`${key} must be a boolean, got ${JSON.stringify(json[key])}`, { ...at, field: key });
  }
  const tm = json.target_modules;
  if (tm !== undefined && tm !== null && typeof tm !== 'string' && !(Array.isArray(tm) && tm.every((x) => typeof x === 'string'))) {
    adapterError('target_modules must be a string or a list of strings', { ...at, field: 'target_modules' });
  }
  return {
    r,
    loraAlpha,
    useRslora: json.use_rslora === true,
    fanInFanOut: json.fan_in_fan_out === true,
    rankPattern: patternRecord(json.rank_pattern, 'rank_pattern', file, true),
    alphaPattern: patternRecord(json.alpha_pattern, 'alpha_pattern', file, false),
    targetModules: tm === undefined || tm === null ? null : tm,
  };
}

/** The PEFT prefix of saved adapter keys (`PeftModel` wraps the base model twice). */
const PEFT_PREFIX = 'base_model.model.';

/**
 * `base_model.model.<module>.lora_A.weight` → { module, part: 'A', embedding: false }.
 * Accepted forms (PEFT, saved and in-memory): `.lora_A.weight`, `.lora_B.weight`,
 * `.lora_A.<adapter>.weight` (in-memory state dicts keep the adapter name, e.g. `default`),
 * and for embeddings `.lora_embedding_A` / `.lora_embedding_B` (optionally `.<adapter>`).
 * The prefix is optional (other tools save without it). Anything else → null.
 */
export function parseLoraTensorName(name: string): { module: string; part: 'A' | 'B'; embedding: boolean } | null {
  // Linear layers end in `.weight`; embedding factors do not (they are bare Parameters).
  const weight = name.endsWith('.weight');
  const rest = weight ? name.slice(0, -'.weight'.length) : name;
  const m = /^(.+)\.lora_(embedding_)?(A|B)(?:\.([A-Za-z0-9_-]+))?$/.exec(rest);
  if (!m) return null;
  const [, path, emb, part] = m;
  const embedding = emb !== undefined;
  if (embedding === weight) return null;
  const module = path!.startsWith(PEFT_PREFIX) ? path!.slice(PEFT_PREFIX.length) : path!;
  return { module, part: part as 'A' | 'B', embedding };
}

/**
 * The base tensor a LoRA module updates: `<module>.weight`. Base checkpoints differ in a
 * leading `model.` (a Llama checkpoint saves `model.layers.…`; a PEFT-wrapped LlamaForCausalLM
 * names the same module `model.layers.…`, but a bare LlamaModel names it `layers.…`), so when
 * the base's tensor names are known, `<module>.weight`, then the name without, then with a
 * leading `model.` are tried in that order; the first present wins.
 */
export function loraBaseTensorName(module: string, baseNames?: ReadonlySet<string>): string | null {
  const exact = `${module}.weight`;
  if (baseNames === undefined) return exact;
  const candidates = [exact, module.startsWith('model.') ? `${module.slice(6)}.weight` : null, `model.${module}.weight`];
  for (const c of candidates) if (c !== null && baseNames.has(c)) return c;
  return null;
}

/** PEFT's pattern lookup with literal keys: a key applies when it is the module name or a dotted suffix. */
function patternValue(patterns: Readonly<Record<string, number>>, module: string): number | undefined {
  for (const [key, v] of Object.entries(patterns)) if (module === key || module.endsWith(`.${key}`)) return v;
  return undefined;
}

export interface AdapterTensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** Values in real units (decoded from the adapter's dtype). */
  readonly data: Float64Array;
}

export interface LoraUpdate {
  /** The base tensor this update applies to. */
  readonly tensor: string;
  readonly module: string;
  /** ΔW = A·B, A: rows × rank (scaling folded in), B: rank × cols; rows × cols is the base tensor's matrix view. */
  readonly factors: RealFactors;
  readonly scaling: number;
}

/**
 * Pair the `lora_A`/`lora_B` tensors of an adapter and turn each pair into real factors of
 * ΔW in the base tensor's layout:
 *   linear      ΔW (out × in) = scaling·B_lora·A_lora       → A = scaling·B_lora, B = A_lora
 *   fan_in_fan_out (weight stored in × out) ΔWᵀ             → A = scaling·A_loraᵀ, B = B_loraᵀ
 *   embedding   ΔW (vocab × dim) = scaling·(B_e·A_e)ᵀ       → A = scaling·A_eᵀ, B = B_eᵀ
 * with A_e: r × vocab, B_e: dim × r (PEFT's Embedding layer). The rank is the module's r
 * (rank_pattern, else r) and must match the tensors' shapes. Returns the updates and the
 * names of adapter tensors that are not LoRA factors (e.g. trained biases, modules_to_save),
 * which the caller treats as full tensors. Unpaired factors, shape mismatches, DoRA magnitude
 * vectors, convolutional LoRA (4-D factors: not supported in v1) and (when `baseNames` is
 * given) modules with no base tensor are BAD_ADAPTER errors. `target_modules` is not
 * enforced: the tensors present are what the adapter changes.
 */
export function loraUpdates(
  tensors: readonly AdapterTensor[],
  config: LoraConfig,
  options: { readonly file?: string; readonly baseNames?: ReadonlySet<string> } = {},
): { updates: LoraUpdate[]; others: string[] } {
  const file = options.file;
  const at = (tensor: string, field?: string) => ({ ...(file !== undefined ? { file } : {}), tensor, ...(field !== undefined ? { field } : {}) });
  const pairs = new Map<string, { A?: AdapterTensor; B?: AdapterTensor; embedding: boolean }>();
  const others: string[] = [];
  for (const t of tensors) {
    if (/\.lora_magnitude_vector(\.|$)/.test(t.name)) adapterError('DoRA magnitude vectors are not supported: the update is not additive low-rank', at(t.name));
    const parsed = parseLoraTensorName(t.name);
    if (!parsed) {
      others.push(t.name);
      continue;
    }
    if (t.shape.length !== 2) adapterError(`a LoRA factor must be 2-D, got shape [${t.shape.join(', ')}]`, at(t.name, 'shape'));
    if (t.data.length !== t.shape[0]! * t.shape[1]!) adapterError(`data has ${t.data.length} values for shape [${t.shape.join(', ')}]`, at(t.name, 'data'));
    const entry = pairs.get(parsed.module) ?? { embedding: parsed.embedding };
    if (entry.embedding !== parsed.embedding || entry[parsed.part] !== undefined) adapterError(`duplicate or mixed LoRA factor for module ${JSON.stringify(parsed.module)}`, at(t.name));
    entry[parsed.part] = t;
    pairs.set(parsed.module, entry);
  }
  const updates: LoraUpdate[] = [];
  for (const [module, { A: ta, B: tb, embedding }] of [...pairs].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    if (!ta || !tb) adapterError(`module ${JSON.stringify(module)} has lora_${ta ? 'A' : 'B'} but no lora_${ta ? 'B' : 'A'}`, at((ta ?? tb)!.name));
    const tensor = loraBaseTensorName(module, options.baseNames);
    if (tensor === null) adapterError(`no base tensor ${JSON.stringify(`${module}.weight`)} (nor with/without a leading "model.") for this LoRA module`, at(ta.name));
    const rank = patternValue(config.rankPattern, module) ?? config.r;
    const alpha = patternValue(config.alphaPattern, module) ?? config.loraAlpha;
    const scaling = config.useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
    // Linear: A_lora r × in, B_lora out × r. Embedding: A_e r × vocab, B_e dim × r.
    const [ra, na] = ta.shape as [number, number];
    const [nb, rb] = tb.shape as [number, number];
    if (ra !== rank || rb !== rank) adapterError(`LoRA rank from the shapes (lora_A [${ta.shape.join(', ')}], lora_B [${tb.shape.join(', ')}]) differs from the configured r = ${rank}`, at(ta.name, 'shape'));
    // transposed: the base weight is (A_loraᵀ·B_loraᵀ)-shaped, i.e. in × out.
    const transposed = embedding || config.fanInFanOut;
    const rows = transposed ? na : nb;
    const cols = transposed ? nb : na;
    const A = new Float64Array(rows * rank);
    const B = new Float64Array(rank * cols);
    if (transposed) {
      for (let i = 0; i < rows; i++) for (let l = 0; l < rank; l++) A[i * rank + l] = scaling * ta.data[l * na + i]!;
      for (let l = 0; l < rank; l++) for (let c = 0; c < cols; c++) B[l * cols + c] = tb.data[c * rank + l]!;
    } else {
      for (let i = 0; i < rows; i++) for (let l = 0; l < rank; l++) A[i * rank + l] = scaling * tb.data[i * rank + l]!;
      B.set(ta.data);
    }
    for (const [what, xs, t] of [['A', A, ta], ['B', B, tb]] as const) {
      for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i]!)) adapterError(`LoRA factor value is not finite (factor ${what}, entry ${i})`, at(t.name, `data`));
    }
    updates.push({ tensor, module, scaling, factors: { rows, cols, rank, A, B } });
  }
  return { updates, others };
}

/**
 * Check an update's factors against the base tensor's shape (matrix view, PROTOCOLS §1): the
 * adapter must produce exactly rows × cols. BAD_ADAPTER naming the tensor otherwise.
 */
export function checkLoraShape(update: LoraUpdate, baseShape: readonly number[], file?: string): void {
  const { rows, cols } = matrixView(baseShape);
  if (BigInt(update.factors.rows) !== rows || BigInt(update.factors.cols) !== cols) {
    adapterError(`LoRA update of module ${JSON.stringify(update.module)} is ${update.factors.rows} × ${update.factors.cols}, but the base tensor's matrix view is ${rows} × ${cols}`, {
      ...(file !== undefined ? { file } : {}),
      tensor: update.tensor,
      field: 'shape',
    });
  }
}
