/**
 * What the certification steps need from a model, whatever stores it (local safetensors now,
 * S3 ranged reads in the pipeline): the tensor list, raw-byte hashes, and decoded values of
 * one tensor at a time (memory bounded by the largest tensor, not the model).
 */
import type { TensorMeta } from '../model/planner.ts';

export interface ModelReader {
  /** Where the model comes from (a path or URI), for messages. */
  readonly label: string;
  readonly tensors: readonly TensorMeta[];
  /** The model's files and their SHA-256 (hex). */
  files(): Promise<{ name: string; sha256: string }[]>;
  /** SHA-256 (hex) of one tensor's raw little-endian bytes. */
  tensorSha256(name: string): Promise<string>;
  /** One float tensor's values, row-major, as float64 (exact for F64/F32/F16/BF16). */
  readValues(name: string): Promise<Float64Array>;
  close(): Promise<void>;
}
