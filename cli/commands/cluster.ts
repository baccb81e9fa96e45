/**
 * The cluster commands: `fti submit` (start a certification workflow), `fti status`
 * (progress, `--watch`), `fti replay` (rerun failed shards), `fti replay-history` (replay a
 * saved workflow history against the current workflow code). They talk to Temporal at
 * $FTI_TEMPORAL_ADDRESS (default 127.0.0.1:7233), namespace $FTI_TEMPORAL_NAMESPACE (default
 * `default`); --address / --namespace override.
 */
import { readFile } from 'node:fs/promises';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { jobIdFor } from '../../activities/certify.ts';
import { certifyFineTuneWorkflow, ORCHESTRATOR_QUEUE, progressQuery, replaySignal, type CertifyJobResult, type JobProgress } from '../../workflows/certify.ts';
import { str, type Command, type ParsedArgs } from '../command.ts';
import { EXIT_INTERNAL, EXIT_OK, EXIT_REJECTED, InputError, Progress, UsageError, type CommandContext } from '../io.ts';

const CONNECTION_OPTIONS = {
  address: { type: 'string' },
  namespace: { type: 'string' },
} as const;

const CONNECTION_HELP = `--address HOST:PORT  Temporal frontend (default $FTI_TEMPORAL_ADDRESS or 127.0.0.1:7233)
--namespace NS       (default $FTI_TEMPORAL_NAMESPACE or default)`;

/** Workflow id of a job: `fti-<job>`. */
export function workflowIdOf(job: string): string {
  return job.startsWith('fti-') ? job : `fti-${job}`;
}

async function connect(args: ParsedArgs): Promise<{ client: Client; close: () => Promise<void> }> {
  const address = str(args, 'address') ?? process.env.FTI_TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const namespace = str(args, 'namespace') ?? process.env.FTI_TEMPORAL_NAMESPACE ?? 'default';
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: '5s' });
  } catch (e) {
    throw new InputError('UNREACHABLE', `cannot reach Temporal at ${address} (${(e as Error).message}); is the stack up (npm run stack:up)?`);
  }
  return { client: new Client({ connection, namespace }), close: () => connection.close() };
}

function need(args: ParsedArgs, key: string, cmd: string): string {
  const v = str(args, key);
  if (v === undefined) throw new UsageError(`${cmd}: --${key} is required (see fti ${cmd} --help)`);
  return v;
}

function bar(p: JobProgress): string {
  return `${p.phase}${p.blocksTotal > 0 ? ` ${p.blocksDone}/${p.blocksTotal} blocks` : ''}${p.failedShards.length > 0 ? `, ${p.failedShards.length} failed shard(s) awaiting replay` : ''}`;
}

async function follow(ctx: CommandContext, handle: { query: (q: typeof progressQuery) => Promise<JobProgress>; result: () => Promise<CertifyJobResult> }, watch: boolean): Promise<CertifyJobResult> {
  const done = handle.result();
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  let progress: Progress | undefined;
  let last = '';
  while (watch && !finished) {
    try {
      const p = await handle.query(progressQuery);
      if (p.blocksTotal > 0) {
        progress ??= new Progress('prove', p.blocksTotal, !ctx.json);
        progress.update(p.blocksDone, p.phase);
      }
      const line = bar(p);
      if (line !== last && (ctx.json || p.blocksTotal === 0)) ctx.say(line);
      last = line;
    } catch {
      // the workflow may not have processed its first task yet
    }
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
  }
  return done;
}

function report(ctx: CommandContext, workflowId: string, r: CertifyJobResult): number {
  if (r.verdict === 'accepted') ctx.say(`accepted: certificate ${r.certificateDigest} at ${r.certificateKey} (${r.blocks} blocks)`);
  else {
    ctx.say(`rejected: ${r.violations.length} violation(s); report at ${r.rejectionKey}`);
    for (const v of r.violations) ctx.say(`  ${v.check}: ${v.detail}`);
  }
  ctx.emit({ workflowId, ...r });
  return r.verdict === 'accepted' ? EXIT_OK : EXIT_REJECTED;
}

