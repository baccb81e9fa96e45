/**
 * The fti certificate: a versioned, self-describing format and its total decoder
 * (PROTOCOLS.md §6, DESIGN.md "Certificate"; ../../shared/). The format is documented in
 * smdp/README.md § Certificate format; in brief:
 *
 * `certificate.json` — the statement and the per-tensor results, human-readable:
 *   { format: "fti-certificate", version: 1, job, baseManifestDigest, policyDigest,
 *     fineTunedFiles: [{ name, sha256 }], srs: { id, kind, N }, fractionalBits,
 *     tensors: [{ name, class, params, verdict, reason?, summary? | frozen? }],
 *     proofBlob: { sha256, bytes }, digest }
 *   Integers that can exceed 2^53 (bounds, squared norms) are decimal strings; digests are
 *   64 lowercase hex characters; G1 points are compressed, in hex.
 * The proof blob — binary, big-endian:
 *   "FTI-CERT" ‖ u32 version ‖ u32 N ‖ u32 fanIn ‖ u32 recordCount ‖ records
 *   ‖ (N+1) compressed G1 points (the final accumulator P_0..P_N) ‖ 32-byte Merkle root,
 *   version 1 (every record one block): record = u32 len ‖ statement ‖ u32 len ‖ proof;
 *   version 2 (some record a proving unit): record = u32 T ‖ T × (u32 len ‖ statement)
 *   ‖ u32 len ‖ proof, T = 1 a block, T ≥ 2 a unit. A blob without units is always version
 *   1 (one encoding per content).
 * digest = SHA-256( canonicalJson(certificate.json minus "digest") ‖ SHA-256(blob) ), where
 * canonical JSON has keys sorted (UTF-16 code-unit order), no whitespace, integers only.
 *
 * What the digest binds: every field of the JSON (including the blob's SHA-256 and length)
 * and, through SHA-256(blob), every block statement, proof, the accumulator and the root.
 * Assumption: collision resistance of SHA-256. This file proves nothing about the model: it
 * turns untrusted bytes into a typed `Certificate` or throws `SmdpError` (BAD_JSON,
 * BAD_MAGIC, UNSUPPORTED_VERSION, TRUNCATED, TRAILING_BYTES, LIMIT_EXCEEDED, BAD_VALUE,
 * NON_CANONICAL, DIGEST_MISMATCH, and the point/scalar codes of encoding.ts), naming the
 * field. The decoder is strict so that a certificate has exactly one encoding of its
 * content: unknown or missing JSON fields, non-canonical decimals or hex, statements not in
 * canonical form and trailing bytes are all rejected; counts and string lengths are capped
 * before anything is allocated. It accepts any JSON whitespace (the digest is over the
 * canonical form, so re-indenting a certificate does not invalidate it). JSON.parse keeps
 * the last of duplicate keys; the digest and the verifier see exactly that parse.
 * Whether the certificate *holds* is `verifier.ts`'s question.
 */
import { withPrefetchedG1 } from './curve-ops.ts';
import { sha256 } from './hash.ts';
import { bytesToHex, concatBytes, hexToBytes } from '@noble/hashes/utils.js';
import { ByteReader, ByteWriter } from './bytes.ts';
import { decodeG1, encodeG1 } from './encoding.ts';
import { badInput } from './errors.ts';
import type { G1Point } from './field.ts';
import { MAX_FAN_IN, MIN_FAN_IN, recordOf, recordStatements, type ProofRecord, type TensorAggregate } from './aggregate.ts';
import { MAX_UNIT_BLOCKS } from './classes/norm-unit.ts';
import { SRS_MAX_VARS, equalBytes, type SrsKind } from './srs.ts';
import { MAX_NAME_BYTES, encodeStatement, readStatement, type BlockStatement, type DriftClassName, type DriftSpec, type ResidualSpec } from './statement.ts';

export const CERTIFICATE_FORMAT = 'fti-certificate';
export const CERTIFICATE_VERSION = 1;
export const CERT_BLOB_MAGIC = new TextEncoder().encode('FTI-CERT');
export const CERT_BLOB_VERSION = 1;
/** The blob version with proving units (records of several blocks and one proof). */
export const CERT_BLOB_VERSION_UNITS = 2;

