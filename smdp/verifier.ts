/**
 * The certificate verifier (PROTOCOLS.md §6, DESIGN.md "Verification never trusts the
 * pipeline"; ../../shared/). It recomputes everything the certificate states:
 *
 *   1. the certificate is for this SRS (id, kind, N) and, when the caller says so, for this
 *      base manifest and policy;
 *   2. the digest: SHA-256(canonical JSON ‖ SHA-256(blob)) of the typed certificate;
 *   3. per tensor: frozen tensors by SHA-256 (`checkFrozen`; against the base manifest's hash
 *      when the caller holds the manifest); proven tensors by re-verifying every block
 *      (`aggregateBlocks`: decoding, each class's non-pairing checks, the tensor-level
 *      checks), and the certificate's class, parameters and summary (blocks, Σ k', Σ S, rank,
 *      C_B) must equal what the blocks prove, with s and job equal to the certificate's;
 *   4. the Merkle root of the proof index and the final accumulator recomputed from the
 *      blocks must equal the stated ones (a forged accumulator is rejected even if it would
 *      pass the pairing: the certificate must state what its blocks fold to);
 *   5. one multi-pairing of N+1 pairs on the recomputed accumulator.
 * With the base manifest's tensors (`expected.baseTensors`) it also checks every block's
 * C_base against the manifest and that every base tensor appears in the certificate (a
 * removed tensor is a violation; an added one may only be `free`, PROTOCOLS §5).
 * Without them the verifier can check the certificate only against itself: C_base and the
 * frozen tensors' base SHA-256s are then as the prover states them, and `baseManifestDigest`
 * only names the base. A registry that wants "differs from *this* base" passes the manifest's
 * tensors (the CLI does, holding the manifest file whose digest it checks).
 *
 * Soundness: that of the block protocols (classes/*.ts) plus (F−1)/r per aggregation node
 * (aggregate.ts) plus SHA-256 collision resistance for the digest, root and frozen hashes;
 * PST binding under q-type assumptions, ≈ 120-bit security on BLS12-381.
 *
 * Outcomes: a bad certificate is a `Verdict` with a reason, and per-tensor verdicts naming
 * the culprit; the verifier throws nothing for a typed certificate. Undecodable input never
 * reaches it: `decodeCertificate` throws `SmdpError` first, which callers map to bad input.
 */
import { pairingCheck } from './accumulator.ts';
import { MAX_FAN_IN, MIN_FAN_IN, aggregateBlocks, locatePairingFailures, recordStatements, type AggregateResult, type ProofRecord, type TensorAggregate } from './aggregate.ts';
import { certificateDigest, type Certificate, type TensorResult, type TensorSummary } from './certificate.ts';
import { checkFrozen } from './classes/frozen.ts';
import { SmdpError, rejected, VALID, type Verdict } from './errors.ts';
import type { G1Point } from './field.ts';
import { ByteWriter } from './bytes.ts';
import type { Srs } from './srs.ts';
import { encodeDrift, type DriftClassName, type DriftSpec } from './statement.ts';

/** What the base manifest says about one tensor (when the caller holds the manifest). */
export interface BaseTensorInfo {
  /** SHA-256 of the base tensor's raw bytes, hex. */
  readonly sha256?: string;
  /** C_base of each block, by block index (the manifest's tiling). */
  readonly blockCommitments?: readonly G1Point[];
}

/**
 * What a prover may hand its own self-check: the result of `aggregateBlocks(srs, blocks,
 * fanIn)` it computed moments before for these very block records (that pass re-checked
 * every block). `verifyCertificate` uses it instead of aggregating again only when `blocks`
 * are the certificate's block records — the same objects, in order — and `fanIn` is the
 * certificate's; otherwise it aggregates as usual. Every other check still runs. It changes
 * the time of a prover's self-check (one pass over the blocks instead of two), never a
 * verdict: a registry verifying bytes it received has no such result.
 */
export interface PriorAggregate {
  readonly blocks: readonly ProofRecord[];
  readonly fanIn: number;
  readonly result: AggregateResult;
}

function reusable(prior: PriorAggregate | undefined, cert: Certificate): AggregateResult | undefined {
  if (prior === undefined || prior.fanIn !== cert.fanIn || prior.blocks.length !== cert.blocks.length) return undefined;
  for (let i = 0; i < cert.blocks.length; i++) if (prior.blocks[i] !== cert.blocks[i]) return undefined;
  return prior.result;
}

export interface VerifyExpectations {
  /** The base manifest the registry trusts (hex SHA-256). */
  readonly baseManifestDigest?: string;
  /** The policy the registry requires (hex SHA-256 of the resolved policy). */
  readonly policyDigest?: string;
  /** The base manifest's tensors, by name. */
  readonly baseTensors?: ReadonlyMap<string, BaseTensorInfo>;
}

export interface TensorVerdict {
  readonly name: string;
  readonly class: 'frozen' | DriftClassName;
  readonly verdict: Verdict;
}

