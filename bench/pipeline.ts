/**
 * `npm run bench:pipeline [-- --quick] [--json FILE]`: one certification job through the
 * local stack (Temporal + S3 + Kafka, started by ensureStack) with 1 and then 2 prover worker
 * processes (one proving thread each), on a synthetic Llama-shaped BF16 model under
 * `lora-attention` (10M parameters; --quick 1M). Each run uses a fresh store prefix, so
 * nothing is reused between them.
 *
 * Reported per run: wall time, time per phase (from the workflow's `progress` query, polled),
 * blocks, and the orchestration overhead per block = (prove-phase wall × provers − Σ proving
 * time) / blocks, where proving time is what the provers log per tile (`proveMs`: the
 * prover call alone) — prover time not spent proving: scheduling, payloads, store reads and
 * writes, batch folding. Records: pipeline.wall_s.<n>provers,
 * pipeline.speedup_2_vs_1 (x), pipeline.overhead_ms_per_block.<n>provers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { ensureStack } from '../infra/local/ensure.ts';
import { llamaBase, llamaParameters, loraMerge, writeModel, type LlamaShape } from '../model/synthetic.ts';
import { certifyFineTuneWorkflow, ORCHESTRATOR_QUEUE, progressQuery } from '../workflows/certify.ts';
import { Reporter } from './harness.ts';
import { devSrsCached } from '../cli/srs-cache.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, json: { type: 'string' } } });
const ROOT = new URL('..', import.meta.url).pathname;
const OUT = join(ROOT, 'bench', 'out', 'pipeline');
const shape: LlamaShape = values.quick ? { dim: 256, mlp: 688, vocab: 512, layers: 1 } : { dim: 256, mlp: 688, vocab: 512, layers: 12 };
const label = values.quick ? '1M' : '10M';

const cfg = await ensureStack();
const modelDir = join(OUT, label);
if (!existsSync(join(modelDir, 'ready'))) {
  const base = llamaBase(shape);
  await writeModel(join(modelDir, 'base', 'model.safetensors'), base, 'BF16', 'fti bench');
  await writeModel(join(modelDir, 'ft', 'model.safetensors'), loraMerge(base, { rank: 4, alpha: 8, targets: ['q_proj', 'v_proj'] }).ft, 'BF16', 'fti bench');
  mkdirSync(join(modelDir, 'ready'));
}
const params = llamaParameters(shape);
// The workers share the dev SRS from the cache: make it once, before they start.
await devSrsCached(14, (line) => process.stderr.write(line + '\n'));

/** Σ proveMs of the `block proven` log lines of the provers (pino JSON on stdout). */
let provingMs = 0;

function start(file: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'workers', file)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const on = (d: Buffer) => {
      log += d.toString();
      for (const m of d.toString().matchAll(/"proveMs":(\d+)/g)) provingMs += Number(m[1]);
      if (/worker started/.test(log)) resolve(p);
    };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
    p.on('exit', (code) => reject(new Error(`${file} exited (${code}):\n${log}`)));
  });
}

interface RunResult {
  readonly wall: number;
  readonly phases: Map<string, number>;
  readonly blocks: number;
  readonly overheadMs: number;
}

async function runOnce(provers: number): Promise<RunResult> {
  const runId = `${label}-${provers}p-${Date.now().toString(36)}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FTI_TEMPORAL_ADDRESS: cfg.temporal.address,
    FTI_STORE: `s3://${cfg.s3.bucket}/bench-${runId}`,
    FTI_EVENTS: `jsonl:${join(OUT, `events-${runId}.jsonl`)}`,
    FTI_SRS: 'dev:14',
    FTI_HEALTH_PORT: '0',
    FTI_PROVE_THREADS: '1',
    // one tile at a time per prover, so its logged proving time is pure proving (no pool queueing)
    FTI_MAX_CONCURRENT_ACTIVITIES: '1',
    FTI_LOG_LEVEL: 'info',
  };
  provingMs = 0;
  const procs = [await start('orchestrator.ts', env)];
  for (let i = 0; i < provers; i++) procs.push(await start('prover-cpu.ts', env));
  const connection = await Connection.connect({ address: cfg.temporal.address });
  try {
    const client = new Client({ connection });
    const t0 = performance.now();
    const handle = await client.workflow.start(certifyFineTuneWorkflow, {
      taskQueue: ORCHESTRATOR_QUEUE,
      workflowId: `fti-bench-${runId}`,
      args: [{ spec: { job: `bench-${runId}`, base: join(modelDir, 'base'), ft: join(modelDir, 'ft'), policy: 'lora-attention' } }],
    });
    const phases = new Map<string, number>();
    let phase = '';
    let since = t0;
    let done = false;
    const result = handle.result().finally(() => (done = true));
    while (!done) {
      const p = await handle.query(progressQuery).catch(() => null);
      const now = performance.now();
      if (p && p.phase !== phase) {
        if (phase) phases.set(phase, (phases.get(phase) ?? 0) + (now - since) / 1000);
        phase = p.phase;
        since = now;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = await result;
    const wall = (performance.now() - t0) / 1000;
    if (phase) phases.set(phase, (phases.get(phase) ?? 0) + (performance.now() - since) / 1000);
    if (r.verdict !== 'accepted') throw new Error(`bench job rejected: ${JSON.stringify(r.violations)}`);
    const proving = provingMs;
    const proveWall = (phases.get('prove') ?? 0) * 1000;
    return { wall, phases, blocks: r.blocks, overheadMs: Math.max(0, (proveWall * provers - proving) / r.blocks) };
  } finally {
    await connection.close();
    for (const p of procs) p.kill('SIGTERM');
  }
}

const report = new Reporter();
process.stdout.write(`# fti pipeline benchmark — ${params} parameters (${label}), lora-attention, local stack\n`);
const runs = new Map<number, RunResult>();
for (const provers of [1, 2]) runs.set(provers, await runOnce(provers));
const order = ['commit-base', 'plan', 'frozen', 'shard', 'prove', 'aggregate', 'finalize', 'publish'];
report.table(
  'Wall time per phase (s)',
  ['provers', ...order, 'wall', 'blocks', 'overhead ms/block'],
  [...runs].map(([n, r]) => [n, ...order.map((p) => r.phases.get(p) ?? 0), r.wall, r.blocks, r.overheadMs]),
);
for (const [n, r] of runs) {
  report.record(`pipeline.wall_s.${n}provers`, 's', r.wall);
  report.record(`pipeline.overhead_ms_per_block.${n}provers`, 'ms', r.overheadMs);
}
const speedup = runs.get(1)!.wall / runs.get(2)!.wall;
report.record('pipeline.speedup_2_vs_1', 'x', speedup);
process.stdout.write(`\nspeedup with 2 provers: ${speedup.toFixed(2)}×\n`);
if (values.json) writeFileSync(values.json, JSON.stringify(report.records, null, 2) + '\n');
process.exit(0);