/** Hard caps on untrusted certificates. */
export const MAX_CERT_JSON_BYTES = 64 << 20;
export const MAX_TENSORS = 1 << 20;
export const MAX_FILES = 4096;
export const MAX_BLOCKS = 1 << 22;
export const MAX_STATEMENT_BYTES = 1 << 16;
export const MAX_PROOF_BYTES = 1 << 30;
/** Decimal strings of bounds: the statement codec caps them at 64 bytes (< 10^155). */
export const MAX_DECIMAL_DIGITS = 160;
export const MAX_REASON_BYTES = 4096;
/** Caps mirroring the statement codec (u32 maxNonzeros, rank ≤ 2^20, u8 bit counts). */
const MAX_U32 = 0xffffffff;
const MAX_RANK = 1 << 20;

// ---------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------

export type StatedVerdict = { readonly verdict: 'valid' } | { readonly verdict: 'rejected'; readonly reason: string };

/** Tensor-level summary of a proven tensor (which fields are present depends on the class). */
export interface TensorSummary {
  readonly blocks: number;
  /** sparse: Σ_b k'_b */
  readonly nonzeros?: number;
  /** norm: Σ_b S_b; lowrank with an l2 residual: Σ_b S_E,b */
  readonly squaredNorm?: bigint;
  /** lowrank: the stated rank bound */
  readonly rank?: number;
  /** lowrank: the tensor's C_B */
  readonly factorCommitment?: G1Point;
}

export type TensorResult =
  | (StatedVerdict & {
      readonly kind: 'frozen';
      readonly name: string;
      /** SHA-256 of the base tensor's raw bytes (as in the base manifest), hex. */
      readonly baseSha256: string;
      /** SHA-256 of the fine-tuned tensor's raw bytes, hex. */
      readonly ftSha256: string;
    })
  | (StatedVerdict & {
      readonly kind: 'proven';
      readonly name: string;
      readonly drift: DriftSpec;
      readonly summary: TensorSummary;
    });

export interface FileDigest {
  readonly name: string;
  readonly sha256: string;
}

export interface Certificate {
  readonly version: typeof CERTIFICATE_VERSION;
  readonly job: string;
  readonly baseManifestDigest: string;
  readonly policyDigest: string;
  readonly fineTunedFiles: readonly FileDigest[];
  readonly srs: { readonly id: string; readonly kind: SrsKind; readonly N: number };
  readonly fractionalBits: number;
  readonly tensors: readonly TensorResult[];
  readonly fanIn: number;
  /** The records in certificate order: blocks, or proving units of several blocks. */
  readonly blocks: readonly ProofRecord[];
  /** The final accumulator P_0..P_N. */
  readonly accumulator: readonly G1Point[];
  /** Merkle root of the proof index, hex. */
  readonly root: string;
  /** SHA-256(canonical JSON minus digest ‖ SHA-256(blob)), hex. */
  readonly digest: string;
}

export type CertificateBody = Omit<Certificate, 'digest'>;

/** JSON values as this format uses them (integers only). */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

// ---------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------

/** Canonical JSON: sorted keys, no whitespace, safe integers only. */
export function canonicalJson(v: JsonValue): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`canonicalJson: only safe integers are allowed, got ${v}`);
    return String(v);
  }
  if (Array.isArray(v)) return `[${(v as readonly JsonValue[]).map(canonicalJson).join(',')}]`;
  const obj = v as { readonly [key: string]: JsonValue };
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k]!)}`)
    .join(',')}}`;
}

/** Pretty form with sorted keys (what `encodeCertificate` writes). */
function prettyJson(v: JsonValue, indent = ''): string {
  if (v === null || typeof v !== 'object') return canonicalJson(v);
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    const items = v as readonly JsonValue[];
    return items.length === 0 ? '[]' : `[\n${items.map((x) => inner + prettyJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  const obj = v as { readonly [key: string]: JsonValue };
  const keys = Object.keys(obj).sort();
  return keys.length === 0 ? '{}' : `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${prettyJson(obj[k]!, inner)}`).join(',\n')}\n${indent}}`;
}

