/**
 * Quantization (PROTOCOLS.md §1): q(w) = roundHalfEven(w · 2^s), exact.
 *
 * Inputs are float64 values decoded exactly from F64/F32/F16/BF16. Multiplying by 2^s only
 * shifts the exponent, so w·2^s is exact unless it overflows (|w·2^s| ≥ 2^1024, impossible
 * here since |q| must stay below 2^53 anyway) or underflows (subnormal w, where w·2^s is
 * still exact because 2^s ≥ 1). Round-half-to-even of an exact double is exact in doubles:
 * r = Math.round(x) rounds halves up, so ties are detected and moved to the even neighbour.
 * Results must be safe integers (|q| < 2^53) so Δ = q_ft − q_base is exact too; larger values
 * are bad input naming the tensor and flat index, as are NaN and ±Inf.
 */
import { ModelError } from './errors.ts';

export interface QuantizeWhere {
  readonly file?: string;
  readonly tensor: string;
  /** Flat index of values[0] within the tensor (streamed chunks). */
  readonly startIndex: number;
}

/** Round half to even for an exactly representable double. */
export function roundHalfEvenExact(x: number): number {
  const r = Math.round(x); // halves round towards +∞
  if (r - x === 0.5 && r % 2 !== 0) return r - 1; // x = k + ½ with k even: Math.round went to the odd k + 1
  return r;
}

const LIMIT = 2 ** 53;

export function quantize(values: Float64Array, s: number, where: QuantizeWhere): Float64Array {
  if (!Number.isInteger(s) || s < 0 || s > 60) throw new Error(`quantize: fractional bits must be an integer in 0..60, got ${s}`);
  const scale = 2 ** s;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const w = values[i]!;
    if (!Number.isFinite(w)) {
      throw new ModelError('NON_FINITE', `${where.file !== undefined ? `${where.file}: ` : ''}tensor ${JSON.stringify(where.tensor)}: weight at flat index ${where.startIndex + i} is ${w}`, {
        ...(where.file !== undefined ? { file: where.file } : {}),
        tensor: where.tensor,
        field: `[${where.startIndex + i}]`,
      });
    }
    const q = roundHalfEvenExact(w * scale);
    if (Math.abs(q) >= LIMIT) {
      throw new ModelError(
        'NON_FINITE',
        `${where.file !== undefined ? `${where.file}: ` : ''}tensor ${JSON.stringify(where.tensor)}: weight ${w} at flat index ${where.startIndex + i} is too large to quantize exactly with s = ${s} (|w·2^s| ≥ 2^53)`,
        { ...(where.file !== undefined ? { file: where.file } : {}), tensor: where.tensor, field: `[${where.startIndex + i}]` },
      );
    }
    out[i] = q === 0 ? 0 : q; // no −0
  }
  return out;
}
