/**
 * The distributed pipeline's activities (DESIGN.md data flow): the step functions of
 * certify.ts over a blob store, with keys and digests — never weights or proofs — in
 * Temporal payloads. Built by `pipelineActivities(deps)` so each worker passes its own store,
 * event publisher, logger, SRS and proving backend.
 *
 * Idempotence: every output is content-addressed by the SHA-256 of its input (tile work,
 * block records, nodes) or of itself (certificates, manifests); an activity that finds its
 * output already stored (and decodable) returns it without recomputing, so retries, replays
 * and a second worker picking up a timed-out activity all converge on the same bytes.
 *
 * Errors: a tile outside its class is a non-retryable `DriftPolicyViolation` failure carrying
 * the violation; malformed inputs (model files, policies) are non-retryable `BadInput`;
 * everything else (storage, network) is retried by the workflow's retry policy.
 */
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { Logger } from 'pino';
import { aggregationContext, foldChildren, recordDigest, recordStatements, type AggregationChild } from '../smdp/aggregate.ts';
import { verifyRecordProof } from '../smdp/blocks.ts';
import { encodeCertificate, type TensorResult } from '../smdp/certificate.ts';
import { SmdpError } from '../smdp/errors.ts';
import type { ProverContext } from '../smdp/pst.ts';
import type { Srs } from '../smdp/srs.ts';
import { ModelError } from '../model/errors.ts';
import { encodeManifest, parseManifest } from '../model/manifest.ts';
import { parsePolicy, policyDigest, serializePolicy, type Policy } from '../model/policy.ts';
import { DEFAULT_UNIT_BLOCKS, blockViolation, checkFrozen, commitBase, planJob, prepareTensor, sealAndVerify, type TensorReport, type Violation } from './certify.ts';
import { decodeNode, decodeProofRecord, decodeUnitWork, encodeNode, encodeProofRecord, encodeUnitWork, sha256Hex } from './codec.ts';
import { groupUnits } from './prove-block.ts';
import type { ModelReader } from './model-reader.ts';
import type { BlockProver } from './prove-pool.ts';

/** What the activities need from a blob store (S3 or filesystem; infra/stores). */
export interface PipelineStore {
  put(key: string, bytes: Uint8Array): Promise<unknown>;
  get(key: string): Promise<Uint8Array>;
  exists(key: string): Promise<boolean>;
}

/** A CloudEvent 1.0 as the pipeline publishes it (Kafka binary mode or a JSONL log). */
export interface PipelineEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: 'dev.fti.certificate.issued.v1' | 'dev.fti.certificate.rejected.v1';
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly data: Record<string, unknown>;
}

export interface PipelinePublisher {
  /** Publish one event; `key` = the fine-tuned model id (Kafka partition key). */
  publish(event: PipelineEvent, key: string): Promise<void>;
}

export interface PipelineDeps {
  readonly store: PipelineStore;
  readonly publisher: PipelinePublisher;
  readonly log: Logger;
  /** The SRS this worker proves under (a job's SRS must be this one). */
  readonly srs: Srs;
  readonly ctx: ProverContext;
  /** Where tiles are proven on this worker (a worker-thread pool, or inline). */
  readonly prover: BlockProver;
  /** Opens a model by path or URI (local safetensors, or ranged S3 reads). */
  openModel(uri: string): Promise<ModelReader>;
  /** Reads a policy file or resolves a template for this base model. */
  loadPolicy(spec: string, base: ModelReader): Promise<Policy>;
  /** Clock for event times (activities may read clocks; workflows may not). */
  now?(): Date;
}

/** The job as the workflow is started with it (paths/URIs and options only). */
export interface JobSpec {
  readonly job: string;
  readonly base: string;
  readonly ft: string;
  /** A policy file path or a template name. */
  readonly policy: string;
  readonly fanIn?: number;
  /** Most tiles per proving unit (default DEFAULT_UNIT_BLOCKS; 1: every tile on its own). */
  readonly unitBlocks?: number;
}

/** Stored at `jobs/<job>/job.json`: everything later steps need to re-plan deterministically. */
interface JobDoc {
  readonly spec: JobSpec;
  readonly policy: string;
  readonly manifestKey: string;
  readonly srsId: string;
}

export interface PlannedTensor {
  readonly name: string;
  readonly class: string;
  readonly tiles: number;
}

export interface PlanResult {
  readonly jobKey: string;
  readonly manifestKey: string;
  readonly manifestDigest: string;
  readonly policyDigest: string;
  /** Non-frozen tensors in certificate order, with their tile counts. */
  readonly proven: readonly PlannedTensor[];
  readonly frozen: readonly string[];
  /** Tensor-set violations (added/removed/reshaped/retyped). */
  readonly violations: readonly Violation[];
}

