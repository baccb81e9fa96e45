/**
 * Workflows of the distributed pipeline (deterministic code only: no I/O, clocks or
 * randomness outside the Temporal APIs). One `certifyFineTuneWorkflow` per fine-tune job:
 *
 *   commitBase (reused by base digest) → plan → frozen checks → shard (per tensor) →
 *   proveBatch child workflows (F^k consecutive tiles each: prove on the prover task queue,
 *   fold the batch's subtree) → fold batch roots to the root → finalize (self-verify) →
 *   publish (issued or rejected).
 *
 * History stays small: a parent schedules one activity per tensor and one child per batch
 * (≤ 512 tiles), a batch ≤ 512 prove activities and its few fold nodes — 5,000 tiles are 20
 * batches of 256. Payloads are keys and digests. A block that keeps failing (not a policy
 * violation) is recorded as a failed shard; the job finishes everything else, then waits for
 * the `replay` signal (or its deadline) and reruns only the failed batches — outputs are
 * content-addressed, so their finished blocks are reused, not re-proven.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  defineQuery,
  defineSignal,
  executeChild,
  proxyActivities,
  setHandler,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { BlockRef, JobSpec, PipelineActivities, PlanResult } from '../activities/pipeline.ts';
import type { Violation } from '../activities/certify.ts';
import { batchShape, childRange, treeLevels } from './tree.ts';

export const PROVE_CPU_QUEUE = 'fti-prove-cpu';
export const PROVE_GPU_QUEUE = 'fti-prove-gpu';
export const ORCHESTRATOR_QUEUE = 'fti-orchestrator';

export interface CertifyJobInput {
  readonly spec: JobSpec;
  /** Task queue of proveBlock activities (default fti-prove-cpu). */
  readonly proveQueue?: string;
  /** Tiles in flight at once across batches (default 500). */
  readonly maxInFlight?: number;
  /** Attempts per proveBlock before the shard counts as failed (default 3). */
  readonly maxAttempts?: number;
  /** How long to wait for `replay` after shards failed, ms (default 24 h). */
  readonly replayDeadlineMs?: number;
  /** A proveBlock whose worker stops heartbeating for this long is retried elsewhere, ms (default 60 s). */
  readonly heartbeatTimeoutMs?: number;
}

export type CertifyJobResult =
  | { readonly verdict: 'accepted'; readonly certificateKey: string; readonly certificateDigest: string; readonly eventId: string; readonly blocks: number }
  | { readonly verdict: 'rejected'; readonly rejectionKey: string; readonly violations: readonly Violation[]; readonly eventId: string };

export interface JobProgress {
  readonly phase: string;
  readonly blocksTotal: number;
  readonly blocksDone: number;
  /** Work keys of blocks that failed after their retries (awaiting `replay`). */
  readonly failedShards: readonly string[];
}

export interface ReplayRequest {
  /** Work keys to rerun; absent or empty with `all` = every failed shard. */
  readonly blocks?: readonly string[];
  readonly all?: boolean;
  /** Task queue for the rerun (e.g. another prover pool). */
  readonly taskQueue?: string;
}

export const progressQuery = defineQuery<JobProgress>('progress');
export const replaySignal = defineSignal<[ReplayRequest]>('replay');

const NON_RETRYABLE = ['DriftPolicyViolation', 'BadInput', 'CorruptBlock', 'BadChild', 'WrongSrs'];
const BATCH_MAX = 512;

function activities(opts: Partial<ActivityOptions> = {}) {
  return proxyActivities<PipelineActivities>({
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '2 minutes',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
    ...opts,
  });
}

/** The ApplicationFailure under an activity or child failure, if any. */
function applicationCause(e: unknown): ApplicationFailure | null {
  let x: unknown = e;
  while (x instanceof ActivityFailure || x instanceof ChildWorkflowFailure) x = x.cause;
  return x instanceof ApplicationFailure ? x : null;
}

