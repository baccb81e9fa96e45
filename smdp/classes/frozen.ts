/**
 * Drift class `frozen` — PROTOCOLS.md §5.1. Tensor level, no commitment, no proof.
 *
 * Relation: the fine-tuned tensor's raw bytes equal the base tensor's, bound by SHA-256:
 *   SHA-256(bytes_ft) = SHA-256(bytes_base).
 * The certificate carries the fine-tuned tensor's digest; the verifier compares it with the
 * base manifest's (this file); the deployer compares it with the bytes it serves.
 * Why raw bytes rather than the quantized commitment: equality of raw bytes is exact, so the
 * claim carries no rounding caveat (|q(w)/2^s − w| ≤ 2^-(s+1) does not enter), and the check
 * costs one hash comparison per tensor. Bytes that differ only below the quantization step are
 * therefore NOT frozen; a policy that wants that says `linf` with bound 0.
 * Assumption: collision resistance of SHA-256 (≈ 128-bit); no soundness error beyond it.
 */
import { SmdpError, VALID, rejected, type Verdict } from '../errors.ts';

const SHA256_HEX = /^[0-9a-f]{64}$/;

function checkDigestHex(field: string, tensor: string, hex: string): void {
  if (typeof hex !== 'string' || !SHA256_HEX.test(hex)) {
    const shown = typeof hex === 'string' ? JSON.stringify(hex.length > 80 ? `${hex.slice(0, 80)}…` : hex) : typeof hex;
    throw new SmdpError('BAD_VALUE', `frozen.${field}`, `tensor ${JSON.stringify(tensor)}: expected a SHA-256 digest as 64 lowercase hex characters, got ${shown}`);
  }
}

/**
 * Check a frozen tensor: valid iff the fine-tuned digest equals the base manifest's. Digests
 * that are not 64 lowercase hex characters are bad input (SmdpError BAD_VALUE naming the field).
 */
export function checkFrozen(tensor: string, baseSha256Hex: string, ftSha256Hex: string): Verdict {
  checkDigestHex('baseSha256Hex', tensor, baseSha256Hex);
  checkDigestHex('ftSha256Hex', tensor, ftSha256Hex);
  if (baseSha256Hex !== ftSha256Hex) {
    return rejected(`frozen tensor ${JSON.stringify(tensor)} changed: fine-tuned SHA-256 ${ftSha256Hex} differs from the base manifest's ${baseSha256Hex}`);
  }
  return VALID;
}