/** A shard: one proving unit's stored work (one tile, or several tiles of one tensor). */
export interface BlockRef {
  readonly key: string;
  readonly tensor: string;
  /** The unit's first block (index in its tensor). */
  readonly index: number;
  /** Tiles in the unit (absent: 1). */
  readonly blocks?: number;
}

export type ShardResult = { readonly blocks: readonly BlockRef[]; readonly measured: Record<string, string | number> } | { readonly violation: Violation };

export interface ProvedBlock {
  readonly recordKey: string;
  /** Leaf digest (hex) of the record (a block's or a unit's). */
  readonly digest: string;
}

export interface NodeResult {
  readonly nodeKey: string;
  readonly digest: string;
}

export type JobOutcome =
  | { readonly verdict: 'accepted'; readonly certificateKey: string; readonly certificateDigest: string; readonly eventId: string }
  | { readonly verdict: 'rejected'; readonly rejectionKey: string; readonly violations: readonly Violation[]; readonly eventId: string };

const enc = new TextEncoder();
const dec = new TextDecoder();

export const keys = {
  job: (job: string) => `jobs/${job}/job.json`,
  frozen: (job: string) => `jobs/${job}/frozen.json`,
  tensor: (job: string, tensor: string) => `jobs/${job}/tensors/${sha256Hex(enc.encode(tensor))}.json`,
  manifest: (digest: string) => `manifests/${digest}.json`,
  manifestFor: (baseId: string) => `manifests/by-base/${baseId}`,
  work: (digest: string) => `blocks/sha256/${digest}`,
  record: (workDigest: string) => `proofs/sha256/${workDigest}`,
  node: (digest: string, level: number, index: number) => `nodes/${digest}-${level}-${index}`,
  certificate: (digest: string) => `certificates/${digest}.json`,
  certificateBlob: (digest: string) => `certificates/${digest}.bin`,
  rejection: (digest: string) => `rejections/${digest}.json`,
};

function nonRetryable(type: string, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, ...(details !== undefined ? { details: [details] } : {}) });
}

/** Bad input (model files, policies, certificates) is never retried: it will not get better. */
function classify(e: unknown): unknown {
  if (e instanceof ModelError || e instanceof SmdpError) return nonRetryable('BadInput', e.message, { code: e.code });
  return e;
}

async function guarded<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw classify(e);
  }
}

/** Calls heartbeat every `ms` while `p` runs (the prover runs on worker threads, so the loop is free). */
async function withHeartbeat<T>(p: Promise<T>, details?: unknown, ms = 1000): Promise<T> {
  const t = setInterval(() => heartbeat(details), ms);
  try {
    return await p;
  } finally {
    clearInterval(t);
  }
}

