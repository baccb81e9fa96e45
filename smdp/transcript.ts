/**
 * Fiat–Shamir transcript (PROTOCOLS.md §3).
 *
 * State: a 32-byte SHA-256 chaining value, initialised from the versioned domain separator
 * `FTI-SMDP-V1` and a protocol label. `absorb(label, bytes)` sets
 *   state ← SHA-256(0x01 ‖ state ‖ u32(|label|) ‖ label ‖ u64(|bytes|) ‖ bytes),
 * so every message is length-prefixed and order-dependent. A challenge squeezes 64 bytes
 *   SHA-256(0x02 ‖ state ‖ framed label ‖ 0x00) ‖ SHA-256(0x02 ‖ state ‖ framed label ‖ 0x01)
 * and reduces them mod r (bias ≤ 2^-257); the state then absorbs the challenge label, so the
 * next challenge differs. Points are absorbed in canonical compressed form and scalars as
 * 32-byte big-endian, so two encodings of one statement cannot give two transcripts.
 */
import { sha256 } from './hash.ts';
import { concatBytes } from '@noble/hashes/utils.js';
import { bytesToBigint, encodeG1, encodeG1s, encodeScalar } from './encoding.ts';
import { R, type G1Point } from './field.ts';

/** Versioned domain separator; bump on any change to what is absorbed or how. */
export const TRANSCRIPT_DOMAIN = 'FTI-SMDP-V1';

const enc = new TextEncoder();

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

/** Framed labels of recent labels: verifiers use the same few hundred labels in every block. */
const framedLabels = new Map<string, Uint8Array>();

/** u32(len) ‖ utf8(label); callers only read it (it may be shared). */
function framedLabel(label: string): Uint8Array {
  let f = framedLabels.get(label);
  if (f === undefined) {
    const l = enc.encode(label);
    f = concatBytes(u32(l.length), l);
    if (framedLabels.size >= 4096) framedLabels.clear();
    framedLabels.set(label, f);
  }
  return f;
}

export class Transcript {
  private state: Uint8Array;

  constructor(protocol: string) {
    this.state = sha256(concatBytes(enc.encode(TRANSCRIPT_DOMAIN), new Uint8Array([0]), framedLabel(protocol)));
  }

  /** A copy that continues independently (used to re-derive challenges in tests). */
  fork(): Transcript {
    const t = Object.create(Transcript.prototype) as Transcript;
    t.state = this.state.slice();
    return t;
  }

  absorb(label: string, bytes: Uint8Array): this {
    // 0x01 ‖ state ‖ framed label ‖ u64(|bytes|) ‖ bytes, written into one buffer.
    const fl = framedLabel(label);
    const buf = new Uint8Array(1 + 32 + fl.length + 8 + bytes.length);
    buf[0] = 1;
    buf.set(this.state, 1);
    buf.set(fl, 33);
    buf.set(u64(bytes.length), 33 + fl.length);
    buf.set(bytes, 41 + fl.length);
    this.state = sha256(buf);
    return this;
  }

  absorbString(label: string, s: string): this {
    return this.absorb(label, enc.encode(s));
  }

  absorbU64(label: string, n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`Transcript.absorbU64: expected a non-negative safe integer, got ${n}`);
    return this.absorb(label, u64(n));
  }

  absorbScalar(label: string, x: bigint): this {
    return this.absorb(label, encodeScalar(x));
  }

  absorbScalars(label: string, xs: readonly bigint[]): this {
    return this.absorb(label, concatBytes(u64(xs.length), ...xs.map(encodeScalar)));
  }

  absorbG1(label: string, p: G1Point): this {
    return this.absorb(label, encodeG1(p));
  }

  absorbG1s(label: string, ps: readonly G1Point[]): this {
    return this.absorb(label, concatBytes(u64(ps.length), ...encodeG1s(ps)));
  }

  /** A challenge in Fr from 64 squeezed bytes reduced mod r. */
  challenge(label: string): bigint {
    const fl = framedLabel(label);
    // 0x02 ‖ state ‖ framed label ‖ i for i = 0, 1 (one buffer, last byte rewritten), then
    // the state update 0x03 ‖ state ‖ framed label (the same buffer, one byte shorter).
    const buf = new Uint8Array(1 + 32 + fl.length + 1);
    buf[0] = 2;
    buf.set(this.state, 1);
    buf.set(fl, 33);
    const wide = new Uint8Array(64);
    wide.set(sha256(buf), 0);
    buf[buf.length - 1] = 1;
    wide.set(sha256(buf), 32);
    buf[0] = 3;
    this.state = sha256(buf.subarray(0, buf.length - 1));
    return bytesToBigint(wide) % R;
  }

  challenges(label: string, n: number): bigint[] {
    const out: bigint[] = [];
    for (let i = 0; i < n; i++) out.push(this.challenge(`${label}[${i}]`));
    return out;
  }

  /** The current chaining value (binds everything absorbed so far). */
  digest(): Uint8Array {
    return this.state.slice();
  }
}
