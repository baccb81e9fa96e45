/**
 * Block proof dispatch (PROTOCOLS.md §5, §6; ../../shared/PROTOCOLS.md).
 *
 * A block record in a certificate is (statement, proof bytes). The statement's drift spec
 * alone decides which protocol the bytes belong to (`BlockProofKind`): there is no separate
 * tag a forger could set to route a proof to a weaker verifier. norm and linf share one
 * protocol (classes/norm.ts) and differ only in the statement, which its transcript absorbs.
 *
 * `verifyBlockProof` is the untrusted-bytes edge for one block: it decodes the proof with the
 * class's total decoder, then runs the class's non-pairing checks. Outcomes:
 *   - valid: the block's pending accumulator (null for classes without a pairing check:
 *     sparse-revealed, free) and its summary for the tensor-level checks (aggregate.ts);
 *   - rejected: a reason. Malformed proof bytes (an `SmdpError` from the decoder) are a
 *     rejection of that block, never a crash of the certificate verifier: the certificate
 *     decoded fine, one of its blocks does not hold.
 * Relation, assumptions and soundness error are those of the class's own file. One extra
 * check lives here: the statement's SRS id must be the SRS the caller verifies under —
 * the transcript binds the *stated* id, the pairing uses the *actual* SRS, so a statement
 * naming another SRS would otherwise have its challenges drawn for one setup and its
 * openings checked against another.
 *
 * Adding a class is one entry in `BLOCK_PROOF_CODECS` plus its case in `blockProofKind`.
 */
import { SmdpError, badInput } from './errors.ts';
import type { Srs } from './srs.ts';
import type { BlockStatement, DriftSpec } from './statement.ts';
import { blockRejected, type BlockCheck } from './classes/common.ts';
import { verifyFree } from './classes/free.ts';
import { decodeLowRankProof, encodeLowRankProof, verifyLowRank, type LowRankProof } from './classes/lowrank.ts';
import { decodeNormProof, encodeNormProof, verifyNormBound, type NormProof } from './classes/norm.ts';
import { decodeNormUnitProof, hasUnitProof, verifyNormUnit, type NormUnitProof, type UnitCheck } from './classes/norm-unit.ts';
import { decodeLowRankUnitProof, verifyLowRankUnit, type LowRankUnitProof } from './classes/lowrank-unit.ts';
import { decodeSparseHiddenUnitProof, verifySparseHiddenUnit, type SparseHiddenUnitProof } from './classes/sparse-unit.ts';
import type { ProofRecord } from './aggregate.ts';
import {
  decodeSparseHiddenProof,
  decodeSparseRevealedProof,
  encodeSparseHiddenProof,
  encodeSparseRevealedProof,
  verifySparseHidden,
  verifySparseRevealed,
  type SparseHiddenProof,
  type SparseRevealedProof,
} from './classes/sparse.ts';

export type BlockProofKind = 'norm' | 'linf' | 'sparse-revealed' | 'sparse-hidden' | 'lowrank' | 'free';

/** The proof protocol a statement's drift spec calls for. */
export function blockProofKind(drift: DriftSpec): BlockProofKind {
  switch (drift.class) {
    case 'norm':
      return 'norm';
    case 'linf':
      return 'linf';
    case 'sparse':
      return drift.reveal ? 'sparse-revealed' : 'sparse-hidden';
    case 'lowrank':
      return 'lowrank';
    case 'free':
      return 'free';
  }
}

/** A typed proof, tagged with its kind (what a prover hands to `encodeBlockProof`). */
export type TypedBlockProof =
  | { readonly kind: 'norm' | 'linf'; readonly proof: NormProof }
  | { readonly kind: 'sparse-revealed'; readonly proof: SparseRevealedProof }
  | { readonly kind: 'sparse-hidden'; readonly proof: SparseHiddenProof }
  | { readonly kind: 'lowrank'; readonly proof: LowRankProof }
  | { readonly kind: 'free' };

/** The decoded proof type of each kind (free: no proof). */
interface ProofByKind {
  readonly norm: NormProof;
  readonly linf: NormProof;
  readonly 'sparse-revealed': SparseRevealedProof;
  readonly 'sparse-hidden': SparseHiddenProof;
  readonly lowrank: LowRankProof;
  readonly free: null;
}
type ProofOf<K extends BlockProofKind> = ProofByKind[K];