export function pipelineActivities(deps: PipelineDeps) {
  const { store, log } = deps;
  const json = async <T>(key: string): Promise<T> => JSON.parse(dec.decode(await store.get(key))) as T;
  const putJson = (key: string, v: unknown) => store.put(key, enc.encode(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))));

  async function openJob(jobKey: string) {
    const doc = await json<JobDoc>(jobKey);
    if (doc.srsId !== deps.srs.id) throw nonRetryable('WrongSrs', `job ${doc.spec.job} is proven under SRS ${doc.srsId}; this worker has ${deps.srs.id}`);
    const { manifest } = parseManifest(dec.decode(await store.get(doc.manifestKey)), doc.manifestKey);
    const policy = parsePolicy(doc.policy, { format: 'json', file: `${jobKey}#policy` });
    const base = await deps.openModel(doc.spec.base);
    const ft = await deps.openModel(doc.spec.ft);
    const close = async () => {
      await base.close();
      await ft.close();
    };
    return { doc, manifest, policy, base, ft, close, job: { job: doc.spec.job, base, ft, policy, manifest, ...(doc.spec.fanIn !== undefined ? { fanIn: doc.spec.fanIn } : {}) } };
  }

  return {
    /**
     * The base manifest for this base model and SRS: reused when stored (by the base files'
     * SHA-256s), else committed here (heartbeating per tensor) and stored.
     */
    async commitBase(input: { base: string; policy: string }): Promise<{ manifestKey: string; digest: string; reused: boolean }> {
      return guarded(async () => {
        const base = await deps.openModel(input.base);
        try {
          const fractionalBits = (await deps.loadPolicy(input.policy, base)).fractionalBits;
          const files = await base.files();
          const baseId = sha256Hex(enc.encode(JSON.stringify({ files, srs: deps.srs.id, s: fractionalBits })));
          const pointer = keys.manifestFor(baseId);
          if (await store.exists(pointer)) {
            const manifestKey = dec.decode(await store.get(pointer));
            if (await store.exists(manifestKey)) {
              const { digest } = parseManifest(dec.decode(await store.get(manifestKey)), manifestKey);
              return { manifestKey, digest, reused: true };
            }
          }
          const { manifest, digest } = await commitBase(deps.ctx, base, fractionalBits, (_p, done, total, t) => heartbeat({ done, total, tensor: t }), deps.prover);
          const manifestKey = keys.manifest(digest);
          await store.put(manifestKey, enc.encode(encodeManifest(manifest)));
          await store.put(pointer, enc.encode(manifestKey));
          log.info({ base: input.base, digest }, 'base manifest committed');
          return { manifestKey, digest, reused: false };
        } finally {
          await base.close();
        }
      });
    },

    /** plan: resolve the policy, match tensors, choose tiles; store the job document. */
    async planJob(input: { spec: JobSpec; manifestKey: string }): Promise<PlanResult> {
      return guarded(async () => {
        const { spec } = input;
        const base = await deps.openModel(spec.base);
        const ft = await deps.openModel(spec.ft);
        try {
          const policy = await deps.loadPolicy(spec.policy, base);
          const { manifest, digest } = parseManifest(dec.decode(await store.get(input.manifestKey)), input.manifestKey);
          if (manifest.srs.id !== deps.srs.id) throw nonRetryable('WrongSrs', `the base manifest was committed under SRS ${manifest.srs.id}, this worker has ${deps.srs.id}`);
          const { plans, violations } = planJob(deps.srs.N, { base, ft, policy, manifest });
          const doc: JobDoc = { spec, policy: serializePolicy(policy, 'json'), manifestKey: input.manifestKey, srsId: deps.srs.id };
          const jobKey = keys.job(spec.job);
          await putJson(jobKey, doc);
          return {
            jobKey,
            manifestKey: input.manifestKey,
            manifestDigest: digest,
            policyDigest: policyDigest(policy),
            proven: plans.filter((p) => p.class !== 'frozen').map((p) => ({ name: p.name, class: p.class, tiles: p.tiles.length })),
            frozen: plans.filter((p) => p.class === 'frozen').map((p) => p.name),
            violations,
          };
        } finally {
          await base.close();
          await ft.close();
        }
      });
    },

    /** Frozen tensors: raw-byte hashes against the manifest; results stored for finalize. */
    async checkFrozen(input: { jobKey: string }): Promise<{ violations: Violation[] }> {
      return guarded(async () => {
        const j = await openJob(input.jobKey);
        try {
          const { plans } = planJob(deps.srs.N, j.job);
          const results: TensorResult[] = [];
          const reports: TensorReport[] = [];
          const violations: Violation[] = [];
          let done = 0;
          for (const p of plans) {
            if (p.class !== 'frozen') continue;
            const r = await checkFrozen(j.job, p);
            if ('violation' in r) violations.push(r.violation);
            else results.push(r.result);
            reports.push(r.report);
            heartbeat({ done: ++done });
          }
          await putJson(keys.frozen(j.doc.spec.job), { results, reports });
          return { violations };
        } finally {
          await j.close();
        }
      });
    },

    /** shard + factor one tensor: Δ tiles (and low-rank factors) stored content-addressed. */
    async shardTensor(input: { jobKey: string; tensor: string }): Promise<ShardResult> {
      return guarded(async () => {
        const j = await openJob(input.jobKey);
        try {
          const { plans } = planJob(deps.srs.N, j.job);
          const p = plans.find((x) => x.name === input.tensor);
          if (!p) throw nonRetryable('BadInput', `tensor ${input.tensor} is not in the plan of job ${j.doc.spec.job}`);
          const bm = j.manifest.tensors.find((t) => t.name === p.name);
          const prepared = await prepareTensor(deps.ctx, j.job, p, bm, j.policy.fractionalBits);
          if ('violation' in prepared) {
            await putJson(keys.tensor(j.doc.spec.job, p.name), { violation: prepared.violation });
            return { violation: prepared.violation };
          }
          const blocks: BlockRef[] = [];
          for (const [k, unit] of groupUnits(prepared.works, j.doc.spec.unitBlocks ?? DEFAULT_UNIT_BLOCKS).entries()) {
            const bytes = encodeUnitWork(unit);
            const key = keys.work(sha256Hex(bytes));
            // Always written: the same bytes under the same key, and a re-shard repairs a
            // work object that was deleted or corrupted in the store.
            await store.put(key, bytes);
            blocks.push({ key, tensor: p.name, index: unit[0]!.input.blockIndex, ...(unit.length > 1 ? { blocks: unit.length } : {}) });
            heartbeat({ unit: k });
          }
          await putJson(keys.tensor(j.doc.spec.job, p.name), { measured: prepared.measured, blocks: blocks.length });
          return { blocks, measured: prepared.measured };
        } finally {
          await j.close();
        }
      });
    },

    /**
     * proveBlock: prove one stored proving unit (one tile, or several tiles of a tensor with
     * one lockstep proof). Output `proofs/sha256/<work digest>`; an existing record that
     * decodes is reused. Out of class → non-retryable DriftPolicyViolation with the violation
     * (naming the tile) as details.
     */
    async proveBlock(input: { workKey: string }): Promise<ProvedBlock> {
      const workBytes = await store.get(input.workKey);
      const workDigest = sha256Hex(workBytes);
      if (`blocks/sha256/${workDigest}` !== input.workKey) throw nonRetryable('CorruptBlock', `${input.workKey}: stored work does not match its digest (${workDigest}); re-shard the tensor`);
      const recordKey = keys.record(workDigest);
      if (await store.exists(recordKey)) {
        try {
          const rec = decodeProofRecord(await store.get(recordKey), recordKey);
          return { recordKey, digest: sha256Hex(recordDigest(rec)) };
        } catch (e) {
          log.warn({ recordKey, err: (e as Error).message }, 'stored record unreadable; proving again');
        }
      }
      const unit = (() => {
        try {
          return decodeUnitWork(workBytes, input.workKey);
        } catch (e) {
          throw classify(e);
        }
      })();
      const first = unit[0]!.input;
      try {
        const t0 = performance.now();
        const rec = await withHeartbeat(deps.prover.prove(unit), { workKey: input.workKey });
        const proveMs = performance.now() - t0;
        await store.put(recordKey, encodeProofRecord(rec));
        log.info({ job: first.job, tensor: first.tensor, block: first.blockIndex, blocks: unit.length, proveMs: Math.round(proveMs) }, unit.length > 1 ? 'unit proven' : 'block proven');
        return { recordKey, digest: sha256Hex(recordDigest(rec)) };
      } catch (e) {
        const v = blockViolation(first.tensor, first.blockIndex, e);
        if (v) throw nonRetryable('DriftPolicyViolation', v.detail, v);
        throw e;
      }
    },

    /**
     * One node of the aggregation tree: re-check every child (level 1: decode the block and
     * run its non-pairing checks; above: decode the node and check its digest), fold with the
     * node's γ, store. A bad child is named in a non-retryable failure.
     */
    async aggregateNode(input: { job: string; level: number; index: number; children: readonly string[] }): Promise<NodeResult> {
      return guarded(async () => {
        const ctx = aggregationContext(deps.srs, input.job);
        const children: AggregationChild[] = [];
        for (const [k, key] of input.children.entries()) {
          if (input.level === 1) {
            const rec = decodeProofRecord(await store.get(key), key);
            const sts = recordStatements(rec);
            const chk = verifyRecordProof(deps.srs, rec, key);
            if (!chk.valid) throw nonRetryable('BadChild', `node (1, ${input.index}): child ${k} (${key}, tensor ${sts[0]?.tensor} block ${sts[0]?.blockIndex}${sts.length > 1 ? ` and ${sts.length - 1} more` : ''}) fails: ${chk.reason}`);
            const foreign = sts.find((st) => st.job !== input.job);
            if (foreign !== undefined) throw nonRetryable('BadChild', `node (1, ${input.index}): child ${k} (${key}) belongs to job ${foreign.job}`);
            children.push({ digest: recordDigest(rec), accumulator: chk.accumulator });
          } else {
            const node = decodeNode(await store.get(key), key);
            if (node.level !== input.level - 1) throw nonRetryable('BadChild', `node (${input.level}, ${input.index}): child ${k} (${key}) is at level ${node.level}`);
            children.push({ digest: Uint8Array.from(Buffer.from(node.digest, 'hex')), accumulator: node.accumulator });
          }
          heartbeat({ child: k });
        }
        const node = foldChildren(ctx, input.level, input.index, children);
        const digest = Buffer.from(node.digest).toString('hex');
        const nodeKey = keys.node(digest, input.level, input.index);
        await store.put(nodeKey, encodeNode({ level: input.level, index: input.index, digest, accumulator: node.accumulator.evaluate(), children: input.children }));
        return { nodeKey, digest };
      });
    },

    /**
     * finalize: gather the blocks from the tree under `rootKey`, seal the certificate,
     * verify it as a registry would (its root must equal the tree's), store it.
     */
    async finalize(input: { jobKey: string; rootKey: string }): Promise<{ certificateKey: string; certificateDigest: string; certificateSha256: string; tensors: readonly PlannedTensor[] }> {
      return guarded(async () => {
        const j = await openJob(input.jobKey);
        try {
          const { plans } = planJob(deps.srs.N, j.job);
          const leaves: string[] = [];
          const walk = async (key: string): Promise<void> => {
            const n = decodeNode(await store.get(key), key);
            if (n.level === 1) leaves.push(...n.children);
            else for (const c of n.children) await walk(c);
          };
          await walk(input.rootKey);
          const root = decodeNode(await store.get(input.rootKey), input.rootKey);
          const blocks = [];
          for (const key of leaves) blocks.push(decodeProofRecord(await store.get(key), key));
          heartbeat({ blocks: blocks.length });
          const frozen = await json<{ results: TensorResult[] }>(keys.frozen(j.doc.spec.job));
          const certificate = await sealAndVerify(deps.ctx, j.job, plans, frozen.results, blocks);
          if (certificate.root !== root.digest) throw new Error(`finalize: the certificate's root ${certificate.root} differs from the aggregation tree's ${root.digest}`);
          const { json: certJson, blob } = encodeCertificate(certificate);
          const certificateKey = keys.certificate(certificate.digest);
          await store.put(keys.certificateBlob(certificate.digest), blob);
          await store.put(certificateKey, enc.encode(certJson));
          return {
            certificateKey,
            certificateDigest: certificate.digest,
            certificateSha256: sha256Hex(enc.encode(certJson)),
            tensors: plans.map((p) => ({ name: p.name, class: p.class, tiles: p.tiles.length })),
          };
        } finally {
          await j.close();
        }
      });
    },

    /** Store the rejection report (every violation) and return its key and digest. */
    async reject(input: { jobKey: string; violations: readonly Violation[] }): Promise<{ rejectionKey: string; digest: string }> {
      const doc = await json<JobDoc>(input.jobKey);
      const report = { job: doc.spec.job, base: doc.spec.base, fineTuned: doc.spec.ft, policy: doc.spec.policy, verdict: 'rejected', violations: input.violations };
      const bytes = enc.encode(JSON.stringify(report, null, 2) + '\n');
      const digest = sha256Hex(bytes);
      const rejectionKey = keys.rejection(digest);
      await store.put(rejectionKey, bytes);
      return { rejectionKey, digest };
    },

    /** publish: one CloudEvent per job outcome; its id is the certificate/rejection digest. */
    async publish(input: { jobKey: string; outcome: { verdict: 'accepted'; certificateKey: string; certificateDigest: string; certificateSha256: string } | { verdict: 'rejected'; rejectionKey: string; digest: string; violations: readonly Violation[] }; policyDigest: string; manifestDigest: string }): Promise<{ eventId: string }> {
      const doc = await json<JobDoc>(input.jobKey);
      const o = input.outcome;
      const common = { job: doc.spec.job, base: doc.spec.base, fineTuned: doc.spec.ft, policy: doc.spec.policy, policyDigest: input.policyDigest, baseManifestDigest: input.manifestDigest };
      const event: PipelineEvent = {
        specversion: '1.0',
        id: o.verdict === 'accepted' ? o.certificateDigest : o.digest,
        source: 'fti/pipeline',
        type: o.verdict === 'accepted' ? 'dev.fti.certificate.issued.v1' : 'dev.fti.certificate.rejected.v1',
        subject: doc.spec.ft,
        time: (deps.now?.() ?? new Date()).toISOString(),
        datacontenttype: 'application/json',
        data:
          o.verdict === 'accepted'
            ? { ...common, verdict: 'accepted', certificate: o.certificateKey, certificateSha256: o.certificateSha256 }
            : { ...common, verdict: 'rejected', rejection: o.rejectionKey, violations: o.violations.map((v) => ({ tensor: v.tensor, check: v.check, detail: v.detail })) },
      };
      await deps.publisher.publish(event, doc.spec.ft);
      log.info({ job: doc.spec.job, eventId: event.id, type: event.type }, 'event published');
      return { eventId: event.id };
    },
  };
}

export type PipelineActivities = ReturnType<typeof pipelineActivities>;

