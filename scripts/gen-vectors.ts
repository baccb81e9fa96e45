/**
 * Known-answer vector generator (PROTOCOLS.md §9; ../../shared/PROTOCOLS.md).
 *
 *   npm run vectors        (= node --import tsx scripts/gen-vectors.ts)
 *
 * Writes `test/vectors/<function>/<case>/data.json`, each `{ "input": {…}, "output": … }`
 * after c-kzg-4844's layout: `true` = valid and accepted, `false` = well-formed input the
 * verifier must reject, `null` = bad input (the decoders must throw `SmdpError`); `commit`
 * outputs the commitment's compressed hex. The meaning of every function — how its input is
 * decoded and what decides its output — is `runVector` below; `test/vectors.test.ts` runs it
 * over every file and, for `commit` and `verify_opening`, also checks each case by an
 * independent computation (direct MLE evaluation at τ, noble's pippenger, a naive pairing
 * equation) that uses neither smdp/pst.ts nor smdp/msm.ts. See test/vectors/README.md.
 *
 * Setup: INSECURE, public τ = devTau(6, 'fti-test-vectors-v1') (N = 6), written out in every
 * input; the SRS is `srsFromTau(τ)` (kind dev, label `explicit-tau`), whose digest is the
 * `srsId` inside every statement. Knowing τ, anyone can forge openings: these vectors pin
 * conventions and rejection behaviour, not security.
 *
 * Deterministic: witnesses come from a SHA-256 counter-mode stream seeded per family, and
 * proofs are Fiat–Shamir (no prover randomness), so regenerating reproduces every byte. The
 * generator decides each expected output by construction (honest ⇒ true, tampered ⇒ false,
 * malformed ⇒ null) and then runs `runVector` on it: a disagreement aborts generation.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { pairingCheck } from '../smdp/accumulator.ts';
import { ByteReader, ByteWriter } from '../smdp/bytes.ts';
import type { BlockCheck } from '../smdp/classes/common.ts';
import {
  commitFactorB,
  decodeLowRankProof,
  encodeLowRankProof,
  factorRankBits,
  proveLowRank,
  verifyLowRank,
  type LowRankProof,
} from '../smdp/classes/lowrank.ts';
import { decodeNormProof, encodeNormProof, proveNormBound, verifyNormBound, type BlockInput, type NormProof } from '../smdp/classes/norm.ts';
import {
  decodeSparseHiddenProof,
  decodeSparseRevealedProof,
  encodeSparseHiddenProof,
  encodeSparseRevealedProof,
  proveSparseHidden,
  proveSparseRevealed,
  verifySparseHidden,
  verifySparseRevealed,
  type SparseHiddenProof,
  type SparseRevealedProof,
} from '../smdp/classes/sparse.ts';
import { bigintToBytes, bytesToBigint, decodeG1, decodeScalar, encodeG1, encodeScalar } from '../smdp/encoding.ts';
import { SmdpError } from '../smdp/errors.ts';
import { Fp, Fr, G1, R, frSigned, type G1Point } from '../smdp/field.ts';
import { evaluateMle } from '../smdp/mle.ts';
import { jsMsmBackend } from '../smdp/msm.ts';
import { commitField, commitSmall, openAt, verifyOpening, type ProverContext } from '../smdp/pst.ts';
import { decodeNormUnitProof, encodeNormUnitProof, proveNormUnit, verifyNormUnit, type NormUnitProof, type UnitCheck } from '../smdp/classes/norm-unit.ts';
import { decodeLowRankUnitProof, encodeLowRankUnitProof, proveLowRankUnit, verifyLowRankUnit, type LowRankUnitProof } from '../smdp/classes/lowrank-unit.ts';
import { decodeSparseHiddenUnitProof, encodeSparseHiddenUnitProof, proveSparseHiddenUnit, verifySparseHiddenUnit, type SparseHiddenUnitProof } from '../smdp/classes/sparse-unit.ts';
import { devTau, srsFromTau } from '../smdp/srs-insecure-dev.ts';
import type { Srs } from '../smdp/srs.ts';
import { encodeStatement, readStatement, type BlockStatement, type DriftSpec } from '../smdp/statement.ts';
import { readSumcheck, writeSumcheck } from '../smdp/sumcheck-codec.ts';
import { proveSumcheck, verifySumcheck, type SumcheckProof } from '../smdp/sumcheck.ts';
import { Transcript } from '../smdp/transcript.ts';

// ---------------------------------------------------------------------------------------------
// The vector functions: what each data file means
// ---------------------------------------------------------------------------------------------

export const VECTOR_FUNCTIONS = [
  'commit',
  'verify_opening',
  'sumcheck',
  'verify_norm',
  'verify_linf',
  'verify_sparse_revealed',
  'verify_sparse_hidden',
  'verify_lowrank',
  'verify_norm_unit',
  'verify_lowrank_unit',
  'verify_sparse_hidden_unit',
] as const;
export type VectorFunction = (typeof VECTOR_FUNCTIONS)[number];

/** `commit`: compressed hex; the others: true / false; every function: null = bad input. */
export type VectorOutput = boolean | string | null;

export interface VectorFile {
  readonly input: Readonly<Record<string, unknown>>;
  readonly output: VectorOutput;
}

/** Transcript protocol of the stand-alone `sumcheck` vectors (claim absorbed first). */
export const SUMCHECK_VECTOR_PROTOCOL = 'fti/vectors/sumcheck/v1';

/** The public τ of every vector (N = 6), decimal in the files. */
export const VECTOR_TAU: readonly bigint[] = devTau(6, 'fti-test-vectors-v1');

function field(input: Readonly<Record<string, unknown>>, key: string): unknown {
  if (!(key in input)) throw new Error(`vector input: missing "${key}"`);
  return input[key];
}

function str(input: Readonly<Record<string, unknown>>, key: string): string {
  const v = field(input, key);
  if (typeof v !== 'string') throw new Error(`vector input: "${key}" must be a string`);
  return v;
}

function strs(input: Readonly<Record<string, unknown>>, key: string): string[] {
  const v = field(input, key);
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw new Error(`vector input: "${key}" must be an array of strings`);
  return v;
}

function strTables(input: Readonly<Record<string, unknown>>, key: string): string[][] {
  const v = field(input, key);
  if (!Array.isArray(v) || !v.every((t): t is string[] => Array.isArray(t) && t.every((x) => typeof x === 'string'))) {
    throw new Error(`vector input: "${key}" must be an array of arrays of strings`);
  }
  return v;
}

/** Hex → bytes. Vector hex is always well-formed (even length); malformation is in the bytes. */
export function unhex(h: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/.test(h)) throw new Error(`vector input: malformed hex ${JSON.stringify(h.slice(0, 20))}`);
  return hexToBytes(h);
}

const srsCache = new Map<string, Srs>();

/** srsFromTau(τ) for the decimal τ of a vector (cached: building one costs ≈ 0.3 s). */
export function srsForTau(tau: readonly string[]): Srs {
  const key = tau.join(',');
  let srs = srsCache.get(key);
  if (srs === undefined) {
    srs = srsFromTau(tau.map((t) => BigInt(t))).srs;
    srsCache.set(key, srs);
  }
  return srs;
}

/** A statement from untrusted bytes: readStatement, then every byte must be consumed. */
export function decodeStatementBytes(b: Uint8Array): BlockStatement {
  const r = new ByteReader(b, 'statement');
  const st = readStatement(r);
  r.end();
  return st;
}

/** Run a block check to the end: non-pairing checks, then the block's pairing equation. */
function finishBlock(srs: Srs, check: BlockCheck): boolean {
  if (!check.valid) return false;
  return check.accumulator === null ? true : pairingCheck(srs, check.accumulator.evaluate());
}

/**
 * A proving unit's vector: statements (hex each) and one unit proof; every statement must name
 * this SRS; the unit verifier, then the unit's pairing check.
 */
function unitVector<P>(input: Readonly<Record<string, unknown>>, decode: (b: Uint8Array) => P, verify: (N: number, sts: readonly BlockStatement[], p: P) => UnitCheck): boolean {
  const srs = srsForTau(strs(input, 'tau'));
  const sts = strs(input, 'statements').map((h) => decodeStatementBytes(unhex(h)));
  const proof = decode(unhex(str(input, 'proof')));
  if (sts.some((st) => st.srsId !== srs.id)) return false;
  const check = verify(srs.N, sts, proof);
  if (!check.valid) return false;
  return check.accumulator === null ? true : pairingCheck(srs, check.accumulator.evaluate());
}

function blockVector(
  input: Readonly<Record<string, unknown>>,
  cls: 'norm' | 'linf' | 'sparse-revealed' | 'sparse-hidden' | 'lowrank',
): boolean {
  const srs = srsForTau(strs(input, 'tau'));
  const st = decodeStatementBytes(unhex(str(input, 'statement')));
  const proofBytes = unhex(str(input, 'proof'));
  switch (cls) {
    case 'norm':
    case 'linf': {
      const proof = decodeNormProof(proofBytes);
      if (st.srsId !== srs.id || st.drift.class !== cls) return false;
      return finishBlock(srs, verifyNormBound(srs.N, st, proof));
    }
    case 'sparse-revealed': {
      const proof = decodeSparseRevealedProof(proofBytes);
      if (st.srsId !== srs.id) return false;
      return finishBlock(srs, verifySparseRevealed(srs, st, proof));
    }
    case 'sparse-hidden': {
      const proof = decodeSparseHiddenProof(proofBytes);
      if (st.srsId !== srs.id) return false;
      return finishBlock(srs, verifySparseHidden(srs.N, st, proof));
    }
    case 'lowrank': {
      const proof = decodeLowRankProof(proofBytes);
      if (st.srsId !== srs.id) return false;
      return finishBlock(srs, verifyLowRank(srs.N, st, proof));
    }
  }
}