export async function certifyFineTuneWorkflow(input: CertifyJobInput): Promise<CertifyJobResult> {
  const { spec } = input;
  const act = activities();
  const fanIn = spec.fanIn ?? 16;
  let phase = 'commit-base';
  let blocksTotal = 0;
  let blocksDone = 0;
  let failedShards: string[] = [];
  const replays: ReplayRequest[] = [];
  setHandler(progressQuery, () => ({ phase, blocksTotal, blocksDone, failedShards: [...failedShards] }));
  setHandler(replaySignal, (r) => void replays.push(r));

  const manifest = await act.commitBase({ base: spec.base, policy: spec.policy });
  phase = 'plan';
  const plan = await act.planJob({ spec, manifestKey: manifest.manifestKey });
  const rejectWith = async (violations: readonly Violation[]): Promise<CertifyJobResult> => {
    phase = 'publish';
    const r = await act.reject({ jobKey: plan.jobKey, violations });
    const { eventId } = await act.publish({ jobKey: plan.jobKey, outcome: { verdict: 'rejected', rejectionKey: r.rejectionKey, digest: r.digest, violations }, policyDigest: plan.policyDigest, manifestDigest: plan.manifestDigest });
    phase = 'done';
    return { verdict: 'rejected', rejectionKey: r.rejectionKey, violations, eventId };
  };
  if (plan.violations.length > 0) return rejectWith(plan.violations);

  phase = 'frozen';
  const frozen = await act.checkFrozen({ jobKey: plan.jobKey });
  if (frozen.violations.length > 0) return rejectWith(frozen.violations);

  phase = 'shard';
  const blocks = await shardAll(act, plan);
  if ('violations' in blocks) return rejectWith(blocks.violations);
  // Progress counts tiles (blocks); a shard is a proving unit of one or more of them.
  const tilesOf = (refs: readonly BlockRef[]): number => refs.reduce((n, x) => n + (x.blocks ?? 1), 0);
  blocksTotal = tilesOf(blocks.refs);

  phase = 'prove';
  const { size: batchSize, levels: batchLevels } = batchShape(fanIn, BATCH_MAX);
  const levels = treeLevels(blocks.refs.length, fanIn);
  const top = levels.length - 1;
  const foldInBatch = Math.min(batchLevels, top);
  const batchCount = Math.ceil(blocks.refs.length / batchSize);
  const roots = new Array<{ nodeKey: string } | undefined>(batchCount);
  let queue = input.proveQueue ?? PROVE_CPU_QUEUE;
  let pending = Array.from({ length: batchCount }, (_, b) => b);
  const parallelBatches = Math.max(1, Math.floor((input.maxInFlight ?? 500) / batchSize));
  const failedByBatch = new Map<number, string[]>();
  for (;;) {
    const violations: Violation[] = [];
    const run = async (b: number): Promise<void> => {
      const refs = blocks.refs.slice(b * batchSize, (b + 1) * batchSize);
      const r = await executeChild(proveBatchWorkflow, {
        workflowId: `${workflowInfo().workflowId}/batch-${b}-${workflowInfo().historyLength}`,
        args: [{ job: spec.job, batch: b, workKeys: refs.map((x) => x.key), fanIn, levels: foldInBatch, proveQueue: queue, maxAttempts: input.maxAttempts ?? 3, heartbeatTimeoutMs: input.heartbeatTimeoutMs ?? 60_000 }],
      });
      if ('violation' in r) violations.push(r.violation);
      else if ('failed' in r) failedByBatch.set(b, r.failed);
      else {
        roots[b] = r;
        failedByBatch.delete(b);
        blocksDone += tilesOf(refs);
      }
    };
    for (let i = 0; i < pending.length; i += parallelBatches) await Promise.all(pending.slice(i, i + parallelBatches).map(run));
    if (violations.length > 0) return rejectWith(violations);
    failedShards = [...failedByBatch.values()].flat();
    if (failedShards.length === 0) break;
    phase = 'awaiting-replay';
    const got = await condition(() => replays.length > 0, input.replayDeadlineMs ?? 24 * 3600 * 1000);
    if (!got) throw ApplicationFailure.nonRetryable(`shards failed and no replay came before the deadline: ${failedShards.join(', ')}`, 'ShardsFailed');
    const req = replays.shift()!;
    if (req.taskQueue) queue = req.taskQueue;
    const wanted = new Set(req.all || !req.blocks || req.blocks.length === 0 ? failedShards : req.blocks);
    pending = [...failedByBatch].filter(([, keys]) => keys.some((k) => wanted.has(k))).map(([b]) => b);
    // A failed shard may be a block object lost or corrupted in the store: shard its tensor
    // again (the same bytes under the same key) before rerunning.
    const tensors = new Set(blocks.refs.filter((x) => wanted.has(x.key)).map((x) => x.tensor));
    for (const t of tensors) await act.shardTensor({ jobKey: plan.jobKey, tensor: t });
    phase = 'prove';
  }

  phase = 'aggregate';
  let nodes = roots.map((r) => r!.nodeKey);
  if (batchCount === 0) nodes = [(await act.aggregateNode({ job: spec.job, level: 1, index: 0, children: [] })).nodeKey];
  for (let level = foldInBatch + 1; level <= top && batchCount > 0; level++) {
    const count = levels[level]!;
    const next: string[] = [];
    for (let i = 0; i < count; i++) {
      const { start, end } = childRange(i, fanIn, nodes.length);
      next.push((await act.aggregateNode({ job: spec.job, level, index: i, children: nodes.slice(start, end) })).nodeKey);
    }
    nodes = next;
  }

  phase = 'finalize';
  const fin = await act.finalize({ jobKey: plan.jobKey, rootKey: nodes[0]! });
  phase = 'publish';
  const { eventId } = await act.publish({ jobKey: plan.jobKey, outcome: { verdict: 'accepted', certificateKey: fin.certificateKey, certificateDigest: fin.certificateDigest, certificateSha256: fin.certificateSha256 }, policyDigest: plan.policyDigest, manifestDigest: plan.manifestDigest });
  phase = 'done';
  return { verdict: 'accepted', certificateKey: fin.certificateKey, certificateDigest: fin.certificateDigest, eventId, blocks: blocksTotal };
}

