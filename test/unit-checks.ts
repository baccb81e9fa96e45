/**
 * Shared checks of the proving-unit tests (norm-unit, lowrank-unit, sparse-unit): a unit's
 * verdict including its pairing, and the flipped-byte sweep over a unit proof's encoding.
 */
import assert from 'node:assert/strict';
import { pairingCheck } from '../smdp/accumulator.ts';
import type { UnitCheck } from '../smdp/classes/norm-unit.ts';
import { SmdpError } from '../smdp/errors.ts';
import type { VerifierKey } from '../smdp/srs.ts';

/** A unit check that passed its non-pairing checks and whose accumulator passes the pairing. */
export function unitAccepted(vk: VerifierKey, chk: UnitCheck): boolean {
  return chk.valid && (chk.accumulator === null || pairingCheck(vk, chk.accumulator.evaluate()));
}

/**
 * Flip one bit in about `samples` evenly spaced bytes of `bytes`; each variant must be rejected:
 * `accepted` (decode + verify + pairing) returns false, or the decoder throws an SmdpError.
 */
export function assertFlippedBytesRejected(bytes: Uint8Array, samples: number, accepted: (b: Uint8Array) => boolean): void {
  for (let i = 0; i < bytes.length; i += Math.max(1, Math.floor(bytes.length / samples))) {
    const b = bytes.slice();
    b[i]! ^= 1 << i % 8;
    let ok = false;
    try {
      ok = accepted(b);
    } catch (e) {
      if (!(e instanceof SmdpError)) throw e;
    }
    assert.ok(!ok, `flipped byte ${i} of ${bytes.length}`);
  }
}