async function runVectorUnchecked(fn: VectorFunction, input: Readonly<Record<string, unknown>>): Promise<VectorOutput> {
  switch (fn) {
    case 'commit': {
      // values: signed decimal integers with |v| < r, embedded as r − |v| when negative.
      const srs = srsForTau(strs(input, 'tau'));
      const values = strs(input, 'values').map((v) => frSigned(BigInt(v)));
      return bytesToHex(encodeG1(await commitField({ srs, msm: jsMsmBackend }, values)));
    }
    case 'verify_opening': {
      const srs = srsForTau(strs(input, 'tau'));
      const C = decodeG1(unhex(str(input, 'commitment')), 'commitment');
      const point = strs(input, 'point').map((h, i) => decodeScalar(unhex(h), `point[${i}]`));
      const value = decodeScalar(unhex(str(input, 'value')), 'value');
      const quotients = strs(input, 'quotients').map((h, i) => decodeG1(unhex(h), `quotients[${i}]`));
      return verifyOpening(srs, C, value, point, quotients);
    }
    case 'sumcheck': {
      // Σ_b Π_k f_k(b) = claim; degree = number of tables; transcript: protocol, then claim.
      const tables = strTables(input, 'tables').map((t) => t.map((v) => frSigned(BigInt(v))));
      const n = tables[0]?.length ?? 0;
      if (tables.length === 0 || n === 0 || (n & (n - 1)) !== 0 || tables.some((t) => t.length !== n)) throw new Error('sumcheck vector: tables must be non-empty, of one power-of-two length');
      const mu = 31 - Math.clz32(n);
      const claim = decodeScalar(unhex(str(input, 'claim')), 'claim');
      const r = new ByteReader(unhex(str(input, 'proof')), 'proof');
      const proof = readSumcheck(r, 'sumcheck');
      r.end();
      const t = new Transcript(SUMCHECK_VECTOR_PROTOCOL).absorbScalar('claim', claim);
      const res = verifySumcheck(t, 'sumcheck', proof, mu, tables.length, claim);
      if (!res.ok) return false;
      const finalValue = tables.reduce((acc, table) => Fr.mul(acc, evaluateMle(table, res.point)), 1n);
      return finalValue === res.finalClaim;
    }
    case 'verify_norm':
      return blockVector(input, 'norm');
    case 'verify_linf':
      return blockVector(input, 'linf');
    case 'verify_sparse_revealed':
      return blockVector(input, 'sparse-revealed');
    case 'verify_sparse_hidden':
      return blockVector(input, 'sparse-hidden');
    case 'verify_lowrank':
      return blockVector(input, 'lowrank');
    case 'verify_sparse_hidden_unit':
      return unitVector(input, decodeSparseHiddenUnitProof, verifySparseHiddenUnit);
    case 'verify_lowrank_unit':
      return unitVector(input, decodeLowRankUnitProof, verifyLowRankUnit);
    case 'verify_norm_unit':
      return unitVector(input, decodeNormUnitProof, verifyNormUnit);
  }
}