interface BlockProofCodec<P> {
  readonly encode: (proof: P) => Uint8Array;
  /** Total decoder: throws only SmdpError. */
  readonly decode: (bytes: Uint8Array, what: string) => P;
  /** Non-pairing checks; never throws on a bad proof. */
  readonly verify: (srs: Srs, st: BlockStatement, proof: P) => BlockCheck;
}

/** A free block proves nothing, so its proof is the empty byte string. */
function decodeFreeProof(bytes: Uint8Array, what: string): null {
  if (bytes.length !== 0) badInput('TRAILING_BYTES', what, `a free block has an empty proof, got ${bytes.length} bytes`);
  return null;
}

const normCodec: BlockProofCodec<NormProof> = {
  encode: encodeNormProof,
  decode: decodeNormProof,
  verify: (srs, st, p) => verifyNormBound(srs.N, st, p),
};

/** The dispatch table: one entry per proof kind. */
const BLOCK_PROOF_CODECS: { readonly [K in BlockProofKind]: BlockProofCodec<ProofOf<K>> } = {
  norm: normCodec,
  linf: normCodec,
  'sparse-revealed': { encode: encodeSparseRevealedProof, decode: decodeSparseRevealedProof, verify: verifySparseRevealed },
  'sparse-hidden': { encode: encodeSparseHiddenProof, decode: decodeSparseHiddenProof, verify: (srs, st, p) => verifySparseHidden(srs.N, st, p) },
  lowrank: { encode: encodeLowRankProof, decode: decodeLowRankProof, verify: (srs, st, p) => verifyLowRank(srs.N, st, p) },
  free: { encode: () => new Uint8Array(0), decode: decodeFreeProof, verify: (_srs, st) => verifyFree(st) },
};

/** Encode a typed proof with its class's codec. */
export function encodeBlockProof(p: TypedBlockProof): Uint8Array {
  switch (p.kind) {
    case 'norm':
    case 'linf':
      return BLOCK_PROOF_CODECS[p.kind].encode(p.proof);
    case 'sparse-revealed':
      return BLOCK_PROOF_CODECS[p.kind].encode(p.proof);
    case 'sparse-hidden':
      return BLOCK_PROOF_CODECS[p.kind].encode(p.proof);
    case 'lowrank':
      return BLOCK_PROOF_CODECS[p.kind].encode(p.proof);
    case 'free':
      return new Uint8Array(0);
  }
}

/**
 * Decode untrusted proof bytes, then run the non-pairing checks; an SmdpError from either step
 * is a rejection named by `label` (e.g. `norm proof`), anything else a bug that propagates.
 */
function decodeThenCheck<P, C>(label: string, decode: () => P, check: (proof: P) => C, reject: (reason: string) => C): C {
  let proof: P;
  try {
    proof = decode();
  } catch (e) {
    if (e instanceof SmdpError) return reject(`${label} does not decode: ${e.code} at ${e.message}`);
    throw e; // a non-SmdpError from a decoder is a bug, not bad input: surface it
  }
  try {
    return check(proof);
  } catch (e) {
    // Verifiers return rejections; the SRS lookups they make may still raise SRS_TOO_SMALL.
    if (e instanceof SmdpError) return reject(`${label}: ${e.code} at ${e.message}`);
    throw e;
  }
}

function runCodec<K extends BlockProofKind>(kind: K, srs: Srs, st: BlockStatement, proofBytes: Uint8Array, what: string): BlockCheck {
  const codec = BLOCK_PROOF_CODECS[kind] as BlockProofCodec<ProofOf<K>>;
  return decodeThenCheck(
    `${kind} proof`,
    () => codec.decode(proofBytes, what),
    (proof) => codec.verify(srs, st, proof),
    blockRejected,
  );
}

/** Decode a block's proof and discard it (the scan of `withPrefetchedG1`); throws as decode does. */
export function scanBlockProof(st: BlockStatement, proofBytes: Uint8Array): void {
  BLOCK_PROOF_CODECS[blockProofKind(st.drift)].decode(proofBytes, 'proof');
}

/**
 * Decode and check one block's proof (non-pairing part). `what` names the proof in reasons,
 * e.g. `certificate.blocks[3].proof`.
 */