export const submit: Command = {
  name: 'submit',
  summary: 'start a certification on the cluster (Temporal); print its workflow id',
  help: `usage: fti submit --base URI --ft URI --policy FILE|TEMPLATE [--job ID] [--fan-in F]
                  [--queue fti-prove-cpu|fti-prove-gpu] [--wait] [--address A] [--namespace NS] [--json]

Starts one certifyFineTune workflow. URIs are paths the workers can read (or s3:// URIs).
Prints the workflow id (fti-<job>); --wait follows progress and exits like fti certify
(0 accepted, 3 rejected). Submitting the same inputs again returns the running job.
${CONNECTION_HELP}`,
  options: { base: { type: 'string' }, ft: { type: 'string' }, policy: { type: 'string' }, job: { type: 'string' }, 'fan-in': { type: 'string' }, queue: { type: 'string' }, wait: { type: 'boolean', default: false }, ...CONNECTION_OPTIONS },
  positionals: [0, 0],
  async run(args, ctx) {
    const base = need(args, 'base', 'submit');
    const ft = need(args, 'ft', 'submit');
    const policy = need(args, 'policy', 'submit');
    const fanInRaw = str(args, 'fan-in');
    const fanIn = fanInRaw === undefined ? undefined : Number(fanInRaw);
    if (fanIn !== undefined && (!Number.isInteger(fanIn) || fanIn < 2 || fanIn > 1024)) throw new UsageError(`submit: --fan-in must be an integer in 2..1024, got ${JSON.stringify(fanInRaw)}`);
    const job = str(args, 'job') ?? jobIdFor([base, ft, policy, String(fanIn ?? 16)]);
    const workflowId = workflowIdOf(job);
    const { client, close } = await connect(args);
    try {
      const input = { spec: { job, base, ft, policy, ...(fanIn !== undefined ? { fanIn } : {}) }, ...(str(args, 'queue') !== undefined ? { proveQueue: str(args, 'queue')! } : {}) };
      let handle;
      try {
        handle = await client.workflow.start(certifyFineTuneWorkflow, { taskQueue: ORCHESTRATOR_QUEUE, workflowId, args: [input] });
        ctx.say(`submitted ${workflowId}`);
      } catch (e) {
        if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
        handle = client.workflow.getHandle<typeof certifyFineTuneWorkflow>(workflowId);
        ctx.say(`${workflowId} is already running; following it`);
      }
      if (args.values.wait !== true) {
        ctx.emit({ workflowId, job });
        process.stdout.write(ctx.json ? '' : `${workflowId}\n`);
        return EXIT_OK;
      }
      return report(ctx, workflowId, await follow(ctx, handle, true));
    } finally {
      await close();
    }
  },
};

export const status: Command = {
  name: 'status',
  summary: "a job's phase, blocks done and failed shards (--watch follows it)",
  help: `usage: fti status JOB [--watch] [--address A] [--namespace NS] [--json]

JOB is the job id or workflow id (fti-<job>). --watch shows a progress bar until the job ends
and exits like fti certify (0 accepted, 3 rejected); a job that failed or was terminated
without a verdict exits 1.
${CONNECTION_HELP}`,
  options: { watch: { type: 'boolean', default: false }, ...CONNECTION_OPTIONS },
  positionals: [1, 1],
  async run(args, ctx) {
    const workflowId = workflowIdOf(args.positionals[0]!);
    const { client, close } = await connect(args);
    try {
      const handle = client.workflow.getHandle<typeof certifyFineTuneWorkflow>(workflowId);
      let desc;
      try {
        desc = await handle.describe();
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) throw new InputError('NOT_FOUND', `no job ${workflowId} in this namespace`);
        throw e;
      }
      if (args.values.watch === true) return report(ctx, workflowId, await follow(ctx, handle, true));
      if (desc.status.name !== 'RUNNING') {
        if (desc.status.name === 'COMPLETED') return report(ctx, workflowId, await handle.result());
        ctx.say(`${workflowId}: ${desc.status.name}`);
        ctx.emit({ workflowId, status: desc.status.name });
        // failed, terminated, timed out or cancelled: not a verdict — the job did not finish
        return EXIT_INTERNAL;
      }
      const p = await handle.query(progressQuery);
      ctx.say(`${workflowId}: ${bar(p)}`);
      for (const k of p.failedShards) ctx.say(`  failed shard ${k}`);
      ctx.emit({ workflowId, status: 'RUNNING', ...p });
      return EXIT_OK;
    } finally {
      await close();
    }
  },
};