/** The code's answer for one vector: SmdpError ⇒ null; any other exception propagates. */
export async function runVector(fn: VectorFunction, input: Readonly<Record<string, unknown>>): Promise<VectorOutput> {
  try {
    return await runVectorUnchecked(fn, input);
  } catch (e) {
    if (e instanceof SmdpError) return null;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

/** SHA-256 in counter mode: a reproducible stream per family. */
class SeededRng {
  private counter = 0;
  private buf = new Uint8Array(0);
  private pos = 0;
  constructor(private readonly seed: string) {}

  private byte(): number {
    if (this.pos === this.buf.length) {
      this.buf = sha256(new TextEncoder().encode(`fti-vectors/${this.seed}/${this.counter++}`));
      this.pos = 0;
    }
    return this.buf[this.pos++]!;
  }

  /** Uniform in [min, max] (rejection sampling on 32-bit draws). */
  int(min: number, max: number): number {
    const range = max - min + 1;
    const limit = Math.floor(0x1_0000_0000 / range) * range;
    for (;;) {
      const x = ((this.byte() << 24) | (this.byte() << 16) | (this.byte() << 8) | this.byte()) >>> 0;
      if (x < limit) return min + (x % range);
    }
  }

  ints(n: number, min: number, max: number): number[] {
    return Array.from({ length: n }, () => this.int(min, max));
  }

  /** A field element: 64 bytes reduced mod r. */
  field(): bigint {
    const b = new Uint8Array(64);
    for (let i = 0; i < 64; i++) b[i] = this.byte();
    return bytesToBigint(b) % R;
  }

  fields(n: number): bigint[] {
    return Array.from({ length: n }, () => this.field());
  }
}

interface GeneratedCase {
  readonly fn: VectorFunction;
  readonly name: string;
  readonly file: VectorFile;
}

const TAU_DEC = VECTOR_TAU.map((t) => t.toString());
const SRS = srsForTau(TAU_DEC);
const CTX: ProverContext = { srs: SRS, msm: jsMsmBackend };

const hex = bytesToHex;
const scalarHex = (x: bigint): string => hex(encodeScalar(x));
const pointHex = (p: G1Point): string => hex(encodeG1(p));
const dec = (xs: readonly (number | bigint)[]): string[] => xs.map((x) => x.toString());

/** Compressed-form bytes of an x-coordinate with the compression flag: a malformed point. */
function rawG1(x: bigint, flags = 0x80): Uint8Array {
  const b = bigintToBytes(x, 48);
  b[0] = b[0]! | flags;
  return b;
}

/** x = 1: 1 + 4 = 5 is not a square mod p, so no curve point (checked when generating). */
const G1_NOT_ON_CURVE = rawG1(1n);
/** x = 0: (0, ±2) lies on y² = x³ + 4 but not in the order-r subgroup. */
const G1_NOT_IN_SUBGROUP = rawG1(0n);

function checkMalformedPoints(): void {
  const y2 = (x: bigint): bigint => Fp.add(Fp.mul(Fp.sqr(x), x), 4n);
  let onCurve = true;
  try {
    onCurve = Fp.sqr(Fp.sqrt(y2(1n))) === y2(1n);
  } catch {
    onCurve = false;
  }
  if (onCurve) throw new Error('gen-vectors: x = 1 unexpectedly on the curve');
  if (G1.fromAffine({ x: 0n, y: 2n }).isTorsionFree()) throw new Error('gen-vectors: (0, 2) unexpectedly in G1');
}

/** Replace the unique occurrence of `needle` in `hay` by `by` (same length). */
export function replaceOnce(hay: Uint8Array, needle: Uint8Array, by: Uint8Array): Uint8Array {
  if (needle.length !== by.length) throw new Error('replaceOnce: lengths differ');
  let at = -1;
  for (let i = 0; i + needle.length <= hay.length; i++) {
    let match = true;
    for (let j = 0; j < needle.length && match; j++) match = hay[i + j] === needle[j];
    if (match) {
      if (at !== -1) throw new Error('replaceOnce: the needle occurs more than once');
      at = i;
    }
  }
  if (at === -1) throw new Error('replaceOnce: needle not found');
  const out = hay.slice();
  out.set(by, at);
  return out;
}

const dropLast = (b: Uint8Array): Uint8Array => b.slice(0, b.length - 1);
const appendZero = (b: Uint8Array): Uint8Array => Uint8Array.from([...b, 0]);

// ----- commit ---------------------------------------------------------------------------------

async function genCommit(): Promise<GeneratedCase[]> {
  const rng = new SeededRng('commit');
  const cases: [string, (number | bigint)[]][] = [
    ['mu0_single', [42]],
    ['mu1_negative', [3, -5]],
    ['mu2_all_ones_is_g1', [1, 1, 1, 1]],
    ['mu2_zero_is_identity', [0, 0, 0, 0]],
    ['mu3_mixed_signs', [0, 1, -1, 2, -2, 1000, -1000, 7]],
    ['mu4_random_small', rng.ints(16, -(1 << 24), 1 << 24)],
    ['mu5_random_40_bit', Array.from({ length: 32 }, () => BigInt(rng.int(-(2 ** 20), 2 ** 20)) * BigInt(rng.int(1, 2 ** 20)))],
    ['mu6_full_field', rng.fields(64)],
    ['mu6_extremes', Array.from({ length: 64 }, (_, i) => (i % 4 === 0 ? R - 1n : i % 4 === 1 ? -(R - 1n) : i % 4 === 2 ? (R - 1n) / 2n : -1n))],
  ];
  const out: GeneratedCase[] = [];
  for (const [name, values] of cases) {
    const C = await commitField(CTX, values.map(frSigned));
    out.push({ fn: 'commit', name, file: { input: { tau: TAU_DEC, values: dec(values) }, output: pointHex(C) } });
  }
  // μ = 7 > N = 6: the SRS has no basis for it (SRS_TOO_SMALL).
  out.push({ fn: 'commit', name: 'mu7_exceeds_srs', file: { input: { tau: TAU_DEC, values: dec(rng.ints(128, -9, 9)) }, output: null } });
  return out;
}

// ----- verify_opening -------------------------------------------------------------------------

interface OpeningInput {
  readonly commitment: Uint8Array;
  readonly point: readonly Uint8Array[];
  readonly value: Uint8Array;
  readonly quotients: readonly Uint8Array[];
}

function openingFile(o: OpeningInput, output: boolean | null): VectorFile {
  return { input: { tau: TAU_DEC, commitment: hex(o.commitment), point: o.point.map(hex), value: hex(o.value), quotients: o.quotients.map(hex) }, output };
}

async function honestOpening(values: readonly bigint[], point: readonly bigint[]): Promise<OpeningInput> {
  const C = await commitField(CTX, values);
  const { value, quotients } = await openAt(CTX, values, point);
  return { commitment: encodeG1(C), point: point.map(encodeScalar), value: encodeScalar(value), quotients: quotients.map(encodeG1) };
}

async function genVerifyOpening(): Promise<GeneratedCase[]> {
  const rng = new SeededRng('verify_opening');
  const cases: [string, VectorFile][] = [];
  const honest: OpeningInput[] = [];
  for (let mu = 0; mu <= 6; mu++) {
    const o = await honestOpening(rng.fields(1 << mu), rng.fields(mu));
    honest.push(o);
    cases.push([`correct_mu${mu}_random`, openingFile(o, true)]);
  }
  cases.push(['correct_mu3_small_signed', openingFile(await honestOpening(rng.ints(8, -100, 100).map(frSigned), [5n, 9n, 13n]), true)]);
  cases.push(['correct_mu3_boolean_point', openingFile(await honestOpening(rng.fields(8), [1n, 0n, 1n]), true)]);
  // The zero vector commits to the identity; all-ones commits to g1 with identity quotients.
  cases.push(['correct_zero_vector', openingFile(await honestOpening([0n, 0n, 0n, 0n], rng.fields(2)), true)]);
  cases.push(['correct_all_ones', openingFile(await honestOpening([1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n], rng.fields(3)), true)]);

  const o3 = honest[3]!;
  const bump = (b: Uint8Array): Uint8Array => encodeScalar(Fr.add(decodeScalar(b), 1n));
  cases.push(['incorrect_value', openingFile({ ...o3, value: bump(o3.value) }, false)]);
  cases.push(['incorrect_point', openingFile({ ...o3, point: [bump(o3.point[0]!), ...o3.point.slice(1)] }, false)]);
  cases.push(['incorrect_swapped_quotients', openingFile({ ...o3, quotients: [o3.quotients[1]!, o3.quotients[0]!, o3.quotients[2]!] }, false)]);
  cases.push(['incorrect_commitment', openingFile({ ...o3, commitment: encodeG1(decodeG1(o3.commitment).add(G1.BASE)) }, false)]);
  cases.push(['incorrect_missing_quotient', openingFile({ ...o3, quotients: o3.quotients.slice(0, 2) }, false)]);
  cases.push(['incorrect_point_too_long', openingFile({ ...o3, point: [...o3.point, ...rng.fields(4).map(encodeScalar)], quotients: [...o3.quotients, ...o3.quotients, o3.quotients[0]!] }, false)]);
  // An opening of μ = 3 presented as μ = 2 (last coordinate and quotient dropped).
  cases.push(['incorrect_truncated_point', openingFile({ ...o3, point: o3.point.slice(0, 2), quotients: o3.quotients.slice(0, 2) }, false)]);

  const r = bigintToBytes(R, 32);
  const flagless = o3.commitment.slice();
  flagless[0] = flagless[0]! & 0x7f;
  const infWithBits = new Uint8Array(48);
  infWithBits[0] = 0xc0;
  infWithBits[47] = 1;
  cases.push(['malformed_commitment_not_on_curve', openingFile({ ...o3, commitment: G1_NOT_ON_CURVE }, null)]);
  cases.push(['malformed_commitment_not_in_subgroup', openingFile({ ...o3, commitment: G1_NOT_IN_SUBGROUP }, null)]);
  cases.push(['malformed_commitment_compression_flag_unset', openingFile({ ...o3, commitment: flagless }, null)]);
  cases.push(['malformed_commitment_x_not_below_p', openingFile({ ...o3, commitment: rawG1(Fp.ORDER) }, null)]);
  cases.push(['malformed_quotient_infinity_with_bits', openingFile({ ...o3, quotients: [infWithBits, ...o3.quotients.slice(1)] }, null)]);
  cases.push(['malformed_quotient_short', openingFile({ ...o3, quotients: [o3.quotients[0]!.slice(0, 47), ...o3.quotients.slice(1)] }, null)]);
  cases.push(['malformed_value_not_below_r', openingFile({ ...o3, value: r }, null)]);
  cases.push(['malformed_value_short', openingFile({ ...o3, value: o3.value.slice(1) }, null)]);
  cases.push(['malformed_point_not_below_r', openingFile({ ...o3, point: [o3.point[0]!, new Uint8Array(32).fill(0xff), o3.point[2]!] }, null)]);
  return cases.map(([name, file]) => ({ fn: 'verify_opening', name, file }));
}

// ----- sumcheck -------------------------------------------------------------------------------

const productOf = (vals: readonly bigint[]): bigint => vals.reduce((a, b) => Fr.mul(a, b), 1n);

function sumcheckFile(tables: readonly (readonly number[])[], claim: bigint, proof: Uint8Array, output: boolean | null): VectorFile {
  return { input: { tables: tables.map(dec), claim: scalarHex(claim), proof: hex(proof) }, output };
}

function encodeSumcheckProof(p: SumcheckProof): Uint8Array {
  const w = new ByteWriter();
  writeSumcheck(w, p);
  return w.finish();
}

function honestSumcheck(tables: readonly (readonly number[])[]): { claim: bigint; proof: SumcheckProof } {
  const ft = tables.map((t) => t.map(frSigned));
  let claim = 0n;
  for (let b = 0; b < ft[0]!.length; b++) claim = Fr.add(claim, productOf(ft.map((t) => t[b]!)));
  const t = new Transcript(SUMCHECK_VECTOR_PROTOCOL).absorbScalar('claim', claim);
  return { claim, proof: proveSumcheck(t, 'sumcheck', ft, ft.length, productOf).proof };
}

function genSumcheck(): GeneratedCase[] {
  const rng = new SeededRng('sumcheck');
  const cases: [string, VectorFile][] = [];
  const deg2 = [rng.ints(8, -1000, 1000), rng.ints(8, -1000, 1000)];
  const deg3 = [rng.ints(16, -1000, 1000), rng.ints(16, -1000, 1000), rng.ints(16, -1000, 1000)];
  const deg3mu0 = [[7], [-3], [11]];
  const h2 = honestSumcheck(deg2);
  const h3 = honestSumcheck(deg3);
  const h0 = honestSumcheck(deg3mu0);
  cases.push(['correct_degree2_mu3', sumcheckFile(deg2, h2.claim, encodeSumcheckProof(h2.proof), true)]);
  cases.push(['correct_degree3_mu4', sumcheckFile(deg3, h3.claim, encodeSumcheckProof(h3.proof), true)]);
  cases.push(['correct_degree3_mu0_no_rounds', sumcheckFile(deg3mu0, h0.claim, encodeSumcheckProof(h0.proof), true)]);

  const tamper = (p: SumcheckProof, round: number, x: number): SumcheckProof => ({
    rounds: p.rounds.map((g, i) => (i === round ? g.map((e, j) => (j === x ? Fr.add(e, 1n) : e)) : g)),
  });
  cases.push(['incorrect_claim_plus_one', sumcheckFile(deg3, Fr.add(h3.claim, 1n), encodeSumcheckProof(h3.proof), false)]);
  cases.push(['incorrect_claim_minus_one_degree2', sumcheckFile(deg2, Fr.sub(h2.claim, 1n), encodeSumcheckProof(h2.proof), false)]);
  cases.push(['incorrect_claim_mu0', sumcheckFile(deg3mu0, Fr.add(h0.claim, 1n), encodeSumcheckProof(h0.proof), false)]);
  // g_1(0) + 1: the round no longer sums to the running claim.
  cases.push(['incorrect_round1_sum', sumcheckFile(deg3, h3.claim, encodeSumcheckProof(tamper(h3.proof, 1, 0)), false)]);
  // g_2(3) + 1: sums still match, but the next claim moves; caught by the final check.
  cases.push(['incorrect_round2_evaluation', sumcheckFile(deg3, h3.claim, encodeSumcheckProof(tamper(h3.proof, 2, 3)), false)]);
  cases.push(['incorrect_last_round', sumcheckFile(deg3, h3.claim, encodeSumcheckProof(tamper(h3.proof, 3, 2)), false)]);
  cases.push(['incorrect_missing_round', sumcheckFile(deg3, h3.claim, encodeSumcheckProof({ rounds: h3.proof.rounds.slice(0, 3) }), false)]);
  cases.push(['incorrect_degree_too_low', sumcheckFile(deg3, h3.claim, encodeSumcheckProof({ rounds: h3.proof.rounds.map((g) => g.slice(0, 3)) }), false)]);
  const otherTables = deg3.map((t, k) => (k === 0 ? t.map((v, i) => (i === 5 ? v + 1 : v)) : t));
  // The same proof against other tables with the same claim: only the final evaluation differs.
  cases.push(['incorrect_tables_changed', sumcheckFile(otherTables, h3.claim, encodeSumcheckProof(h3.proof), false)]);

  const good = encodeSumcheckProof(h3.proof);
  const someScalar = encodeScalar(h3.proof.rounds[1]![2]!);
  cases.push(['malformed_proof_truncated', sumcheckFile(deg3, h3.claim, dropLast(good), null)]);
  cases.push(['malformed_proof_trailing_byte', sumcheckFile(deg3, h3.claim, appendZero(good), null)]);
  cases.push(['malformed_proof_scalar_not_below_r', sumcheckFile(deg3, h3.claim, replaceOnce(good, someScalar, bigintToBytes(R, 32)), null)]);
  cases.push(['malformed_proof_too_many_rounds', sumcheckFile(deg3, h3.claim, new ByteWriter().u32(65).u8(4).finish(), null)]);
  cases.push(['malformed_proof_degree_too_high', sumcheckFile(deg3, h3.claim, new ByteWriter().u32(4).u8(18).finish(), null)]);
  cases.push(['malformed_claim_not_below_r', { input: { ...sumcheckFile(deg3, 0n, good, null).input, claim: hex(bigintToBytes(R + h3.claim, 32)) }, output: null }]);
  return cases.map(([name, file]) => ({ fn: 'sumcheck', name, file }));
}

// ----- block classes --------------------------------------------------------------------------

function blockFile(statement: Uint8Array, proof: Uint8Array, output: boolean | null): VectorFile {
  return { input: { tau: TAU_DEC, statement: hex(statement), proof: hex(proof) }, output };
}

function blockInput(job: string, tensor: string, blockIndex: number, muRows: number, muCols: number, drift: DriftSpec, cBase: G1Point, fractionalBits = 24): BlockInput {
  const rows = 1 << muRows;
  return {
    srsId: SRS.id,
    job,
    tensor,
    blockIndex,
    tensorShape: [rows * 2, 1 << muCols],
    tile: { rowOffset: blockIndex * rows, colOffset: 0, muRows, muCols },
    fractionalBits,
    drift,
    cBase,
  };
}

async function baseCommitment(rng: SeededRng, n: number): Promise<G1Point> {
  return commitSmall(CTX, rng.ints(n, -(1 << 23), 1 << 23));
}

/** Statement-level tampering shared by every class: moved, re-bound, or malformed statements. */
function statementCases(st: BlockStatement, proof: Uint8Array, other: { statement: BlockStatement; proof: Uint8Array }): [string, VectorFile][] {
  const enc = encodeStatement(st);
  const badVersion = enc.slice();
  badVersion[3] = 2; // u32 version 1 → 2
  return [
    ['incorrect_statement_other_job', blockFile(encodeStatement({ ...st, job: `${st.job}-other` }), proof, false)],
    ['incorrect_statement_other_tensor', blockFile(encodeStatement({ ...st, tensor: `${st.tensor}.other` }), proof, false)],
    ['incorrect_statement_other_block_index', blockFile(encodeStatement({ ...st, blockIndex: st.blockIndex + 1 }), proof, false)],
    ['incorrect_statement_c_ft_changed', blockFile(encodeStatement({ ...st, cFt: st.cFt.add(G1.BASE) }), proof, false)],
    ['incorrect_statement_c_base_changed', blockFile(encodeStatement({ ...st, cBase: st.cBase.add(G1.BASE) }), proof, false)],
    ['incorrect_statement_other_srs', blockFile(encodeStatement({ ...st, srsId: '00'.repeat(32) }), proof, false)],
    ['incorrect_proof_of_other_block', blockFile(enc, other.proof, false)],
    ['incorrect_statement_of_other_block', blockFile(encodeStatement(other.statement), proof, false)],
    ['malformed_statement_truncated', blockFile(dropLast(enc), proof, null)],
    ['malformed_statement_trailing_byte', blockFile(appendZero(enc), proof, null)],
    ['malformed_statement_version', blockFile(badVersion, proof, null)],
    ['malformed_statement_c_ft_not_in_subgroup', blockFile(replaceOnce(enc, encodeG1(st.cFt), G1_NOT_IN_SUBGROUP), proof, null)],
    ['malformed_statement_c_base_not_on_curve', blockFile(replaceOnce(enc, encodeG1(st.cBase), G1_NOT_ON_CURVE), proof, null)],
    ['malformed_proof_truncated', blockFile(enc, dropLast(proof), null)],
    ['malformed_proof_trailing_byte', blockFile(enc, appendZero(proof), null)],
    ['malformed_proof_empty', blockFile(enc, new Uint8Array(0), null)],
  ];
}

/** Proof-point / proof-scalar malformations: replace one known encoding inside the proof. */
function proofEncodingCases(st: BlockStatement, proof: Uint8Array, point: G1Point, scalar: bigint): [string, VectorFile][] {
  const enc = encodeStatement(st);
  return [
    ['malformed_proof_point_not_on_curve', blockFile(enc, replaceOnce(proof, encodeG1(point), G1_NOT_ON_CURVE), null)],
    // A proof point is decoded without the subgroup test (its G1 membership is settled by the
    // pairing check, smdp/README.md "Deferred subgroup checks"): the order-3 point (0, 2)
    // decodes, and the block is rejected.
    ['incorrect_proof_point_not_in_subgroup', blockFile(enc, replaceOnce(proof, encodeG1(point), G1_NOT_IN_SUBGROUP), false)],
    ['malformed_proof_scalar_not_below_r', blockFile(enc, replaceOnce(proof, encodeScalar(scalar), bigintToBytes(R, 32)), null)],
  ];
}

async function genNormLike(cls: 'norm' | 'linf'): Promise<GeneratedCase[]> {
  const rng = new SeededRng(`verify_${cls}`);
  const fn: VectorFunction = cls === 'norm' ? 'verify_norm' : 'verify_linf';
  const drift = (bound: bigint): DriftSpec => (cls === 'norm' ? { class: 'norm', maxSquaredNorm: bound } : { class: 'linf', maxAbs: bound });
  const prove = async (job: string, blockIndex: number, muRows: number, muCols: number, bound: bigint, delta: readonly bigint[]): Promise<{ statement: BlockStatement; proof: NormProof }> => {
    const cBase = await baseCommitment(rng, 1 << (muRows + muCols));
    return proveNormBound(CTX, blockInput(job, `layers.0.${cls}.weight`, blockIndex, muRows, muCols, drift(bound), cBase), delta);
  };
  const cases: [string, VectorFile][] = [];
  const add = (name: string, p: { statement: BlockStatement; proof: NormProof }, output: boolean | null): void => {
    cases.push([name, blockFile(encodeStatement(p.statement), encodeNormProof(p.proof), output)]);
  };

  // Main honest case: μ = 4 (4 × 4 tile), entries in [−5, 5]; norm budget 400 (B = 20), linf B = 7.
  const delta = rng.ints(16, -5, 5).map(BigInt);
  const S = delta.reduce((a, d) => a + d * d, 0n);
  const bound = cls === 'norm' ? 400n : 7n;
  const main = await prove('job-vectors-1', 0, 2, 2, bound, delta);
  const other = await prove('job-vectors-1', 1, 2, 2, bound, rng.ints(16, -5, 5).map(BigInt));
  add('correct_mu4', main, true);
  add('correct_mu4_other_block', other, true);
  // At the bound exactly: norm S = T with B = ⌊√T⌋ = 5 met; linf |Δ_i| = B.
  const atBound = cls === 'norm' ? [3n, -4n, 0n, 0n] : [7n, -7n, 0n, 7n];
  add('correct_mu2_at_bound', await prove('job-vectors-1', 2, 1, 1, cls === 'norm' ? 25n : 7n, atBound), true);
  add('correct_mu3_zero_delta', await prove('job-vectors-1', 3, 1, 2, bound, new Array<bigint>(8).fill(0n)), true);
  add('correct_mu0_single_entry', await prove('job-vectors-1', 4, 0, 0, bound, [cls === 'norm' ? -20n : 7n]), true);
  // (linf with bound 0 — "unchanged up to quantization", PROTOCOLS §5.1 — is not included:
  // proveNormBound cannot prove it yet, ℓ = 0 leaves openAt an empty vector to open.)

  const st = main.statement;
  const p = main.proof;
  const withRange = (r: Partial<NormProof['range']>): NormProof => ({ ...p, range: { ...p.range, ...r } });
  const tamperedRounds = p.range.sumcheck.rounds.map((g, i) => (i === 1 ? g.map((e, j) => (j === 0 ? Fr.add(e, 1n) : e)) : g));
  const bits = p.range.bitCommitments;
  const tampered: [string, NormProof][] = [
    ['incorrect_bit_eval', withRange({ bitEvals: p.range.bitEvals.map((e, j) => (j === 0 ? Fr.add(e, 1n) : e)) })],
    ['incorrect_bit_commitments_swapped', withRange({ bitCommitments: [bits[1]!, bits[0]!, ...bits.slice(2)] })],
    ['incorrect_sumcheck_round', withRange({ sumcheck: { rounds: tamperedRounds } })],
    ['incorrect_quotient', { ...p, quotients: [p.quotients[0]!.add(G1.BASE), ...p.quotients.slice(1)] }],
    ['incorrect_missing_quotient', { ...p, quotients: p.quotients.slice(1) }],
  ];
  if (cls === 'norm') {
    tampered.push(['incorrect_squared_norm_under_reported', withRange({ squaredNorm: S - 1n })]);
    tampered.push(['incorrect_squared_norm_missing', withRange({ squaredNorm: null })]);
  } else {
    tampered.push(['incorrect_squared_norm_unexpected', withRange({ squaredNorm: S })]);
  }
  for (const [name, proof] of tampered) cases.push([name, blockFile(encodeStatement(st), encodeNormProof(proof), false)]);

  const proofBytes = encodeNormProof(p);
  if (cls === 'norm') {
    // The bound lowered below S (B stays 20): the verifier's S ≤ T fails (and the transcript moves).
    cases.push(['incorrect_statement_bound_below_norm', blockFile(encodeStatement({ ...st, drift: drift(S - 1n) }), proofBytes, false)]);
    cases.push(['incorrect_statement_class_linf', blockFile(encodeStatement({ ...st, drift: { class: 'linf', maxAbs: 20n } }), proofBytes, false)]);
  } else {
    cases.push(['incorrect_statement_bound_lowered', blockFile(encodeStatement({ ...st, drift: drift(6n) }), proofBytes, false)]);
    cases.push(['incorrect_statement_class_norm', blockFile(encodeStatement({ ...st, drift: { class: 'norm', maxSquaredNorm: 49n } }), proofBytes, false)]);
  }
  cases.push(...statementCases(st, proofBytes, { statement: other.statement, proof: encodeNormProof(other.proof) }));
  cases.push(...proofEncodingCases(st, proofBytes, p.quotients[1]!, p.range.bitEvals[0]!));
  // squaredNorm.present must be 0 or 1.
  const presentAt = 4 + 48 * bits.length;
  const badPresent = proofBytes.slice();
  badPresent[presentAt] = 2;
  cases.push(['malformed_proof_flag_byte', blockFile(encodeStatement(st), badPresent, null)]);
  return cases.map(([name, file]) => ({ fn, name, file }));
}

async function genSparseRevealed(): Promise<GeneratedCase[]> {
  const rng = new SeededRng('verify_sparse_revealed');
  const fn: VectorFunction = 'verify_sparse_revealed';
  const cases: [string, VectorFile][] = [];
  const prove = async (blockIndex: number, muRows: number, muCols: number, k: number, delta: readonly bigint[]): Promise<{ statement: BlockStatement; proof: SparseRevealedProof }> => {
    const cBase = await baseCommitment(rng, 1 << (muRows + muCols));
    return proveSparseRevealed(CTX, blockInput('job-vectors-2', 'layers.1.sparse.weight', blockIndex, muRows, muCols, { class: 'sparse', reveal: true, maxNonzeros: k }, cBase), delta);
  };
  const delta = new Array<bigint>(16).fill(0n);
  delta[2] = 5n;
  delta[7] = -123456n;
  delta[13] = 1n;
  const main = await prove(0, 2, 2, 4, delta);
  const otherDelta = new Array<bigint>(16).fill(0n);
  otherDelta[0] = -1n;
  const other = await prove(1, 2, 2, 4, otherDelta);
  const add = (name: string, st: BlockStatement, proof: SparseRevealedProof, output: boolean | null): void => {
    cases.push([name, blockFile(encodeStatement(st), encodeSparseRevealedProof(proof), output)]);
  };
  add('correct_three_of_sixteen', main.statement, main.proof, true);
  add('correct_one_of_sixteen', other.statement, other.proof, true);
  const zero = await prove(2, 1, 2, 2, new Array<bigint>(8).fill(0n));
  add('correct_no_changes', zero.statement, zero.proof, true);
  const large = new Array<bigint>(4).fill(0n);
  large[3] = -((1n << 64n) - 1n);
  large[0] = (1n << 63n) + 12345n;
  const big = await prove(3, 1, 1, 2, large);
  add('correct_large_values', big.statement, big.proof, true);

  const st = main.statement;
  const e = main.proof.entries;
  const withEntries = (entries: SparseRevealedProof['entries']): SparseRevealedProof => ({ entries });
  add('incorrect_value_changed', st, withEntries(e.map((x, i) => (i === 1 ? { ...x, value: x.value + 1n } : x))), false);
  add('incorrect_index_changed', st, withEntries(e.map((x, i) => (i === 0 ? { ...x, index: 3 } : x))), false);
  add('incorrect_entry_dropped', st, withEntries(e.slice(1)), false);
  add('incorrect_zero_entry_added', st, withEntries([...e, { index: 15, value: 0n }]), false);
  add('incorrect_indices_unordered', st, withEntries([e[1]!, e[0]!, e[2]!]), false);
  // A value split over a repeated index satisfies the group equation; strict order rejects it.
  add('incorrect_index_repeated', st, withEntries([e[0]!, { index: 7, value: -123450n }, { index: 7, value: -6n }, e[2]!]), false);
  add('incorrect_index_outside_block', st, withEntries([...e, { index: 16, value: 1n }]), false);
  add('incorrect_statement_bound_below_support', { ...st, drift: { class: 'sparse', reveal: true, maxNonzeros: 2 } }, main.proof, false);
  add('incorrect_statement_hidden', { ...st, drift: { class: 'sparse', reveal: false, maxNonzeros: 4 } }, main.proof, false);

  const proofBytes = encodeSparseRevealedProof(main.proof);
  // Revealed proofs carry no transcript (sparse.ts): the proof is a witness for (μ, C_base,
  // C_ft), so relabelling job, tensor or block index leaves a true statement. Those three
  // cases are left out; every commitment-changing and malformed case applies.
  for (const c of statementCases(st, proofBytes, { statement: other.statement, proof: encodeSparseRevealedProof(other.proof) })) {
    if (!/other_job|other_tensor|other_block_index/.test(c[0])) cases.push(c);
  }
  cases.push(['malformed_proof_scalar_not_below_r', blockFile(encodeStatement(st), replaceOnce(proofBytes, encodeScalar(frSigned(-123456n)), bigintToBytes(R, 32)), null)]);
  // |value| ≥ 2^64 (here exactly 2^64): BAD_VALUE.
  cases.push(['malformed_proof_value_too_large', blockFile(encodeStatement(st), replaceOnce(proofBytes, encodeScalar(5n), encodeScalar(1n << 64n)), null)]);
  cases.push(['malformed_proof_count_over_cap', blockFile(encodeStatement(st), new ByteWriter().u32((1 << 24) + 1).finish(), null)]);
  return cases.map(([name, file]) => ({ fn, name, file }));
}

async function genSparseHidden(): Promise<GeneratedCase[]> {
  const rng = new SeededRng('verify_sparse_hidden');
  const fn: VectorFunction = 'verify_sparse_hidden';
  const cases: [string, VectorFile][] = [];
  const prove = async (blockIndex: number, muRows: number, muCols: number, k: number, delta: readonly bigint[]): Promise<{ statement: BlockStatement; proof: SparseHiddenProof }> => {
    const cBase = await baseCommitment(rng, 1 << (muRows + muCols));
    return proveSparseHidden(CTX, blockInput('job-vectors-3', 'layers.2.sparse.weight', blockIndex, muRows, muCols, { class: 'sparse', reveal: false, maxNonzeros: k }, cBase), delta);
  };
  const delta = new Array<bigint>(16).fill(0n);
  delta[1] = -9n;
  delta[4] = 77n;
  delta[10] = 3n;
  const main = await prove(0, 2, 2, 4, delta);
  const otherDelta = new Array<bigint>(16).fill(0n);
  otherDelta[15] = 2n;
  const other = await prove(1, 2, 2, 4, otherDelta);
  const add = (name: string, st: BlockStatement, proof: SparseHiddenProof, output: boolean | null): void => {
    cases.push([name, blockFile(encodeStatement(st), encodeSparseHiddenProof(proof), output)]);
  };
  add('correct_three_of_sixteen', main.statement, main.proof, true);
  add('correct_one_of_sixteen', other.statement, other.proof, true);
  const exact = await prove(2, 1, 1, 4, [1n, -1n, 2n, -2n]);
  add('correct_dense_at_bound', exact.statement, exact.proof, true);
  const zero = await prove(3, 2, 1, 0, new Array<bigint>(8).fill(0n));
  add('correct_no_changes_bound_zero', zero.statement, zero.proof, true);

  const st = main.statement;
  const p = main.proof;
  const rounds = p.sumcheck.rounds.map((g, i) => (i === 2 ? g.map((e, j) => (j === 1 ? Fr.add(e, 1n) : e)) : g));
  add('incorrect_claimed_nonzeros_lowered', st, { ...p, claimedNonzeros: p.claimedNonzeros - 1 }, false);
  add('incorrect_claimed_nonzeros_above_bound', st, { ...p, claimedNonzeros: 5 }, false);
  add('incorrect_selector_eval', st, { ...p, selectorEval: Fr.add(p.selectorEval, 1n) }, false);
  add('incorrect_delta_eval', st, { ...p, deltaEval: Fr.add(p.deltaEval, 1n) }, false);
  add('incorrect_selector_commitment', st, { ...p, selectorCommitment: p.selectorCommitment.add(G1.BASE) }, false);
  add('incorrect_sumcheck_round', st, { ...p, sumcheck: { rounds } }, false);
  add('incorrect_quotient', st, { ...p, quotients: [p.quotients[0]!, p.quotients[1]!.add(G1.BASE), ...p.quotients.slice(2)] }, false);
  add('incorrect_quotients_swapped', st, { ...p, quotients: [p.quotients[1]!, p.quotients[0]!, ...p.quotients.slice(2)] }, false);
  add('incorrect_statement_bound_below_claim', { ...st, drift: { class: 'sparse', reveal: false, maxNonzeros: 2 } }, p, false);
  add('incorrect_statement_revealed', { ...st, drift: { class: 'sparse', reveal: true, maxNonzeros: 4 } }, p, false);

  const proofBytes = encodeSparseHiddenProof(p);
  cases.push(...statementCases(st, proofBytes, { statement: other.statement, proof: encodeSparseHiddenProof(other.proof) }));
  cases.push(...proofEncodingCases(st, proofBytes, p.selectorCommitment, p.deltaEval));
  const overCap = proofBytes.slice();
  // quotient count (u32 after the two evals) set to 65 > 64: LIMIT_EXCEEDED.
  new DataView(overCap.buffer).setUint32(proofBytes.length - 4 * 48 - 4, 65);
  cases.push(['malformed_proof_quotient_count_over_cap', blockFile(encodeStatement(st), overCap, null)]);
  return cases.map(([name, file]) => ({ fn, name, file }));
}

async function genLowRank(): Promise<GeneratedCase[]> {
  const rng = new SeededRng('verify_lowrank');
  const fn: VectorFunction = 'verify_lowrank';
  const cases: [string, VectorFile][] = [];
  // Tile 4 × 4 (μt = μy = 2), s = 8, s_a = s_b = 4 ⇒ λ = 1.
  const muRows = 2;
  const muCols = 2;
  const rows = 1 << muRows;
  const cols = 1 << muCols;
  const build = async (rank: number, residual: Extract<DriftSpec, { class: 'lowrank' }>['residual'], blockIndex: number, E: readonly number[] | null, B?: bigint[]): Promise<{ statement: BlockStatement; proof: LowRankProof; B: bigint[] }> => {
    const kappa = factorRankBits(rank);
    const K = 1 << kappa;
    const A = Array.from({ length: rows * K }, (_, i) => (i % K < rank ? BigInt(rng.int(-30, 30)) : 0n));
    const Bm = B ?? Array.from({ length: K * cols }, (_, i) => (Math.floor(i / cols) < rank ? BigInt(rng.int(-30, 30)) : 0n));
    const delta = new Array<bigint>(rows * cols).fill(0n);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        let ab = 0n;
        for (let l = 0; l < K; l++) ab += A[r * K + l]! * Bm[l * cols + c]!;
        delta[r * cols + c] = ab + BigInt(E?.[r * cols + c] ?? 0);
      }
    }
    const cB = await commitFactorB(CTX, Bm, kappa, muCols);
    const cBase = await baseCommitment(rng, rows * cols);
    const input = blockInput('job-vectors-4', 'layers.3.lora.weight', blockIndex, muRows, muCols, { class: 'lowrank', rank, factorBitsA: 4, factorBitsB: 4, residual }, cBase, 8);
    const out = await proveLowRank(CTX, input, delta, { A, B: Bm, cB });
    return { ...out, B: Bm };
  };
  const add = (name: string, st: BlockStatement, proof: LowRankProof, output: boolean | null): void => {
    cases.push([name, blockFile(encodeStatement(st), encodeLowRankProof(proof), output)]);
  };
  const main = await build(2, { kind: 'none' }, 0, null);
  // Another tile of the same tensor: same B (hence the same C_B), its own A.
  const other = await build(2, { kind: 'none' }, 1, null, main.B);
  const withLinf = await build(3, { kind: 'linf', maxAbs: 3n }, 2, rng.ints(16, -3, 3));
  const withL2 = await build(1, { kind: 'l2', maxSquaredNorm: 40n }, 3, [2, -3, 0, 0, 1, 0, 0, 0, 0, 4, 0, 0, 0, 0, -1, 0]);
  add('correct_rank2_exact', main.statement, main.proof, true);
  add('correct_rank2_exact_second_tile', other.statement, other.proof, true);
  add('correct_rank3_padded_linf_residual', withLinf.statement, withLinf.proof, true);
  add('correct_rank1_l2_residual', withL2.statement, withL2.proof, true);

  const st = main.statement;
  const p = main.proof;
  const bump = (xs: readonly bigint[], i: number): bigint[] => xs.map((x, j) => (j === i ? Fr.add(x, 1n) : x));
  add('incorrect_a', st, { ...p, a: bump(p.a, 0) }, false);
  add('incorrect_b', st, { ...p, b: bump(p.b, 1) }, false);
  add('incorrect_delta_at_point', st, { ...p, deltaAtPoint: Fr.add(p.deltaAtPoint, 1n) }, false);
  add('incorrect_a_and_b_scaled', st, { ...p, a: p.a.map((x) => Fr.mul(x, 2n)), b: p.b.map((x) => Fr.mul(x, Fr.inv(2n))) }, false);
  add('incorrect_quotient_a', st, { ...p, quotientsA: [p.quotientsA[0]!.add(G1.BASE), ...p.quotientsA.slice(1)] }, false);
  add('incorrect_quotient_b', st, { ...p, quotientsB: [...p.quotientsB.slice(0, -1), p.quotientsB.at(-1)!.add(G1.BASE)] }, false);
  add('incorrect_quotient_delta', st, { ...p, quotientsDelta: [p.quotientsDelta[0]!, p.quotientsDelta[1]!.add(G1.BASE), ...p.quotientsDelta.slice(2)] }, false);
  add('incorrect_factor_commitment_of_other_tensor', st, { ...p, cB: withL2.proof.cB }, false);
  add('incorrect_cA_swapped_with_other_tile', st, { ...p, cA: other.proof.cA }, false);
  // Padding row of B made non-zero (b_3 ≠ 0 for rank 3): extra rank is rejected.
  const lp = withLinf.proof;
  add('incorrect_padding_row_nonzero', withLinf.statement, { ...lp, b: lp.b.map((x, l) => (l === 3 ? 1n : x)) }, false);
  const lr = lp.residual!;
  add('incorrect_residual_bit_eval', withLinf.statement, { ...lp, residual: { ...lr, bitEvals: bump(lr.bitEvals, 0) } }, false);
  const l2r = withL2.proof.residual!;
  add('incorrect_residual_norm_under_reported', withL2.statement, { ...withL2.proof, residual: { ...l2r, squaredNorm: (l2r.squaredNorm ?? 0n) - 1n } }, false);
  add('incorrect_residual_missing', withLinf.statement, { ...lp, residual: null }, false);
  add('incorrect_statement_rank_lowered', { ...st, drift: { class: 'lowrank', rank: 1, factorBitsA: 4, factorBitsB: 4, residual: { kind: 'none' } } }, p, false);
  add('incorrect_statement_scale_changed', { ...st, drift: { class: 'lowrank', rank: 2, factorBitsA: 5, factorBitsB: 4, residual: { kind: 'none' } } }, p, false);

  const proofBytes = encodeLowRankProof(p);
  cases.push(...statementCases(st, proofBytes, { statement: other.statement, proof: encodeLowRankProof(other.proof) }));
  cases.push(...proofEncodingCases(st, proofBytes, p.quotientsA[1]!, p.b[0]!));
  const badPresent = proofBytes.slice();
  badPresent[96] = 2; // residual.present after C_B ‖ C_A
  cases.push(['malformed_proof_flag_byte', blockFile(encodeStatement(st), badPresent, null)]);
  return cases.map(([name, file]) => ({ fn, name, file }));
}