export function verifyBlockProof(srs: Srs, st: BlockStatement, proofBytes: Uint8Array, what: string): BlockCheck {
  if (st.srsId !== srs.id) return blockRejected(`statement names SRS ${st.srsId}, verifying under SRS ${srs.id}`);
  return runCodec(blockProofKind(st.drift), srs, st, proofBytes, what);
}

/** The proof kinds that have proving units (several blocks, one proof). */
type UnitProofKind = 'norm' | 'linf' | 'lowrank' | 'sparse-hidden';

interface UnitProofCodec<P> {
  /** Total decoder: throws only SmdpError. */
  readonly decode: (bytes: Uint8Array, what: string) => P;
  /** Non-pairing checks of the unit; never throws on a bad proof. */
  readonly verify: (N: number, statements: readonly BlockStatement[], proof: P) => UnitCheck;
}

/** The decoded proof type of each unit kind. */
interface UnitProofByKind {
  readonly norm: NormUnitProof;
  readonly linf: NormUnitProof;
  readonly lowrank: LowRankUnitProof;
  readonly 'sparse-hidden': SparseHiddenUnitProof;
}

const normUnitCodec: UnitProofCodec<NormUnitProof> = { decode: decodeNormUnitProof, verify: verifyNormUnit };

/** The unit dispatch table: one entry per unit proof kind (the twin of BLOCK_PROOF_CODECS). */
const UNIT_PROOF_CODECS: { readonly [K in UnitProofKind]: UnitProofCodec<UnitProofByKind[K]> } = {
  norm: normUnitCodec,
  linf: normUnitCodec,
  lowrank: { decode: decodeLowRankUnitProof, verify: verifyLowRankUnit },
  'sparse-hidden': { decode: decodeSparseHiddenUnitProof, verify: verifySparseHiddenUnit },
};

/** The unit kind a unit's statements call for (decided by block 0's drift spec), or null. */
function unitProofKind(statements: readonly BlockStatement[]): UnitProofKind | null {
  const drift = statements[0]?.drift;
  return drift !== undefined && hasUnitProof(drift) ? (blockProofKind(drift) as UnitProofKind) : null;
}

/**
 * Decode and check one certificate record (non-pairing part): a block (`verifyBlockProof`) or
 * a proving unit. A unit's proof protocol is decided by its statements alone (every statement
 * must name the SRS verified under; norm and linf units take classes/norm-unit.ts, lowrank
 * units classes/lowrank-unit.ts, hidden sparse units classes/sparse-unit.ts; no other class
 * has unit proofs). Malformed bytes are a rejection of the record, as for blocks.
 */
export function verifyRecordProof(srs: Srs, record: ProofRecord, what: string): UnitCheck {
  if ('statement' in record) {
    const c = verifyBlockProof(srs, record.statement, record.proofBytes, what);
    return c.valid ? { valid: true, accumulator: c.accumulator, summaries: [c.summary] } : c;
  }
  for (const st of record.statements) {
    if (st.srsId !== srs.id) return { valid: false, reason: `block ${st.blockIndex} of the unit names SRS ${st.srsId}, verifying under SRS ${srs.id}` };
  }
  const kind = unitProofKind(record.statements);
  if (kind === null) {
    const found = record.statements[0] === undefined ? '(no blocks)' : blockProofKind(record.statements[0].drift);
    return { valid: false, reason: `a proving unit of kind ${found}: only norm, linf, lowrank and hidden sparse blocks have unit proofs` };
  }
  return runUnitCodec(kind, srs, record.statements, record.proofBytes, what);
}

function runUnitCodec<K extends UnitProofKind>(kind: K, srs: Srs, statements: readonly BlockStatement[], proofBytes: Uint8Array, what: string): UnitCheck {
  const codec = UNIT_PROOF_CODECS[kind] as UnitProofCodec<UnitProofByKind[K]>;
  return decodeThenCheck(
    `${kind} unit proof`,
    () => codec.decode(proofBytes, what),
    (proof) => codec.verify(srs.N, statements, proof),
    (reason): UnitCheck => ({ valid: false, reason }),
  );
}

/** Decode a record's proof and discard it (the scan of `withPrefetchedG1`); throws as decode does. */
export function scanRecordProof(record: ProofRecord): void {
  if ('statement' in record) return scanBlockProof(record.statement, record.proofBytes);
  const kind = unitProofKind(record.statements);
  if (kind !== null) UNIT_PROOF_CODECS[kind].decode(record.proofBytes, 'proof');
}
