/**
 * A minimal binary writer/reader for proofs, SRS files and certificates. The reader is the
 * "convert untrusted inputs to trusted inputs" edge: every read checks the remaining length
 * and throws `SmdpError` (TRUNCATED, LIMIT_EXCEEDED, …) naming the field; decoded points and
 * scalars go through the canonical decoders of `encoding.ts`.
 * Integers are big-endian; variable-length fields carry a u32 length prefix.
 */
import { badInput } from './errors.ts';
import {
  G1_BYTES,
  G2_BYTES,
  SCALAR_BYTES,
  decodeG1, decodeProofG1,
  decodeG2,
  decodeScalar,
  encodeG1,
  encodeG2,
  encodeScalar,
} from './encoding.ts';
import type { G1Point, G2Point } from './field.ts';

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  u8(x: number): this {
    if (!Number.isInteger(x) || x < 0 || x > 0xff) throw new Error(`ByteWriter.u8: expected 0..255, got ${x}`);
    this.ensure(1);
    this.buf[this.len++] = x;
    return this;
  }

  u32(x: number): this {
    if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new Error(`ByteWriter.u32: expected 0..2^32-1, got ${x}`);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setUint32(this.len, x);
    this.len += 4;
    return this;
  }

  u64(x: bigint): this {
    if (x < 0n || x >= 1n << 64n) throw new Error(`ByteWriter.u64: expected 0..2^64-1, got ${x}`);
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset).setBigUint64(this.len, x);
    this.len += 8;
    return this;
  }

  /** A u32 length prefix, then the bytes. */
  bytes(b: Uint8Array): this {
    return this.u32(b.length).raw(b);
  }

  string(s: string): this {
    return this.bytes(utf8.encode(s));
  }

  scalar(x: bigint): this {
    return this.raw(encodeScalar(x));
  }

  g1(p: G1Point): this {
    return this.raw(encodeG1(p));
  }

  /** u32 count ‖ count × scalar. */
  scalars(xs: readonly bigint[]): this {
    this.u32(xs.length);
    for (const x of xs) this.scalar(x);
    return this;
  }

  /** u32 count ‖ count × compressed G1. */
  g1s(ps: readonly G1Point[]): this {
    this.u32(ps.length);
    for (const p of ps) this.g1(p);
    return this;
  }

  g2(p: G2Point): this {
    return this.raw(encodeG2(p));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export class ByteReader {
  private pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    /** Prefix for error field names, e.g. `proof`. */
    readonly what: string,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  raw(n: number, field: string): Uint8Array {
    if (n > this.remaining) badInput('TRUNCATED', `${this.what}.${field}`, `needs ${n} bytes at offset ${this.pos}, only ${this.remaining} left`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u8(field: string): number {
    return this.raw(1, field)[0]!;
  }

  u32(field: string): number {
    const b = this.raw(4, field);
    return new DataView(b.buffer, b.byteOffset).getUint32(0);
  }

  u64(field: string): bigint {
    const b = this.raw(8, field);
    return new DataView(b.buffer, b.byteOffset).getBigUint64(0);
  }

  /** A u32 count that must be ≤ max (caps untrusted sizes before allocating). */
  count(field: string, max: number): number {
    const n = this.u32(field);
    if (n > max) badInput('LIMIT_EXCEEDED', `${this.what}.${field}`, `count ${n} exceeds the limit ${max}`);
    return n;
  }

  bytes(field: string, maxLen: number): Uint8Array {
    const n = this.count(field, maxLen);
    return this.raw(n, field);
  }

  string(field: string, maxLen = 4096): string {
    const b = this.bytes(field, maxLen);
    try {
      return utf8Strict.decode(b);
    } catch {
      return badInput('NON_CANONICAL', `${this.what}.${field}`, 'string is not valid UTF-8');
    }
  }

  scalar(field: string): bigint {
    return decodeScalar(this.raw(SCALAR_BYTES, field), `${this.what}.${field}`);
  }

  g1(field: string): G1Point {
    return decodeG1(this.raw(G1_BYTES, field), `${this.what}.${field}`);
  }

  /** A point of a block proof: G1 membership deferred to the pairing check (`decodeProofG1`). */
  proofG1(field: string): G1Point {
    return decodeProofG1(this.raw(G1_BYTES, field), `${this.what}.${field}`);
  }

  /** The reader of `ByteWriter.scalars`: `field.length` (≤ max), then `field[i]`. */
  scalars(field: string, max: number): bigint[] {
    const n = this.count(`${field}.length`, max);
    const out: bigint[] = [];
    for (let i = 0; i < n; i++) out.push(this.scalar(`${field}[${i}]`));
    return out;
  }

  /** The reader of `ByteWriter.g1s` for block-proof points (`proofG1`). */
  proofG1s(field: string, max: number): G1Point[] {
    const n = this.count(`${field}.length`, max);
    const out: G1Point[] = [];
    for (let i = 0; i < n; i++) out.push(this.proofG1(`${field}[${i}]`));
    return out;
  }

  g2(field: string): G2Point {
    return decodeG2(this.raw(G2_BYTES, field), `${this.what}.${field}`);
  }

  /** Every byte must have been consumed. */
  end(): void {
    if (this.remaining !== 0) badInput('TRAILING_BYTES', this.what, `${this.remaining} bytes left after a complete object`);
  }
}