/** Every case of every function, in a fixed order. */
export async function generateAll(): Promise<GeneratedCase[]> {
  checkMalformedPoints();
  return [
    ...(await genCommit()),
    ...(await genVerifyOpening()),
    ...genSumcheck(),
    ...(await genNormLike('norm')),
    ...(await genNormLike('linf')),
    ...(await genSparseRevealed()),
    ...(await genSparseHidden()),
    ...(await genLowRank()),
    ...(await genNormUnit()),
    ...(await genLowRankUnit()),
    ...(await genSparseHiddenUnit()),
  ];
}

/** Hidden-sparse proving units (classes/sparse-unit.ts): three blocks, and forgeries. */
async function genSparseHiddenUnit(): Promise<GeneratedCase[]> {
  const rng = new SeededRng('verify_sparse_hidden_unit');
  const fn: VectorFunction = 'verify_sparse_hidden_unit';
  const prove = async (job: string, k: number, deltas: readonly (readonly bigint[])[]): Promise<{ statements: BlockStatement[]; proof: SparseHiddenUnitProof }> => {
    const inputs: BlockInput[] = [];
    for (let t = 0; t < deltas.length; t++) {
      inputs.push({ ...blockInput(job, 'layers.6.gate.weight', t, 2, 2, { class: 'sparse', reveal: false, maxNonzeros: k }, await baseCommitment(rng, 16)), tensorShape: [4 * deltas.length, 4] });
    }
    return proveSparseHiddenUnit(CTX, inputs, deltas);
  };
  const sparseDelta = (positions: readonly number[]): bigint[] => {
    const d = new Array<bigint>(16).fill(0n);
    for (const i of positions) d[i] = BigInt(rng.int(1, 1000)) * (rng.int(0, 1) === 0 ? 1n : -1n);
    return d;
  };
  const cases: [string, VectorFile][] = [];
  const add = (name: string, sts: readonly BlockStatement[], proof: SparseHiddenUnitProof, output: boolean | null): void => {
    cases.push([name, unitFile(sts.map(encodeStatement), encodeSparseHiddenUnitProof(proof), output)]);
  };
  const main = await prove('job-vectors-6', 3, [sparseDelta([1, 7]), sparseDelta([0, 5, 15]), sparseDelta([])]);
  const two = await prove('job-vectors-6', 1, [sparseDelta([3]), sparseDelta([12])]);
  add('correct_three_blocks', main.statements, main.proof, true);
  add('correct_two_blocks_one_change_each', two.statements, two.proof, true);
  const { statements: sts, proof: p } = main;
  const bump = (xs: readonly bigint[], i: number): bigint[] => xs.map((x, j) => (j === i ? Fr.add(x, 1n) : x));
  add('incorrect_nonzeros_under_reported', sts, { ...p, claimedNonzeros: [2, 2, 0] }, false);
  add('incorrect_nonzeros_compensating', sts, { ...p, claimedNonzeros: [3, 2, 0] }, false);
  add('incorrect_nonzeros_over_bound', sts, { ...p, claimedNonzeros: [2, 4, 0] }, false);
  add('incorrect_delta_eval', sts, { ...p, deltaEvals: bump(p.deltaEvals, 1) }, false);
  add('incorrect_selector_eval', sts, { ...p, selectorEvals: bump(p.selectorEvals, 2) }, false);
  add('incorrect_selectors_swapped', sts, { ...p, selectorCommitments: [p.selectorCommitments[1]!, p.selectorCommitments[0]!, p.selectorCommitments[2]!] }, false);
  add('incorrect_sumcheck_round', sts, { ...p, sumcheck: { rounds: p.sumcheck.rounds.map((g, i) => (i === 1 ? bump(g, 0) : g)) } }, false);
  add('incorrect_quotient', sts, { ...p, quotients: [p.quotients[0]!.add(G1.BASE), ...p.quotients.slice(1)] }, false);
  add('incorrect_statements_reordered', [sts[1]!, sts[0]!, sts[2]!], p, false);
  add('incorrect_statement_other_job', sts.map((st) => ({ ...st, job: `${st.job}-other` })), p, false);
  add('incorrect_statement_c_ft_changed', sts.map((st, t) => (t === 2 ? { ...st, cFt: st.cFt.add(G1.BASE) } : st)), p, false);
  add('incorrect_statement_revealed', sts.map((st) => ({ ...st, drift: { class: 'sparse', reveal: true, maxNonzeros: 3 } })), p, false);
  const bytes = encodeSparseHiddenUnitProof(p);
  const enc = sts.map(encodeStatement);
  cases.push(...unitBytesCases(enc, bytes, { offCurve: p.selectorCommitments[1]!, outsideG1: p.quotients[0]!, scalar: p.deltaEvals[0]! }));
  return cases.map(([name, file]) => ({ fn, name, file }));
}

