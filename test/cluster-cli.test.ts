// `fti submit --wait`, `fti status`, `fti replay-history` as spawned processes against a
// Temporal dev server, with the pipeline's workers running in this process; and history
// replay: a recorded history replays cleanly against the current workflow code, and a
// deliberately non-deterministic edit of the workflow fails replay.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { encodeFloats, writeSafetensors } from '../model/safetensors.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';
import { temporalBinary } from './temporal-binary.ts';
import { testActivities } from './pipeline-helpers.ts';
import { FsBlobStore } from '../infra/stores/blob-store-fs.ts';

const bin = temporalBinary();
const skip = bin === null ? 'no temporal CLI (run `npm run stack:install`, or set FTI_TEMPORAL_BIN)' : false;
const dir = mkdtempSync(join(tmpdir(), 'fti-cluster-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fti(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { env: { ...process.env, FTI_CACHE: join(dir, 'cache') } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}


describe('fti submit / status / replay-history (spawned) on a Temporal dev server', { skip }, () => {
  let env: TestWorkflowEnvironment;
  let stop: () => Promise<void>;
  const srs = devSrs(8).srs;

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const t = (seed: number) => {
      let s = seed;
      return { dtype: 'F32' as const, shape: [16, 16], data: encodeFloats(Float64Array.from({ length: 256 }, () => ((s = (s * 16807) % 2147483647), (s / 2147483647 - 0.5) * 0.05)), 'F32') };
    };
    await writeSafetensors(join(dir, 'base.safetensors'), new Map([['a.up.weight', t(1)], ['b.weight', t(2)]]));
    const ft = t(1);
    const v = new Float32Array(ft.data.buffer.slice(ft.data.byteOffset, ft.data.byteOffset + ft.data.byteLength));
    v[7] = v[7]! + 1e-4;
    await writeSafetensors(join(dir, 'ft.safetensors'), new Map([['a.up.weight', { ...ft, data: new Uint8Array(v.buffer) }], ['b.weight', t(2)]]));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ version: 1, default: { class: 'frozen' }, rules: [{ match: '*.up.weight', class: 'norm', maxL2: 0.001 }] }));
    env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: bin! }, extraArgs: ['--headless'] } });
    const activities = testActivities(new FsBlobStore(join(dir, 'store')), srs);
    const workflowsPath = new URL('../workflows/certify.ts', import.meta.url).pathname;
    const w1 = await Worker.create({ connection: env.nativeConnection, taskQueue: 'fti-orchestrator', workflowsPath, activities });
    const w2 = await Worker.create({ connection: env.nativeConnection, taskQueue: 'fti-prove-cpu', activities });
    const running = Promise.all([w1.run(), w2.run()]);
    stop = async () => {
      w1.shutdown();
      w2.shutdown();
      await running;
    };
  });
  after(async () => {
    await stop?.();
    await env?.teardown();
  });

  it('submit --wait certifies (exit 0, JSON verdict), status reports it, and its history replays', async () => {
    const r = await fti('submit', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--policy', join(dir, 'policy.json'), '--job', 'cli-1', '--wait', '--address', env.address, '--json');
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { verdict: string; workflowId: string; certificateKey: string };
    assert.equal(doc.verdict, 'accepted');
    assert.equal(doc.workflowId, 'fti-cli-1');
    const s = await fti('status', 'cli-1', '--address', env.address, '--json');
    assert.equal(s.code, 0, s.stderr);
    assert.equal((JSON.parse(s.stdout) as { certificateKey: string }).certificateKey, doc.certificateKey);

    // Exported as an SRE would: temporal workflow show --output json.
    const shown = spawnSync(bin!, ['workflow', 'show', '--workflow-id', 'fti-cli-1', '--output', 'json', '--address', env.address], { encoding: 'utf8' });
    assert.equal(shown.status, 0, shown.stderr);
    const file = join(dir, 'history.json');
    writeFileSync(file, shown.stdout);
    const history = historyFromJSON(JSON.parse(shown.stdout));
    const h = await fti('replay-history', file, '--json');
    assert.equal(h.code, 0, h.stderr);
    assert.equal((JSON.parse(h.stdout) as { deterministic: boolean }).deterministic, true);

    // The same history against a deliberately non-deterministic edit of the workflow fails.
    const results = [];
    for await (const res of Worker.runReplayHistories({ workflowsPath: new URL('./fixtures/workflows-nondeterministic.ts', import.meta.url).pathname }, [{ workflowId: 'fti-cli-1', history }])) results.push(res);
    assert.equal(results.length, 1);
    assert.ok(results[0]!.error, 'replay against the edited workflow must fail');
    assert.match(String(results[0]!.error?.name), /DeterminismViolationError/);
  });

  it('status of an unknown job is exit 2 with a clear message; an unreachable server is exit 2', async () => {
    const s = await fti('status', 'nope', '--address', env.address);
    assert.equal(s.code, 2, s.stderr);
    assert.match(s.stderr, /no job fti-nope/);
    const u = await fti('status', 'x', '--address', '127.0.0.1:1');
    assert.equal(u.code, 2, u.stderr);
    assert.match(u.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
  });

  it('replay needs exactly one of --failed / --blocks; replay-history of a non-history is exit 2', async () => {
    const r = await fti('replay', 'cli-1', '--address', env.address);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /exactly one of --failed or --blocks/);
    writeFileSync(join(dir, 'bad.json'), '{"events": "no"}');
    const h = await fti('replay-history', join(dir, 'bad.json'));
    assert.equal(h.code, 2, h.stderr);
  });
});
