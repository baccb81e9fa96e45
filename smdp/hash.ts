/**
 * SHA-256, the hash of transcripts (PROTOCOLS.md §3), aggregation digests and certificate
 * digests. `@noble/hashes` is the default and the reference; a host may install a faster
 * implementation of the same function with `useSha256` (native/loader.ts installs Node's
 * OpenSSL one: the verifier hashes every block's transcript, proof bytes and leaf digest,
 * and the pure-JS compression function was ≈ 10 % of a certificate's verify time). smdp/
 * never chooses one itself, so it stays free of host modules.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** SHA-256 of `data`: a fresh 32-byte array the caller may keep. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

let installed: Sha256 = nobleSha256;

export function sha256(data: Uint8Array): Uint8Array {
  return installed(data);
}

/** The pure-JS SHA-256 (the default). */
export const sha256Js: Sha256 = nobleSha256;

/** Install a SHA-256 implementation (`sha256Js` restores the default); returns the previous one. */
export function useSha256(fn: Sha256): Sha256 {
  const previous = installed;
  installed = fn;
  return previous;
}