/** Lowrank proving units (classes/lowrank-unit.ts): tiles of one tensor sharing B, and forgeries. */
async function genLowRankUnit(): Promise<GeneratedCase[]> {
  const rng = new SeededRng('verify_lowrank_unit');
  const fn: VectorFunction = 'verify_lowrank_unit';
  const muRows = 1;
  const muCols = 2;
  const rows = 1 << muRows;
  const cols = 1 << muCols;
  const build = async (rank: number, residual: Extract<DriftSpec, { class: 'lowrank' }>['residual'], T: number, E: (t: number) => readonly number[] | null, tensor = 'layers.4.lora.weight'): Promise<{ statements: BlockStatement[]; proof: LowRankUnitProof }> => {
    const kappa = factorRankBits(rank);
    const K = 1 << kappa;
    const B = Array.from({ length: K * cols }, (_, i) => (Math.floor(i / cols) < rank ? BigInt(rng.int(-30, 30)) : 0n));
    const cB = await commitFactorB(CTX, B, kappa, muCols);
    const inputs: BlockInput[] = [];
    const deltas: bigint[][] = [];
    const factors: { A: bigint[]; B: bigint[]; cB: G1Point }[] = [];
    for (let t = 0; t < T; t++) {
      const A = Array.from({ length: rows * K }, (_, i) => (i % K < rank ? BigInt(rng.int(-30, 30)) : 0n));
      const delta = new Array<bigint>(rows * cols).fill(0n);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          let ab = 0n;
          for (let l = 0; l < K; l++) ab += A[r * K + l]! * B[l * cols + c]!;
          delta[r * cols + c] = ab + BigInt(E(t)?.[r * cols + c] ?? 0);
        }
      }
      const cBase = await baseCommitment(rng, rows * cols);
      inputs.push({ ...blockInput('job-vectors-5', tensor, t, muRows, muCols, { class: 'lowrank', rank, factorBitsA: 4, factorBitsB: 4, residual }, cBase, 8), tensorShape: [rows * T, cols] });
      deltas.push(delta);
      factors.push({ A, B, cB });
    }
    return proveLowRankUnit(CTX, inputs, deltas, factors);
  };
  const cases: [string, VectorFile][] = [];
  const add = (name: string, sts: readonly BlockStatement[], proof: LowRankUnitProof, output: boolean | null): void => {
    cases.push([name, unitFile(sts.map(encodeStatement), encodeLowRankUnitProof(proof), output)]);
  };
  const main = await build(2, { kind: 'none' }, 3, () => null);
  const withLinf = await build(3, { kind: 'linf', maxAbs: 3n }, 2, () => rng.ints(rows * cols, -3, 3));
  const withL2 = await build(1, { kind: 'l2', maxSquaredNorm: 40n }, 2, (t) => (t === 0 ? [2, -3, 0, 0, 1, 0, 0, 1] : [0, 0, 4, 0, 0, 0, -1, 0]));
  const other = await build(2, { kind: 'none' }, 3, () => null, 'layers.5.lora.weight');
  add('correct_rank2_exact_three_tiles', main.statements, main.proof, true);
  add('correct_rank3_padded_linf_residual', withLinf.statements, withLinf.proof, true);
  add('correct_rank1_l2_residual', withL2.statements, withL2.proof, true);

  const { statements: sts, proof: p } = main;
  const bump = (xs: readonly bigint[], i: number): bigint[] => xs.map((x, j) => (j === i ? Fr.add(x, 1n) : x));
  add('incorrect_a_of_one_tile', sts, { ...p, a: p.a.map((at, t) => (t === 1 ? bump(at, 0) : at)) }, false);
  add('incorrect_b', sts, { ...p, b: bump(p.b, 1) }, false);
  add('incorrect_delta_at_point', sts, { ...p, deltaAtPoint: bump(p.deltaAtPoint, 2) }, false);
  add('incorrect_a_and_b_scaled', sts, { ...p, a: p.a.map((at) => at.map((x) => Fr.mul(x, 2n))), b: p.b.map((x) => Fr.mul(x, Fr.inv(2n))) }, false);
  add('incorrect_cA_swapped', sts, { ...p, cA: [p.cA[1]!, p.cA[0]!, p.cA[2]!] }, false);
  add('incorrect_factor_commitment_of_other_tensor', sts, { ...p, cB: other.proof.cB }, false);
  add('incorrect_quotient_delta', sts, { ...p, quotientsDelta: [p.quotientsDelta[0]!.add(G1.BASE), ...p.quotientsDelta.slice(1)] }, false);
  add('incorrect_quotient_a', sts, { ...p, quotientsA: [p.quotientsA[0]!.add(G1.BASE), ...p.quotientsA.slice(1)] }, false);
  add('incorrect_quotient_b', sts, { ...p, quotientsB: [...p.quotientsB.slice(0, -1), p.quotientsB.at(-1)!.add(G1.BASE)] }, false);
  add('incorrect_statements_reordered', [sts[2]!, sts[1]!, sts[0]!], p, false);
  add('incorrect_statement_c_ft_changed', sts.map((st, t) => (t === 1 ? { ...st, cFt: st.cFt.add(G1.BASE) } : st)), p, false);
  add('incorrect_statement_other_job', sts.map((st) => ({ ...st, job: `${st.job}-other` })), p, false);
  add('incorrect_statements_of_other_tensor', other.statements, p, false);
  const lp = withLinf.proof;
  add('incorrect_padding_row_nonzero', withLinf.statements, { ...lp, b: lp.b.map((x, l) => (l === 3 ? 1n : x)) }, false);
  const lr = lp.residual!;
  add('incorrect_residual_bit_eval', withLinf.statements, { ...lp, residual: { ...lr, tiles: lr.tiles.map((tp, t) => (t === 1 ? { ...tp, bitEvals: bump(tp.bitEvals, 0) } : tp)) } }, false);
  add('incorrect_residual_missing', withLinf.statements, { ...lp, residual: null }, false);
  const l2r = withL2.proof.residual!;
  add('incorrect_residual_norm_under_reported', withL2.statements, { ...withL2.proof, residual: { ...l2r, tiles: l2r.tiles.map((tp, t) => (t === 0 ? { ...tp, squaredNorm: (tp.squaredNorm ?? 0n) - 1n } : tp)) } }, false);
  const bytes = encodeLowRankUnitProof(p);
  const enc = sts.map(encodeStatement);
  cases.push(...unitBytesCases(enc, bytes, { offCurve: p.cA[1]!, outsideG1: p.quotientsA[0]!, scalar: p.b[0]! }));
  cases.push(['malformed_factor_commitment_not_in_subgroup', unitFile(enc, replaceOnce(bytes, encodeG1(p.cB), G1_NOT_IN_SUBGROUP), null)]);
  const flag = bytes.slice();
  flag[48 + 4 + 48 * p.cA.length] = 2; // residual.present
  cases.push(['malformed_proof_flag_byte', unitFile(enc, flag, null)]);
  return cases.map(([name, file]) => ({ fn, name, file }));
}

