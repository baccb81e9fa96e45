/**
 * The three outcomes of SMDP kept apart (STYLE.md, after c-kzg-4844):
 * - valid / rejected: a `Verdict` value — a proof that does not verify is not an error;
 * - bad input: a thrown `SmdpError` with a stable `code` (untrusted bytes that cannot even be
 *   parsed into typed values: wrong lengths, non-canonical encodings, points off the curve …);
 * - a prover asked to prove something false: a thrown `DriftPolicyViolation` naming the
 *   check, the measured value and the bound.
 */

/** Stable codes of bad-input errors. Never renamed: callers and tests match on them. */
export type SmdpErrorCode =
  /** A byte string of the wrong length (e.g. a G1 point that is not 48 bytes). */
  | 'BAD_LENGTH'
  /** A valid value encoded in a non-canonical way (flag bits, x ≥ p, padding …). */
  | 'NON_CANONICAL'
  /** An encoded x-coordinate with no point on the curve. */
  | 'NOT_ON_CURVE'
  /** A curve point outside the prime-order subgroup. */
  | 'NOT_IN_SUBGROUP'
  /** A scalar ≥ r. */
  | 'SCALAR_OUT_OF_RANGE'
  /** Input ended before a field was complete. */
  | 'TRUNCATED'
  /** Bytes left over after a complete object. */
  | 'TRAILING_BYTES'
  /** Wrong magic bytes: not the format the caller expects. */
  | 'BAD_MAGIC'
  /** A format or protocol version this code does not know. */
  | 'UNSUPPORTED_VERSION'
  /** A field whose value is outside its allowed range or set. */
  | 'BAD_VALUE'
  /** A declared size above a hard cap on untrusted input. */
  | 'LIMIT_EXCEEDED'
  /** The SRS has fewer variables than the block needs. */
  | 'SRS_TOO_SMALL'
  /** A digest that does not match the content it covers. */
  | 'DIGEST_MISMATCH'
  /** Malformed JSON or JSON of the wrong shape. */
  | 'BAD_JSON';

export class SmdpError extends Error {
  override readonly name = 'SmdpError';
  constructor(
    readonly code: SmdpErrorCode,
    /** Which field of which object was bad, e.g. `certificate.blocks[3].proof.quotients[2]`. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Throw a bad-input error. */
export function badInput(code: SmdpErrorCode, field: string, message: string): never {
  throw new SmdpError(code, field, message);
}

/**
 * The prover refuses: the block is outside its drift class. `measured` and `bound` are given
 * in the units the class uses (quantized units unless `unit` says otherwise).
 */
export class DriftPolicyViolation extends Error {
  override readonly name = 'DriftPolicyViolation';
  constructor(
    /** The check that fails, e.g. `norm.l2`, `sparse.nonzeros`, `lowrank.residual.linf`. */
    readonly check: string,
    readonly measured: string,
    readonly bound: string,
    /** What is wrong, in words (the message adds the check, measured value and bound). */
    readonly detail: string,
    /** The block (index in its tensor) at fault, when the prover knows it (units of blocks). */
    readonly block?: number,
  ) {
    super(`${check}: ${detail} (measured ${measured}, bound ${bound})`);
  }
}

/** Valid, or rejected with a reason. Never thrown. */
export type Verdict = { readonly valid: true } | { readonly valid: false; readonly reason: string };

export const VALID: Verdict = Object.freeze({ valid: true });
export function rejected(reason: string): Verdict {
  return { valid: false, reason };
}

/** Internal invariant check for programmer errors (never for untrusted input). */
export function invariant(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`invariant: ${message}`);
}