async function shardAll(act: ReturnType<typeof activities>, plan: PlanResult): Promise<{ refs: BlockRef[] } | { violations: Violation[] }> {
  const out = new Array<readonly BlockRef[]>(plan.proven.length);
  const violations: Violation[] = [];
  const width = 4;
  for (let i = 0; i < plan.proven.length; i += width) {
    await Promise.all(
      plan.proven.slice(i, i + width).map(async (t, k) => {
        const r = await act.shardTensor({ jobKey: plan.jobKey, tensor: t.name });
        if ('violation' in r) violations.push(r.violation);
        else out[i + k] = r.blocks;
      }),
    );
  }
  return violations.length > 0 ? { violations } : { refs: out.flat() };
}

export interface ProveBatchInput {
  readonly job: string;
  readonly batch: number;
  readonly workKeys: readonly string[];
  readonly fanIn: number;
  /** Levels of the tree folded inside the batch (the batch root is at this level). */
  readonly levels: number;
  readonly proveQueue: string;
  readonly maxAttempts: number;
  readonly heartbeatTimeoutMs?: number;
}

export type ProveBatchResult = { readonly nodeKey: string; readonly digest: string } | { readonly failed: string[] } | { readonly violation: Violation };

/** Prove a batch of consecutive tiles and fold its subtree (node indices are global). */
export async function proveBatchWorkflow(input: ProveBatchInput): Promise<ProveBatchResult> {
  const prover = activities({ taskQueue: input.proveQueue, heartbeatTimeout: input.heartbeatTimeoutMs ?? 60_000, retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: input.maxAttempts, nonRetryableErrorTypes: NON_RETRYABLE } });
  const act = activities();
  const results = await Promise.allSettled(input.workKeys.map((workKey) => prover.proveBlock({ workKey })));
  const failed: string[] = [];
  const records: string[] = [];
  for (const [i, r] of results.entries()) {
    if (r.status === 'fulfilled') {
      records.push(r.value.recordKey);
      continue;
    }
    const cause = applicationCause(r.reason);
    if (cause?.type === 'DriftPolicyViolation') return { violation: cause.details?.[0] as Violation };
    failed.push(input.workKeys[i]!);
  }
  if (failed.length > 0) return { failed };
  // Global index of this batch's first node at level ℓ: batch · F^(levels − ℓ).
  let nodes = records;
  let last = { nodeKey: '', digest: '' };
  for (let level = 1; level <= input.levels; level++) {
    const first = input.batch * input.fanIn ** (input.levels - level);
    const count = Math.max(1, Math.ceil(nodes.length / input.fanIn));
    const next: string[] = [];
    for (let i = 0; i < count; i++) {
      const { start, end } = childRange(i, input.fanIn, nodes.length);
      last = await act.aggregateNode({ job: input.job, level, index: first + i, children: nodes.slice(start, end) });
      next.push(last.nodeKey);
    }
    nodes = next;
  }
  return last;
}