function residualJson(r: ResidualSpec): JsonValue {
  switch (r.kind) {
    case 'none':
      return { kind: 'none' };
    case 'linf':
      return { kind: 'linf', maxAbs: r.maxAbs.toString() };
    case 'l2':
      return { kind: 'l2', maxSquaredNorm: r.maxSquaredNorm.toString() };
  }
}

function paramsJson(d: DriftSpec): { [key: string]: JsonValue } {
  switch (d.class) {
    case 'free':
      return {};
    case 'sparse':
      return { reveal: d.reveal, maxNonzeros: d.maxNonzeros };
    case 'norm':
      return { maxSquaredNorm: d.maxSquaredNorm.toString() };
    case 'linf':
      return { maxAbs: d.maxAbs.toString() };
    case 'lowrank':
      return { rank: d.rank, factorBitsA: d.factorBitsA, factorBitsB: d.factorBitsB, residual: residualJson(d.residual) };
  }
}

function summaryJson(s: TensorSummary): JsonValue {
  const out: { [key: string]: JsonValue } = { blocks: s.blocks };
  if (s.nonzeros !== undefined) out.nonzeros = s.nonzeros;
  if (s.squaredNorm !== undefined) out.squaredNorm = s.squaredNorm.toString();
  if (s.rank !== undefined) out.rank = s.rank;
  if (s.factorCommitment !== undefined) out.factorCommitment = bytesToHex(encodeG1(s.factorCommitment));
  return out;
}

function tensorJson(t: TensorResult): JsonValue {
  const out: { [key: string]: JsonValue } = { name: t.name, verdict: t.verdict };
  if (t.verdict === 'rejected') out.reason = t.reason;
  if (t.kind === 'frozen') {
    out.class = 'frozen';
    out.params = {};
    out.frozen = { baseSha256: t.baseSha256, ftSha256: t.ftSha256 };
  } else {
    out.class = t.drift.class;
    out.params = paramsJson(t.drift);
    out.summary = summaryJson(t.summary);
  }
  return out;
}

/**
 * The result a certificate states for a proven tensor, from what aggregation recomputed over
 * its blocks (the pipeline's finalize step; the verifier demands exactly this).
 */
export function provenTensorResult(a: TensorAggregate): TensorResult {
  const summary: TensorSummary = {
    blocks: a.blocks,
    ...(a.nonzeros !== undefined ? { nonzeros: a.nonzeros } : {}),
    ...(a.squaredNorm !== undefined ? { squaredNorm: a.squaredNorm } : {}),
    ...(a.drift.class === 'lowrank' ? { rank: a.drift.rank } : {}),
    ...(a.factorCommitment !== undefined ? { factorCommitment: a.factorCommitment } : {}),
  };
  return { kind: 'proven', verdict: 'valid', name: a.tensor, drift: a.drift, summary };
}

/** The JSON object of a certificate, without the digest field. */
function bodyJson(c: CertificateBody, blob: Uint8Array): { [key: string]: JsonValue } {
  return {
    format: CERTIFICATE_FORMAT,
    version: c.version,
    job: c.job,
    baseManifestDigest: c.baseManifestDigest,
    policyDigest: c.policyDigest,
    fineTunedFiles: c.fineTunedFiles.map((f) => ({ name: f.name, sha256: f.sha256 })),
    srs: { id: c.srs.id, kind: c.srs.kind, N: c.srs.N },
    fractionalBits: c.fractionalBits,
    tensors: c.tensors.map(tensorJson),
    proofBlob: { sha256: bytesToHex(sha256(blob)), bytes: blob.length },
  };
}

