/**
 * Bad input in model/ (safetensors files, policies, shapes, templates): one error class with
 * a stable `code` naming what was wrong, and where — the file, the tensor and the field —
 * so the CLI prints one clear line (exit 2) and never a stack trace (DESIGN.md "Reliability
 * rules"; STYLE.md: bad input is a typed error, a rejected proof is a value).
 * Codes are only ever added, never renamed: callers and tests match on them.
 */

export type ModelErrorCode =
  /** A policy file or value that is not a valid version-1 policy (names the rule and key). */
  | 'BAD_POLICY'
  /** A tensor shape that is not a list of non-negative integers, or too large. */
  | 'BAD_SHAPE'
  /** A value outside its allowed range (e.g. a base L2 norm that is NaN). */
  | 'BAD_VALUE'
  /** A dtype the requested operation cannot handle (e.g. an integer tensor under `norm`). */
  | 'UNSUPPORTED_DTYPE'
  /** A lowrank tensor whose rows do not fit one block of the SRS (PROTOCOLS §1). */
  | 'ROW_TOO_LONG'
  /** A bound too large for exact arithmetic in the proof field. */
  | 'BOUND_TOO_LARGE'
  /** `--policy NAME` that is neither a file nor a known template. */
  | 'UNKNOWN_TEMPLATE'
  /** A template that finds nothing in the model it would let change. */
  | 'TEMPLATE_NO_MATCH'
  /** A template that cannot express its intent as a policy for this model. */
  | 'TEMPLATE_AMBIGUOUS'
  /** A file that does not exist. */
  | 'NOT_FOUND'
  /** A file that exists but cannot be read. */
  | 'IO_ERROR'
  /** A NaN or ±Inf weight, or one too large to quantize exactly (names the tensor and index). */
  | 'NON_FINITE'
  /** A LoRA adapter or adapter config that cannot be turned into factors (names the tensor and key). */
  | 'BAD_ADAPTER'
  /** A file shorter than its own header says (or than a read needs). */
  | 'TRUNCATED'
  /** A safetensors header longer than the 100 MB cap. */
  | 'HEADER_TOO_LARGE'
  /** A safetensors header that is not a valid JSON object of tensor entries. */
  | 'BAD_HEADER'
  /** Tensor offsets that overlap, leave holes, or disagree with dtype × shape. */
  | 'BAD_OFFSETS'
  /** A dtype name safetensors does not define. */
  | 'UNKNOWN_DTYPE'
  /** A sharded model index that does not match its shards. */
  | 'BAD_INDEX'
  /** A tensor name given twice in one header, or found in two shards of one model. */
  | 'DUPLICATE_TENSOR'
  /** A tensor name that the file or model does not contain. */
  | 'UNKNOWN_TENSOR'
  /** A finite weight whose quantized value q(w) = roundHalfEven(w·2^s) is not below 2^53. */
  | 'QUANTIZE_OVERFLOW';

export interface ModelErrorWhere {
  readonly file?: string;
  readonly tensor?: string;
  readonly field?: string;
}

export class ModelError extends Error {
  override readonly name = 'ModelError';
  readonly file?: string;
  readonly tensor?: string;
  readonly field?: string;
  constructor(
    readonly code: ModelErrorCode,
    /** The whole message, already naming the file / tensor / field it is about. */
    message: string,
    where: ModelErrorWhere = {},
  ) {
    super(message);
    if (where.file !== undefined) this.file = where.file;
    if (where.tensor !== undefined) this.tensor = where.tensor;
    if (where.field !== undefined) this.field = where.field;
  }
}