export const replay: Command = {
  name: 'replay',
  summary: 'rerun the failed shards of a job (all, or the listed blocks), optionally on another queue',
  help: `usage: fti replay JOB (--failed | --blocks KEY,KEY…) [--queue QUEUE] [--address A] [--namespace NS] [--json]

Signals the job's workflow; only the failed shards rerun (finished blocks are reused).
${CONNECTION_HELP}`,
  options: { failed: { type: 'boolean', default: false }, blocks: { type: 'string' }, queue: { type: 'string' }, ...CONNECTION_OPTIONS },
  positionals: [1, 1],
  async run(args, ctx) {
    const workflowId = workflowIdOf(args.positionals[0]!);
    const blocks = str(args, 'blocks')?.split(',').filter((x) => x.length > 0);
    if ((args.values.failed === true) === (blocks !== undefined)) throw new UsageError('replay: give exactly one of --failed or --blocks');
    const { client, close } = await connect(args);
    try {
      const handle = client.workflow.getHandle(workflowId);
      const queue = str(args, 'queue');
      try {
        await handle.signal(replaySignal, { ...(blocks ? { blocks } : { all: true }), ...(queue !== undefined ? { taskQueue: queue } : {}) });
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) throw new InputError('NOT_FOUND', `no running job ${workflowId}`);
        throw e;
      }
      ctx.say(`replay requested for ${workflowId}${blocks ? ` (${blocks.length} block(s))` : ' (all failed shards)'}`);
      ctx.emit({ workflowId, replay: blocks ?? 'failed', ...(queue !== undefined ? { queue } : {}) });
      return EXIT_OK;
    } finally {
      await close();
    }
  },
};

export const replayHistory: Command = {
  name: 'replay-history',
  summary: 'replay a saved workflow history (JSON) against the current workflow code',
  help: `usage: fti replay-history FILE [--workflow-id ID] [--json]

FILE is a history exported with \`temporal workflow show --workflow-id ID --output json\`.
Exit 0 when it replays cleanly, 3 when the current code is not deterministic against it
(the error says where). The workflow id is read from the history (servers ≥ 1.21 record
it); --workflow-id gives it for older histories.`,
  options: { 'workflow-id': { type: 'string' } },
  positionals: [1, 1],
  async run(args, ctx) {
    const file = args.positionals[0]!;
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new InputError('NOT_FOUND', `${file}: cannot read (${e.code ?? e.message})`);
    });
    let history;
    try {
      history = historyFromJSON(JSON.parse(text));
    } catch (e) {
      throw new InputError('BAD_HISTORY', `${file}: not a workflow history in JSON (${(e as Error).message})`);
    }
    // A history must start the workflow; the replayer would otherwise wait for an activation forever.
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (!started) throw new InputError('BAD_HISTORY', `${file}: not a workflow history (its first event is not WorkflowExecutionStarted)`);
    // Child workflow ids derive from the job's workflow id, so replay needs the real one.
    const workflowId = str(args, 'workflow-id') ?? (started.workflowId || undefined);
    if (workflowId === undefined) throw new UsageError(`replay-history: ${file} does not record its workflow id; pass --workflow-id`);
    const { Worker } = await import('@temporalio/worker');
    const workflowsPath = new URL('../../workflows/certify.ts', import.meta.url).pathname;
    try {
      await Worker.runReplayHistory({ workflowsPath, replayName: file }, history, workflowId);
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'DeterminismViolationError' || name === 'ReplayError') {
        ctx.say(`${file}: NOT deterministic against the current workflow code: ${(e as Error).message}`);
        ctx.emit({ file, deterministic: false, error: (e as Error).message });
        return EXIT_REJECTED;
      }
      throw e;
    }
    ctx.say(`${file}: replays cleanly against the current workflow code`);
    ctx.emit({ file, deterministic: true });
    return EXIT_OK;
  },
};