/** The binary proof blob of a certificate. */
export function encodeCertificateBlob(c: CertificateBody): Uint8Array {
  const w = new ByteWriter();
  const units = c.blocks.some((b) => !('statement' in b));
  w.raw(CERT_BLOB_MAGIC)
    .u32(units ? CERT_BLOB_VERSION_UNITS : CERT_BLOB_VERSION)
    .u32(c.srs.N)
    .u32(c.fanIn)
    .u32(c.blocks.length);
  for (const b of c.blocks) {
    const sts = recordStatements(b);
    if (units) w.u32(sts.length);
    for (const st of sts) w.bytes(encodeStatement(st));
    w.bytes(b.proofBytes);
  }
  if (c.accumulator.length !== c.srs.N + 1) throw new Error(`encodeCertificateBlob: expected ${c.srs.N + 1} accumulator points, got ${c.accumulator.length}`);
  for (const p of c.accumulator) w.g1(p);
  const root = hexToBytes(c.root);
  if (root.length !== 32) throw new Error(`encodeCertificateBlob: the root must be 32 bytes, got ${root.length}`);
  w.raw(root);
  return w.finish();
}

function digestOf(json: { [key: string]: JsonValue }, blob: Uint8Array): string {
  return bytesToHex(sha256(concatBytes(new TextEncoder().encode(canonicalJson(json)), sha256(blob))));
}

/** The digest a certificate body must carry. */
export function certificateDigest(c: CertificateBody): string {
  const blob = encodeCertificateBlob(c);
  return digestOf(bodyJson(c, blob), blob);
}

/** Add the digest to a certificate body. */
export function sealCertificate(c: CertificateBody): Certificate {
  return { ...c, digest: certificateDigest(c) };
}

/**
 * Encode a certificate as `certificate.json` text (keys sorted, two-space indent) and the
 * proof blob. Writes the digest the certificate states (`sealCertificate` computes it).
 */
export function encodeCertificate(c: Certificate): { json: string; blob: Uint8Array } {
  const blob = encodeCertificateBlob(c);
  const json = { ...bodyJson(c, blob), digest: c.digest };
  return { json: prettyJson(json) + '\n', blob };
}

// ---------------------------------------------------------------------------------------
// Decoding (untrusted input)
// ---------------------------------------------------------------------------------------

const HEX64 = /^[0-9a-f]{64}$/;
const HEX_G1 = /^[0-9a-f]{96}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

type JsonObject = { readonly [key: string]: unknown };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object with exactly the `required` keys plus any of the `optional` ones. */
function object(v: unknown, field: string, required: readonly string[], optional: readonly string[] = []): JsonObject {
  if (!isObject(v)) return badInput('BAD_JSON', field, `expected an object, got ${describe(v)}`);
  for (const k of Object.keys(v)) {
    if (!required.includes(k) && !optional.includes(k)) badInput('BAD_JSON', `${field}.${k}`, 'unknown field');
  }
  for (const k of required) if (!(k in v)) badInput('BAD_JSON', `${field}.${k}`, 'missing field');
  return v;
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function array(v: unknown, field: string, max: number): readonly unknown[] {
  if (!Array.isArray(v)) return badInput('BAD_JSON', field, `expected an array, got ${describe(v)}`);
  if (v.length > max) badInput('LIMIT_EXCEEDED', field, `${v.length} entries exceed the limit ${max}`);
  return v as readonly unknown[];
}

function str(v: unknown, field: string, maxBytes: number): string {
  if (typeof v !== 'string') return badInput('BAD_JSON', field, `expected a string, got ${describe(v)}`);
  // Quick reject before encoding: a UTF-8 encoding is at least as long as the UTF-16 length.
  if (v.length > maxBytes) badInput('LIMIT_EXCEEDED', field, `string longer than ${maxBytes} bytes`);
  const bytes = utf8.encode(v);
  if (bytes.length > maxBytes) badInput('LIMIT_EXCEEDED', field, `string of ${bytes.length} bytes exceeds ${maxBytes}`);
  // Lone surrogates have no UTF-8 form: the statement codec would alter such a name.
  if (utf8Strict.decode(bytes) !== v) badInput('BAD_VALUE', field, 'string is not well-formed Unicode');
  return v;
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) return badInput('BAD_JSON', field, `expected an integer, got ${describe(v)}`);
  if (v < min || v > max) badInput('BAD_VALUE', field, `expected an integer in ${min}..${max}, got ${v}`);
  return v;
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') return badInput('BAD_JSON', field, `expected true or false, got ${describe(v)}`);
  return v;
}