export type CertificateVerdict = Verdict & { readonly tensors: readonly TensorVerdict[] };

const HEX64 = /^[0-9a-f]{64}$/;

function driftKey(d: DriftSpec): string {
  const w = new ByteWriter();
  encodeDrift(w, d);
  return Array.from(w.finish(), (b) => b.toString(16).padStart(2, '0')).join('');
}

function classOf(t: TensorResult): 'frozen' | DriftClassName {
  return t.kind === 'frozen' ? 'frozen' : t.drift.class;
}

/** The summary a tensor's blocks prove, compared field by field with the stated one. */
function summaryProblem(stated: TensorSummary, agg: TensorAggregate): string | null {
  if (stated.blocks !== agg.blocks) return `states ${stated.blocks} blocks, the certificate has ${agg.blocks}`;
  if (stated.nonzeros !== agg.nonzeros) return `states ${stated.nonzeros} nonzeros, its blocks prove ${agg.nonzeros}`;
  if (stated.squaredNorm !== agg.squaredNorm) return `states squared norm ${stated.squaredNorm}, its blocks prove ${agg.squaredNorm}`;
  const rank = agg.drift.class === 'lowrank' ? agg.drift.rank : undefined;
  if (stated.rank !== rank) return `states rank ${stated.rank}, its blocks prove rank ≤ ${rank}`;
  const a = stated.factorCommitment;
  const b = agg.factorCommitment;
  if ((a === undefined) !== (b === undefined) || (a !== undefined && b !== undefined && !a.equals(b))) return 'states a C_B other than the one its tiles cite';
  return null;
}

/**
 * Verify a decoded certificate under `srs`. Valid only if every check above passes; the
 * per-tensor verdicts say which tensor failed (tensors not reached say why).
 */
