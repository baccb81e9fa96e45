/**
 * Drift class `free` — PROTOCOLS.md §5.6. No constraint on Δ.
 *
 * Relation: none. The block's commitments C_base and C_ft are still recorded in the
 * certificate (the deployer binds the served weights to C_ft), but nothing is proven about
 * C_ft − C_base, so there is no proof and no pairing check (accumulator null). The only way to
 * reject is a statement that does not claim `free`: a free check must never stand in for
 * another class's proof.
 */
import type { BlockStatement } from '../statement.ts';
import { blockRejected, type BlockCheck } from './common.ts';

export function verifyFree(st: BlockStatement): BlockCheck {
  if (st.drift.class !== 'free') return blockRejected(`statement class is ${st.drift.class}, a free block proves nothing about it`);
  return { valid: true, accumulator: null, summary: {} };
}