function hex64(v: unknown, field: string): string {
  const s = str(v, field, 64);
  if (!HEX64.test(s)) badInput('BAD_VALUE', field, 'expected a SHA-256 digest as 64 lowercase hex characters');
  return s;
}

function decimal(v: unknown, field: string): bigint {
  const s = str(v, field, MAX_DECIMAL_DIGITS);
  if (!DECIMAL.test(s)) badInput('BAD_VALUE', field, 'expected a non-negative integer as a decimal string without leading zeros');
  return BigInt(s);
}

function g1Hex(v: unknown, field: string): G1Point {
  const s = str(v, field, 96);
  if (!HEX_G1.test(s)) badInput('BAD_VALUE', field, 'expected a compressed G1 point as 96 lowercase hex characters');
  return decodeG1(hexToBytes(s), field);
}

function literal<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  const s = str(v, field, 64);
  const hit = allowed.find((a) => a === s);
  if (hit === undefined) return badInput('BAD_VALUE', field, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(s)}`);
  return hit;
}

function decodeResidual(v: unknown, field: string): ResidualSpec {
  const kind = literal(isObject(v) ? v.kind : undefined, `${field}.kind`, ['none', 'linf', 'l2'] as const);
  switch (kind) {
    case 'none':
      object(v, field, ['kind']);
      return { kind };
    case 'linf':
      return { kind, maxAbs: decimal(object(v, field, ['kind', 'maxAbs']).maxAbs, `${field}.maxAbs`) };
    case 'l2':
      return { kind, maxSquaredNorm: decimal(object(v, field, ['kind', 'maxSquaredNorm']).maxSquaredNorm, `${field}.maxSquaredNorm`) };
  }
}

function decodeParams(cls: DriftClassName, v: unknown, field: string): DriftSpec {
  switch (cls) {
    case 'free':
      object(v, field, []);
      return { class: 'free' };
    case 'sparse': {
      const o = object(v, field, ['reveal', 'maxNonzeros']);
      return { class: 'sparse', reveal: bool(o.reveal, `${field}.reveal`), maxNonzeros: int(o.maxNonzeros, `${field}.maxNonzeros`, 0, MAX_U32) };
    }
    case 'norm':
      return { class: 'norm', maxSquaredNorm: decimal(object(v, field, ['maxSquaredNorm']).maxSquaredNorm, `${field}.maxSquaredNorm`) };
    case 'linf':
      return { class: 'linf', maxAbs: decimal(object(v, field, ['maxAbs']).maxAbs, `${field}.maxAbs`) };
    case 'lowrank': {
      const o = object(v, field, ['rank', 'factorBitsA', 'factorBitsB', 'residual']);
      return {
        class: 'lowrank',
        rank: int(o.rank, `${field}.rank`, 1, MAX_RANK),
        factorBitsA: int(o.factorBitsA, `${field}.factorBitsA`, 0, 255),
        factorBitsB: int(o.factorBitsB, `${field}.factorBitsB`, 0, 255),
        residual: decodeResidual(o.residual, `${field}.residual`),
      };
    }
  }
}

/** The summary fields each class carries, exactly. */
function summaryKeys(d: DriftSpec): string[] {
  switch (d.class) {
    case 'sparse':
      return ['blocks', 'nonzeros'];
    case 'norm':
      return ['blocks', 'squaredNorm'];
    case 'lowrank':
      return d.residual.kind === 'l2' ? ['blocks', 'rank', 'factorCommitment', 'squaredNorm'] : ['blocks', 'rank', 'factorCommitment'];
    case 'linf':
    case 'free':
      return ['blocks'];
  }
}

function decodeSummary(d: DriftSpec, v: unknown, field: string): TensorSummary {
  const o = object(v, field, summaryKeys(d));
  return {
    blocks: int(o.blocks, `${field}.blocks`, 1, MAX_BLOCKS),
    ...('nonzeros' in o ? { nonzeros: int(o.nonzeros, `${field}.nonzeros`, 0, Number.MAX_SAFE_INTEGER) } : {}),
    ...('squaredNorm' in o ? { squaredNorm: decimal(o.squaredNorm, `${field}.squaredNorm`) } : {}),
    ...('rank' in o ? { rank: int(o.rank, `${field}.rank`, 1, MAX_RANK) } : {}),
    ...('factorCommitment' in o ? { factorCommitment: g1Hex(o.factorCommitment, `${field}.factorCommitment`) } : {}),
  };
}

function decodeVerdict(o: JsonObject, field: string): StatedVerdict {
  const verdict = literal(o.verdict, `${field}.verdict`, ['valid', 'rejected'] as const);
  if (verdict === 'valid') {
    if ('reason' in o) badInput('BAD_JSON', `${field}.reason`, 'a valid tensor carries no reason');
    return { verdict };
  }
  if (!('reason' in o)) badInput('BAD_JSON', `${field}.reason`, 'a rejected tensor must state a reason');
  return { verdict, reason: str(o.reason, `${field}.reason`, MAX_REASON_BYTES) };
}

const TENSOR_CLASSES = ['frozen', 'free', 'sparse', 'norm', 'linf', 'lowrank'] as const;

function decodeTensor(v: unknown, field: string): TensorResult {
  const cls = literal(isObject(v) ? v.class : undefined, `${field}.class`, TENSOR_CLASSES);
  const o = cls === 'frozen' ? object(v, field, ['name', 'class', 'params', 'verdict', 'frozen'], ['reason']) : object(v, field, ['name', 'class', 'params', 'verdict', 'summary'], ['reason']);
  const name = str(o.name, `${field}.name`, MAX_NAME_BYTES);
  const verdict = decodeVerdict(o, field);
  if (cls === 'frozen') {
    object(o.params, `${field}.params`, []);
    const f = object(o.frozen, `${field}.frozen`, ['baseSha256', 'ftSha256']);
    return { ...verdict, kind: 'frozen', name, baseSha256: hex64(f.baseSha256, `${field}.frozen.baseSha256`), ftSha256: hex64(f.ftSha256, `${field}.frozen.ftSha256`) };
  }
  const drift = decodeParams(cls, o.params, `${field}.params`);
  return { ...verdict, kind: 'proven', name, drift, summary: decodeSummary(drift, o.summary, `${field}.summary`) };
}

interface DecodedBlob {
  readonly N: number;
  readonly fanIn: number;
  readonly blocks: ProofRecord[];
  readonly accumulator: G1Point[];
  readonly root: string;
}

/** Decode the proof blob alone (self-describing: N, fan-in, blocks, accumulator, root). */
export function decodeCertificateBlob(blob: Uint8Array, what = 'certificate.blob'): DecodedBlob {
  return parseBlob(blob, what, true);
}

/**
 * `canonical` = false is the point-collecting scan of `withPrefetchedG1`: its points are
 * placeholders, so the statements' canonical-form check (a re-encoding) cannot run there.
 */
function parseBlob(blob: Uint8Array, what: string, canonical: boolean): DecodedBlob {
  const r = new ByteReader(blob, what);
  const magic = r.raw(CERT_BLOB_MAGIC.length, 'magic');
  if (!equalBytes(magic, CERT_BLOB_MAGIC)) badInput('BAD_MAGIC', `${what}.magic`, 'not an fti certificate proof blob');
  const version = r.u32('version');
  if (version !== CERT_BLOB_VERSION && version !== CERT_BLOB_VERSION_UNITS) {
    badInput('UNSUPPORTED_VERSION', `${what}.version`, `blob version ${version} is not supported (expected ${CERT_BLOB_VERSION} or ${CERT_BLOB_VERSION_UNITS})`);
  }
  const N = r.u32('N');
  if (N > SRS_MAX_VARS) badInput('LIMIT_EXCEEDED', `${what}.N`, `N = ${N} exceeds the limit ${SRS_MAX_VARS}`);
  const fanIn = r.u32('fanIn');
  if (fanIn < MIN_FAN_IN || fanIn > MAX_FAN_IN) badInput('BAD_VALUE', `${what}.fanIn`, `fan-in must be in ${MIN_FAN_IN}..${MAX_FAN_IN}, got ${fanIn}`);
  const count = r.count('blocks.length', MAX_BLOCKS);
  // Each record takes at least 8 bytes: refuse counts the blob cannot hold before looping.
  if (count * 8 > r.remaining) badInput('TRUNCATED', `${what}.blocks`, `${count} records cannot fit in the ${r.remaining} bytes left`);
  const blocks: ProofRecord[] = [];
  let total = 0;
  let units = 0;
  for (let i = 0; i < count; i++) {
    const T = version === CERT_BLOB_VERSION ? 1 : r.u32(`blocks[${i}].blockCount`);
    if (T < 1 || T > MAX_UNIT_BLOCKS) badInput('BAD_VALUE', `${what}.blocks[${i}].blockCount`, `a record has 1..${MAX_UNIT_BLOCKS} blocks, got ${T}`);
    total += T;
    if (total > MAX_BLOCKS) badInput('LIMIT_EXCEEDED', `${what}.blocks`, `more than ${MAX_BLOCKS} blocks`);
    const statements: BlockStatement[] = [];
    for (let k = 0; k < T; k++) {
      const at = T === 1 && version === CERT_BLOB_VERSION ? `blocks[${i}].statement` : `blocks[${i}].statements[${k}]`;
      const sb = r.bytes(at, MAX_STATEMENT_BYTES);
      const sr = new ByteReader(sb, `${what}.${at}`);
      const statement = readStatement(sr);
      sr.end();
      if (canonical && !equalBytes(encodeStatement(statement), sb)) badInput('NON_CANONICAL', `${what}.${at}`, 'statement is not in canonical form');
      statements.push(statement);
    }
    const proofBytes = r.bytes(`blocks[${i}].proof`, MAX_PROOF_BYTES).slice();
    if (T > 1) units++;
    blocks.push(recordOf(statements, proofBytes));
  }
  if (version === CERT_BLOB_VERSION_UNITS && units === 0) badInput('NON_CANONICAL', `${what}.version`, `a blob without proving units is version ${CERT_BLOB_VERSION}`);
  const accumulator: G1Point[] = [];
  for (let j = 0; j <= N; j++) accumulator.push(r.g1(`accumulator[${j}]`));
  const root = bytesToHex(r.raw(32, 'root'));
  r.end();
  return { N, fanIn, blocks, accumulator, root };
}

const TOP_KEYS = ['format', 'version', 'job', 'baseManifestDigest', 'policyDigest', 'fineTunedFiles', 'srs', 'fractionalBits', 'tensors', 'proofBlob', 'digest'];

/**
 * Decode a certificate (the JSON text or its UTF-8 bytes, and the proof blob). Throws only
 * SmdpError; checks the blob's SHA-256 and length against the JSON, and the digest.
 */
export function decodeCertificate(json: string | Uint8Array, blob: Uint8Array): Certificate {
  const F = 'certificate';
  let text: string;
  if (typeof json === 'string') {
    text = json;
  } else {
    if (json.length > MAX_CERT_JSON_BYTES) badInput('LIMIT_EXCEEDED', F, `certificate.json of ${json.length} bytes exceeds ${MAX_CERT_JSON_BYTES}`);
    try {
      text = utf8Strict.decode(json);
    } catch {
      return badInput('BAD_JSON', F, 'certificate.json is not valid UTF-8');
    }
  }
  if (text.length > MAX_CERT_JSON_BYTES) badInput('LIMIT_EXCEEDED', F, `certificate.json exceeds ${MAX_CERT_JSON_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (e) {
    return badInput('BAD_JSON', F, `not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const formatField = isObject(parsed) ? parsed.format : undefined;
  if (formatField !== CERTIFICATE_FORMAT) badInput('BAD_MAGIC', `${F}.format`, `expected "${CERTIFICATE_FORMAT}"`);
  const versionField = (parsed as JsonObject).version;
  if (versionField !== CERTIFICATE_VERSION) badInput('UNSUPPORTED_VERSION', `${F}.version`, `certificate version ${JSON.stringify(versionField)} is not supported (expected ${CERTIFICATE_VERSION})`);
  const o = object(parsed, F, TOP_KEYS);
  // The blob is checked against the JSON first (cheap, and before any point is decoded): a
  // flipped byte is a digest mismatch, never a parse of attacker-chosen bytes.
  const po = object(o.proofBlob, `${F}.proofBlob`, ['sha256', 'bytes']);
  const blobSha = hex64(po.sha256, `${F}.proofBlob.sha256`);
  const blobLen = int(po.bytes, `${F}.proofBlob.bytes`, 0, Number.MAX_SAFE_INTEGER);
  if (blob.length !== blobLen) badInput('DIGEST_MISMATCH', `${F}.proofBlob.bytes`, `the JSON states ${blobLen} bytes, the blob has ${blob.length}`);
  if (bytesToHex(sha256(blob)) !== blobSha) badInput('DIGEST_MISMATCH', `${F}.proofBlob.sha256`, 'the proof blob does not match its SHA-256 in certificate.json');
  const job = str(o.job, `${F}.job`, MAX_NAME_BYTES);
  const baseManifestDigest = hex64(o.baseManifestDigest, `${F}.baseManifestDigest`);
  const policyDigest = hex64(o.policyDigest, `${F}.policyDigest`);
  const fineTunedFiles = array(o.fineTunedFiles, `${F}.fineTunedFiles`, MAX_FILES).map((f, i): FileDigest => {
    const fo = object(f, `${F}.fineTunedFiles[${i}]`, ['name', 'sha256']);
    return { name: str(fo.name, `${F}.fineTunedFiles[${i}].name`, MAX_NAME_BYTES), sha256: hex64(fo.sha256, `${F}.fineTunedFiles[${i}].sha256`) };
  });
  const so = object(o.srs, `${F}.srs`, ['id', 'kind', 'N']);
  const srs = { id: hex64(so.id, `${F}.srs.id`), kind: literal(so.kind, `${F}.srs.kind`, ['dev', 'ceremony'] as const), N: int(so.N, `${F}.srs.N`, 0, SRS_MAX_VARS) };
  const fractionalBits = int(o.fractionalBits, `${F}.fractionalBits`, 0, 255);
  const tensors = array(o.tensors, `${F}.tensors`, MAX_TENSORS).map((t, i) => decodeTensor(t, `${F}.tensors[${i}]`));
  const digest = hex64(o.digest, `${F}.digest`);
  // The statements' points decoded in one batch (parallel on the native backend).
  const b = withPrefetchedG1(() => void parseBlob(blob, 'certificate.blob', false), () => decodeCertificateBlob(blob));
  if (b.N !== srs.N) badInput('BAD_VALUE', `${F}.blob.N`, `the blob is for N = ${b.N}, certificate.json names an SRS with N = ${srs.N}`);

  const cert: Certificate = {
    version: CERTIFICATE_VERSION,
    job,
    baseManifestDigest,
    policyDigest,
    fineTunedFiles,
    srs,
    fractionalBits,
    tensors,
    fanIn: b.fanIn,
    blocks: b.blocks,
    accumulator: b.accumulator,
    root: b.root,
    digest,
  };
  // Re-encoding the typed value reproduces the canonical JSON exactly (the decoder admits one
  // encoding per value), so the digest below is the digest of what was read.
  const recomputed = digestOf(bodyJson(cert, blob), blob);
  if (recomputed !== digest) badInput('DIGEST_MISMATCH', `${F}.digest`, `the certificate states ${digest}, its content hashes to ${recomputed}`);
  return cert;
}

