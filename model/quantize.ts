/**
 * Quantization (PROTOCOLS.md §1; issue 3 item 2): a weight w maps to the integer
 *   q(w) = roundHalfEven(w · 2^s),  s = the policy's fractional bits (default 24),
 * and Δ = q(W_ft) − q(W_base) is exact integer arithmetic. Real bounds convert with
 * |q(w)/2^s − w| ≤ 2^-(s+1).
 *
 * Exactness in float64. Inputs are doubles decoded exactly from F64/F32/F16/BF16
 * (safetensors.ts). Multiplying by 2^s (s a non-negative integer) only adds s to the binary
 * exponent: the product is exact unless it overflows to ±∞ (then |q| ≥ 2^53 below), and a
 * subnormal w only gains precision. Rounding that exact double half-to-even is exact too
 * (`roundHalfEven`). Results must stay below 2^53 in magnitude so that they — and Δ, checked
 * by the callers that subtract — are exact integers in a double; for the float dtypes and
 * s ≤ 40 (the policy's range) that excludes only weights with |w| ≥ 2^(53−s), e.g. above 8192
 * at s = 40 or above 2^29 at s = 24.
 *
 * Bad input, naming the tensor and its flat (row-major) index: NaN or ±∞ → NON_FINITE;
 * |q| ≥ 2^53 → QUANTIZE_OVERFLOW. A quantized −0 is returned as +0 (the integer 0).
 */
import { ModelError, type ModelErrorCode } from './errors.ts';

export interface QuantizeWhere {
  readonly file?: string;
  readonly tensor: string;
  /** Flat index of values[0] within the tensor (for streamed chunks). */
  readonly startIndex: number;
  /** The tensor's shape, to name the position as coordinates too. */
  readonly shape?: readonly number[];
}

/** |q| must stay below this for q and Δ to be exact in a double. */
export const QUANTIZED_LIMIT = 2 ** 53;

/**
 * Round to the nearest integer, ties to even, exactly for every double. Math.round rounds
 * halves towards +∞; x = k + ½ is a tie exactly when r − x = ½. That difference is exact:
 * either r = 0, or r and x lie within a factor of two of each other (|r − x| ≤ ½ and
 * |x| ≥ ½), where Sterbenz's lemma makes the subtraction exact. An odd r at a tie then moves
 * down to the even neighbour. Above 2^52 every double is an integer and
 * Math.round returns it unchanged. NaN and ±∞ come back as they are.
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The same function under the name the first engine code used. */
export const roundHalfEvenExact = roundHalfEven;

function checkFractionalBits(s: number): number {
  // 2^s must be a finite power of two for the product to be exact; policies allow 0..40.
  if (!Number.isInteger(s) || s < 0 || s > 1000) throw new RangeError(`quantize: fractional bits must be an integer in 0..1000, got ${s}`);
  return 2 ** s;
}

/** Row-major coordinates of a flat index, when the shape is known and consistent. */
function coordinates(index: number, shape: readonly number[] | undefined): string {
  if (shape === undefined || shape.length < 2) return '';
  const coords: number[] = [];
  let rest = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    if (!(n > 0)) return '';
    coords.unshift(rest % n);
    rest = Math.floor(rest / n);
  }
  return rest === 0 ? ` (position [${coords.join(', ')}])` : '';
}

function badWeight(code: ModelErrorCode, what: string, where: QuantizeWhere, i: number): ModelError {
  const index = where.startIndex + i;
  const file = where.file !== undefined ? `${where.file}: ` : '';
  return new ModelError(code, `${file}tensor ${JSON.stringify(where.tensor)}: weight at flat index ${index}${coordinates(index, where.shape)} ${what}`, {
    ...(where.file !== undefined ? { file: where.file } : {}),
    tensor: where.tensor,
    field: `[${index}]`,
  });
}

function quantizeOne(w: number, scale: number, s: number, where: QuantizeWhere, i: number): number {
  if (!Number.isFinite(w)) throw badWeight('NON_FINITE', `is ${w}: weights must be finite`, where, i);
  const q = roundHalfEven(w * scale);
  if (!(Math.abs(q) < QUANTIZED_LIMIT)) throw badWeight('QUANTIZE_OVERFLOW', `is ${w}: |w·2^${s}| ≥ 2^53, too large to quantize exactly with ${s} fractional bits`, where, i);
  return q + 0; // −0 + 0 = +0
}

/** q(w) for each value, as integers held exactly in a Float64Array. */
export function quantize(values: Float64Array, s: number, where: QuantizeWhere): Float64Array {
  const scale = checkFractionalBits(s);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = quantizeOne(values[i]!, scale, s, where, i);
  return out;
}

/** q(w) for each value as 64-bit integers (|q| < 2^53, so they fit with room to spare). */
export function quantizeToBigInt(values: Float64Array, s: number, where: QuantizeWhere): BigInt64Array {
  const scale = checkFractionalBits(s);
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(quantizeOne(values[i]!, scale, s, where, i));
  return out;
}