function unitFile(statements: readonly Uint8Array[], proof: Uint8Array, output: boolean | null): VectorFile {
  return { input: { tau: TAU_DEC, statements: statements.map((b) => hex(b)), proof: hex(proof) }, output };
}

/**
 * Bad bytes of a unit proof (the unit twin of `proofEncodingCases`): truncated, trailing,
 * empty; one proof point replaced by a point off the curve (bad input) or outside G1 (decodes,
 * rejected: the deferred subgroup check); one scalar replaced by r.
 */
function unitBytesCases(enc: readonly Uint8Array[], bytes: Uint8Array, at: { offCurve: G1Point; outsideG1: G1Point; scalar: bigint }): [string, VectorFile][] {
  return [
    ['malformed_proof_truncated', unitFile(enc, dropLast(bytes), null)],
    ['malformed_proof_trailing_byte', unitFile(enc, appendZero(bytes), null)],
    ['malformed_proof_empty', unitFile(enc, new Uint8Array(0), null)],
    ['malformed_proof_point_not_on_curve', unitFile(enc, replaceOnce(bytes, encodeG1(at.offCurve), G1_NOT_ON_CURVE), null)],
    ['incorrect_proof_point_not_in_subgroup', unitFile(enc, replaceOnce(bytes, encodeG1(at.outsideG1), G1_NOT_IN_SUBGROUP), false)],
    ['malformed_proof_scalar_not_below_r', unitFile(enc, replaceOnce(bytes, encodeScalar(at.scalar), bigintToBytes(R, 32)), null)],
  ];
}