export function verifyCertificate(srs: Srs, cert: Certificate, expected: VerifyExpectations = {}, prior?: PriorAggregate): CertificateVerdict {
  const tensorVerdicts = new Map<string, Verdict>();
  const finish = (overall: Verdict, unreached: string): CertificateVerdict => ({
    ...overall,
    tensors: cert.tensors.map((t) => ({
      name: t.name,
      class: classOf(t),
      verdict: tensorVerdicts.get(t.name) ?? (overall.valid ? VALID : rejected(`not verified: ${unreached}`)),
    })),
  });
  const fail = (reason: string): CertificateVerdict => finish(rejected(reason), reason);

  // 1. Setup, base, policy.
  if (cert.srs.id !== srs.id) return fail(`certificate is for SRS ${cert.srs.id}, verifying under SRS ${srs.id}`);
  if (cert.srs.kind !== srs.kind || cert.srs.N !== srs.N) return fail(`certificate states SRS kind ${cert.srs.kind} with N = ${cert.srs.N}, the SRS is ${srs.kind} with N = ${srs.N}`);
  if (expected.baseManifestDigest !== undefined && cert.baseManifestDigest !== expected.baseManifestDigest) {
    return fail(`certificate is for base manifest ${cert.baseManifestDigest}, expected ${expected.baseManifestDigest}`);
  }
  if (expected.policyDigest !== undefined && cert.policyDigest !== expected.policyDigest) return fail(`certificate is for policy ${cert.policyDigest}, expected ${expected.policyDigest}`);

  // 2. Digest (a typed certificate that cannot even be encoded is not a certificate).
  if (cert.accumulator.length !== srs.N + 1) return fail(`certificate states ${cert.accumulator.length} accumulator points, expected N+1 = ${srs.N + 1}`);
  if (!HEX64.test(cert.root)) return fail('certificate root is not a 32-byte hex digest');
  if (!Number.isInteger(cert.fanIn) || cert.fanIn < MIN_FAN_IN || cert.fanIn > MAX_FAN_IN) return fail(`fan-in ${cert.fanIn} is outside ${MIN_FAN_IN}..${MAX_FAN_IN}`);
  let digest: string;
  try {
    digest = certificateDigest(cert);
  } catch (e) {
    return fail(`certificate cannot be encoded: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (digest !== cert.digest) return fail(`digest mismatch: the certificate states ${cert.digest}, its content hashes to ${digest}`);

  // 3a. Tensor list: unique names, no stated rejections, frozen hashes.
  const names = new Set<string>();
  let firstProblem: string | null = null;
  const note = (name: string, reason: string): void => {
    if (!tensorVerdicts.has(name)) tensorVerdicts.set(name, rejected(reason));
    firstProblem ??= `tensor ${JSON.stringify(name)}: ${reason}`;
  };
  for (const t of cert.tensors) {
    if (names.has(t.name)) {
      note(t.name, 'listed more than once');
      continue;
    }
    names.add(t.name);
    if (t.verdict === 'rejected') note(t.name, `the certificate records it as rejected (${t.reason}); a certificate with a rejected tensor certifies nothing`);
    if (t.kind === 'frozen') {
      try {
        const v = checkFrozen(t.name, t.baseSha256, t.ftSha256);
        if (!v.valid) note(t.name, v.reason);
      } catch (e) {
        if (!(e instanceof SmdpError)) throw e;
        note(t.name, e.message);
      }
      const base = expected.baseTensors?.get(t.name);
      if (expected.baseTensors !== undefined && base?.sha256 !== undefined && base.sha256 !== t.baseSha256) {
        note(t.name, `frozen base SHA-256 ${t.baseSha256} differs from the base manifest's ${base.sha256}`);
      }
    }
  }
  if (expected.baseTensors !== undefined) {
    for (const name of expected.baseTensors.keys()) {
      if (!names.has(name)) firstProblem ??= `base tensor ${JSON.stringify(name)} is missing from the certificate (a removed tensor is a policy violation)`;
    }
    for (const t of cert.tensors) {
      if (!expected.baseTensors.has(t.name) && !(t.kind === 'proven' && t.drift.class === 'free')) {
        note(t.name, 'not in the base manifest; an added tensor must be free');
      }
    }
  }

  // 3b. Every block, and the tensor-level checks.
  const agg = reusable(prior, cert) ?? aggregateBlocks(srs, cert.blocks, cert.fanIn);
  if (!agg.ok) {
    for (const f of agg.failures) note(f.tensor, `block ${f.blockIndex} (position ${f.index}): ${f.reason}`);
    const f = agg.failing;
    return finish(rejected(firstProblem ?? `tensor ${JSON.stringify(f.tensor)} block ${f.blockIndex} (position ${f.index}): ${f.reason}`), 'a block of the certificate was rejected');
  }

  // 3c. The certificate's tensor list and the blocks agree.
  const proven = cert.tensors.filter((t) => t.kind === 'proven');
  const byName = new Map(agg.tensors.map((a) => [a.tensor, a]));
  for (const a of agg.tensors) if (!names.has(a.tensor)) firstProblem ??= `blocks of tensor ${JSON.stringify(a.tensor)} are not listed in the certificate's tensors`;
  proven.forEach((t, i) => {
    const a = byName.get(t.name);
    if (a === undefined) return note(t.name, 'a proven tensor without blocks');
    if (agg.tensors[i]?.tensor !== t.name) return note(t.name, 'its blocks are not in the order of the certificate\'s tensor list');
    if (driftKey(a.drift) !== driftKey(t.drift)) return note(t.name, `certificate states class ${t.drift.class} with other parameters than its blocks prove`);
    if (a.fractionalBits !== cert.fractionalBits) return note(t.name, `blocks use quantization s = ${a.fractionalBits}, the certificate states ${cert.fractionalBits}`);
    const sp = summaryProblem(t.summary, a);
    if (sp !== null) return note(t.name, sp);
  });
  for (const t of cert.tensors) if (t.kind === 'frozen' && byName.has(t.name)) note(t.name, 'a frozen tensor must have no blocks');
  const statements = cert.blocks.flatMap((b) => recordStatements(b));
  const blockJob = statements[0]?.job;
  if (blockJob !== undefined && blockJob !== cert.job) firstProblem ??= `blocks state job ${JSON.stringify(blockJob)}, the certificate ${JSON.stringify(cert.job)}`;
  if (expected.baseTensors !== undefined) {
    statements.forEach((st, pos) => {
      const expectedBase = expected.baseTensors?.get(st.tensor)?.blockCommitments?.[st.blockIndex];
      const declared = expected.baseTensors?.get(st.tensor)?.blockCommitments;
      if (declared !== undefined && (expectedBase === undefined || !expectedBase.equals(st.cBase))) {
        note(st.tensor, `block ${st.blockIndex} (position ${pos}): C_base differs from the base manifest's`);
      }
    });
  }
  if (firstProblem !== null) return finish(rejected(firstProblem), 'the certificate was rejected');

  // 4. Proof index and accumulator as stated.
  if (agg.root !== cert.root) return fail(`proof index root mismatch: the blocks give ${agg.root}, the certificate states ${cert.root}`);
  const forged = agg.accumulator.findIndex((p, j) => !p.equals(cert.accumulator[j]!));
  if (forged >= 0) return fail(`forged accumulator: P_${forged} differs from the fold of the certificate's blocks`);

  // 5. One multi-pairing.
  if (!pairingCheck(srs, agg.accumulator)) {
    const bad = locatePairingFailures(srs, cert.blocks);
    for (const pos of bad) {
      const st = statements[pos]!;
      note(st.tensor, `block ${st.blockIndex} (position ${pos}) fails its pairing check`);
    }
    const which = bad.length > 0 ? ` (blocks at positions ${bad.join(', ')} fail alone)` : '';
    return finish(rejected(`the final multi-pairing fails${which}`), 'the final multi-pairing failed');
  }
  return finish(VALID, '');
}
