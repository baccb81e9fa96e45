/**
 * What every drift-class verifier returns: either `rejected` with a reason, or valid with
 * the block's pending pairing accumulator (its non-pairing checks have passed) and the
 * summary the tensor-level checks of aggregation need (PROTOCOLS.md §6).
 */
import type { PendingAccumulator } from '../accumulator.ts';
import type { G1Point } from '../field.ts';

export interface BlockSummary {
  /** sparse: k'_b, the number of nonzeros this block claims (revealed: counted). */
  readonly nonzeros?: number;
  /** norm / lowrank-l2: S_b = Σ Δ_i² (or Σ E_i²) in quantized units². */
  readonly squaredNorm?: bigint;
  /** lowrank: the tensor-level commitment C_B this tile cites. */
  readonly factorCommitment?: G1Point;
}

export type BlockCheck =
  | {
      readonly valid: true;
      /** null for blocks with no pairing check (sparse revealed, free). */
      readonly accumulator: PendingAccumulator | null;
      readonly summary: BlockSummary;
    }
  | { readonly valid: false; readonly reason: string };

export function blockRejected(reason: string): BlockCheck {
  return { valid: false, reason };
}