/** Proving units (classes/norm-unit.ts): three norm blocks, two linf blocks, and forgeries. */
async function genNormUnit(): Promise<GeneratedCase[]> {
  const rng = new SeededRng('verify_norm_unit');
  const fn: VectorFunction = 'verify_norm_unit';
  const tensor = 'layers.2.unit.weight';
  const proveUnit = async (job: string, drift: DriftSpec, deltas: readonly (readonly bigint[])[], muRows = 2, muCols = 2): Promise<{ statements: BlockStatement[]; proof: NormUnitProof }> => {
    const inputs: BlockInput[] = [];
    for (let k = 0; k < deltas.length; k++) {
      const rows = 1 << muRows;
      inputs.push({ ...blockInput(job, tensor, k, muRows, muCols, drift, await baseCommitment(rng, 1 << (muRows + muCols))), tensorShape: [rows * deltas.length, 1 << muCols] });
    }
    return proveNormUnit(CTX, inputs, deltas);
  };
  const cases: [string, VectorFile][] = [];
  const add = (name: string, sts: readonly BlockStatement[], proof: NormUnitProof, output: boolean | null): void => {
    cases.push([name, unitFile(sts.map(encodeStatement), encodeNormUnitProof(proof), output)]);
  };
  const norm: DriftSpec = { class: 'norm', maxSquaredNorm: 400n };
  const deltas = [0, 1, 2].map(() => rng.ints(16, -5, 5).map(BigInt));
  const main = await proveUnit('job-vectors-units', norm, deltas);
  add('correct_norm_three_blocks', main.statements, main.proof, true);
  const lin = await proveUnit('job-vectors-units', { class: 'linf', maxAbs: 6n }, [0, 1].map(() => rng.ints(8, -6, 6).map(BigInt)), 1, 2);
  add('correct_linf_two_blocks', lin.statements, lin.proof, true);
  const mu0 = await proveUnit('job-vectors-units', norm, [[3n], [-20n]], 0, 0);
  add('correct_norm_mu0_two_blocks', mu0.statements, mu0.proof, true);

  const { statements: sts, proof: p } = main;
  const S = deltas.map((d) => d.reduce((a, x) => a + x * x, 0n));
  const tile = (k: number, over: Partial<NormUnitProof['tiles'][number]>): NormUnitProof => ({ ...p, tiles: p.tiles.map((t, j) => (j === k ? { ...t, ...over } : t)) });
  const t1 = p.tiles[1]!;
  const tampered: [string, readonly BlockStatement[], NormUnitProof][] = [
    ['incorrect_squared_norm_under_reported', sts, tile(1, { squaredNorm: S[1]! - 1n })],
    ['incorrect_squared_norms_compensating', sts, { ...p, tiles: p.tiles.map((t, j) => (j === 0 ? { ...t, squaredNorm: S[0]! + 1n } : j === 1 ? { ...t, squaredNorm: S[1]! - 1n } : t)) }],
    ['incorrect_squared_norm_missing', sts, tile(2, { squaredNorm: null })],
    ['incorrect_bit_eval', sts, tile(1, { bitEvals: t1.bitEvals.map((e, j) => (j === 0 ? Fr.add(e, 1n) : e)) })],
    ['incorrect_bit_commitments_swapped', sts, tile(1, { bitCommitments: [t1.bitCommitments[1]!, t1.bitCommitments[0]!, ...t1.bitCommitments.slice(2)] })],
    ['incorrect_tiles_swapped', sts, { ...p, tiles: [p.tiles[1]!, p.tiles[0]!, p.tiles[2]!] }],
    ['incorrect_tile_missing', sts, { ...p, tiles: p.tiles.slice(0, 2) }],
    ['incorrect_sumcheck_round', sts, { ...p, sumcheck: { rounds: p.sumcheck.rounds.map((g, i) => (i === 2 ? g.map((e, j) => (j === 1 ? Fr.add(e, 1n) : e)) : g)) } }],
    ['incorrect_quotient', sts, { ...p, quotients: [p.quotients[0]!.add(G1.BASE), ...p.quotients.slice(1)] }],
    ['incorrect_missing_quotient', sts, { ...p, quotients: p.quotients.slice(1) }],
    ['incorrect_statements_reordered', [sts[1]!, sts[0]!, sts[2]!], p],
    ['incorrect_statement_dropped', sts.slice(0, 2), p],
    ['incorrect_statement_other_job', sts.map((st) => ({ ...st, job: `${st.job}-other` })), p],
    ['incorrect_statement_c_ft_changed', sts.map((st, j) => (j === 2 ? { ...st, cFt: st.cFt.add(G1.BASE) } : st)), p],
    ['incorrect_statement_bound_below_norm', sts.map((st) => ({ ...st, drift: { class: 'norm', maxSquaredNorm: S[0]! - 1n } })), p],
    ['incorrect_statement_other_tensor', sts.map((st, j) => (j === 1 ? { ...st, tensor: `${tensor}.other` } : st)), p],
    ['incorrect_statement_other_srs', sts.map((st, j) => (j === 0 ? { ...st, srsId: '00'.repeat(32) } : st)), p],
    ['incorrect_unit_of_one_block', sts.slice(0, 1), { ...p, tiles: p.tiles.slice(0, 1) }],
    ['incorrect_unit_mixed_classes', [sts[0]!, lin.statements[1]!], { ...p, tiles: p.tiles.slice(0, 2) }],
  ];
  for (const [name, ss, proof] of tampered) add(name, ss, proof, false);
  const bytes = encodeNormUnitProof(p);
  const enc = sts.map(encodeStatement);
  cases.push(...unitBytesCases(enc, bytes, { offCurve: p.quotients[1]!, outsideG1: p.quotients[1]!, scalar: t1.bitEvals[0]! }));
  const tooMany = bytes.slice();
  new DataView(tooMany.buffer).setUint32(0, 1025); // the tile count above MAX_UNIT_BLOCKS
  cases.push(['malformed_proof_tile_count_above_cap', unitFile(enc, tooMany, null)]);
  const flag = bytes.slice();
  flag[4 + 4 + 48 * t1.bitCommitments.length] = 2; // tiles[0].squaredNorm.present
  cases.push(['malformed_proof_flag_byte', unitFile(enc, flag, null)]);
  cases.push(['malformed_statement_truncated', unitFile([enc[0]!, dropLast(enc[1]!), enc[2]!], bytes, null)]);
  return cases.map(([name, file]) => ({ fn, name, file }));
}

/** Root of the vector tree (test/vectors). */
export const VECTORS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors');

async function main(): Promise<void> {
  const cases = await generateAll();
  const seen = new Set<string>();
  for (const c of cases) {
    const key = `${c.fn}/${c.name}`;
    if (seen.has(key)) throw new Error(`gen-vectors: duplicate case ${key}`);
    seen.add(key);
    // Self-check: the code must agree with the output decided by construction.
    const got = await runVector(c.fn, c.file.input);
    if (got !== c.file.output) throw new Error(`gen-vectors: ${key}: expected ${String(c.file.output)}, the code says ${String(got)}`);
  }
  for (const fn of VECTOR_FUNCTIONS) rmSync(join(VECTORS_DIR, fn), { recursive: true, force: true });
  for (const c of cases) {
    const dir = join(VECTORS_DIR, c.fn, c.name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'data.json'), JSON.stringify(c.file, null, 1) + '\n');
  }
  const counts = VECTOR_FUNCTIONS.map((fn) => {
    const of = cases.filter((c) => c.fn === fn);
    const n = (o: VectorOutput): number => of.filter((c) => (typeof c.file.output === 'string' ? 'point' : c.file.output) === o).length;
    return `${fn}: ${of.length} (true ${n(true)}, false ${n(false)}, null ${n(null)}${fn === 'commit' ? `, point ${n('point')}` : ''})`;
  });
  console.log(`wrote ${cases.length} vectors under ${VECTORS_DIR}\n  ${counts.join('\n  ')}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
