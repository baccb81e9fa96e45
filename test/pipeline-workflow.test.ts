// The pipeline workflows on a real Temporal dev server (the `temporal` CLI, started by
// @temporalio/testing from an existing binary): an in-policy fine-tune is certified through
// commitBase → plan → shard → proveBatch children → fold → finalize → publish, and the
// stored certificate verifies; a violating one is rejected with a published event; a
// failed shard waits for `replay` and the rerun gives the same certificate.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { keys, type PipelineEvent, type PipelineStore } from '../activities/pipeline.ts';
import { decodeCertificate } from '../smdp/certificate.ts';
import { blockCount, recordStatements } from '../smdp/aggregate.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';
import { verifyCertificate } from '../smdp/verifier.ts';
import { parseManifest, manifestExpectations } from '../model/manifest.ts';
import { encodeFloats, writeSafetensors } from '../model/safetensors.ts';
import { certifyFineTuneWorkflow, progressQuery, replaySignal, type CertifyJobResult } from '../workflows/certify.ts';
import { temporalBinary } from './temporal-binary.ts';
import { testActivities } from './pipeline-helpers.ts';
import { vals } from './cli-helpers.ts';

const bin = temporalBinary();
const skip = bin === null ? 'no temporal CLI (run `npm run stack:install`, or set FTI_TEMPORAL_BIN)' : false;

/** A directory-backed store (atomic writes), enough for the workflow tests. */
function dirStore(root: string): PipelineStore & { corrupt(key: string): Promise<void> } {
  const path = (key: string) => join(root, ...key.split('/'));
  return {
    async put(key, bytes) {
      const p = path(key);
      await mkdir(dirname(p), { recursive: true });
      const tmp = `${p}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
      await writeFile(tmp, bytes);
      await rename(tmp, p);
    },
    async get(key) {
      return new Uint8Array(await readFile(path(key)));
    },
    async exists(key) {
      return access(path(key)).then(
        () => true,
        () => false,
      );
    },
    async corrupt(key) {
      await writeFile(path(key), 'garbage');
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'fti-wf-'));
after(() => rmSync(dir, { recursive: true, force: true }));


describe('pipeline workflows on a Temporal dev server', { skip }, () => {
  let env: TestWorkflowEnvironment;
  const store = dirStore(join(dir, 'store'));
  const events: { event: PipelineEvent; key: string }[] = [];
  const srs = devSrs(8).srs;
  let failProve = 0;

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const t = (v: Float64Array, shape: number[]) => ({ dtype: 'F32' as const, shape, data: encodeFloats(v, 'F32') });
    const names = ['a.up.weight', 'b.up.weight', 'c.up.weight', 'frozen.weight'];
    // 32 × 16 = 2 tiles of 2^8 under this SRS: each norm tensor is one proving unit of 2 tiles.
    const base = names.map((_, i) => vals(32 * 16, i + 1));
    await writeSafetensors(join(dir, 'base.safetensors'), new Map(names.map((n, i) => [n, t(base[i]!, [32, 16])])));
    const ft = base.map((v, k) => (k < 3 ? v.map((x, i) => x + 1e-5 * Math.cos(i + k)) : v));
    await writeSafetensors(join(dir, 'ft.safetensors'), new Map(names.map((n, i) => [n, t(ft[i]!, [32, 16])])));
    const over = ft.map((v, k) => (k === 1 ? v.map((x) => x + 0.01) : v));
    await writeSafetensors(join(dir, 'over.safetensors'), new Map(names.map((n, i) => [n, t(over[i]!, [32, 16])])));
    await writeFile(join(dir, 'policy.json'), JSON.stringify({ version: 1, default: { class: 'frozen' }, rules: [{ match: '*.up.weight', class: 'norm', maxL2: 0.001 }] }));
    env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: bin! }, extraArgs: ['--headless'] } });
  });
  after(async () => {
    await env?.teardown();
  });

  async function withWorkers<T>(fn: () => Promise<T>): Promise<T> {
    const base = testActivities(store, srs, (event, key) => Promise.resolve(void events.push({ event, key })));
    const activities = {
      ...base,
      proveBlock: async (input: { workKey: string }) => {
        if (failProve > 0) {
          failProve--;
          throw new Error('injected prover fault');
        }
        return base.proveBlock(input);
      },
    };
    const workflowsPath = new URL('../workflows/certify.ts', import.meta.url).pathname;
    const orchestrator = await Worker.create({ connection: env.nativeConnection, taskQueue: 'fti-orchestrator', workflowsPath, activities });
    const prover = await Worker.create({ connection: env.nativeConnection, taskQueue: 'fti-prove-cpu', activities });
    return orchestrator.runUntil(prover.runUntil(fn));
  }

  const spec = (ft: string, job: string) => ({ job, base: join(dir, 'base.safetensors'), ft: join(dir, ft), policy: join(dir, 'policy.json'), fanIn: 2 });

  it('certifies an in-policy fine-tune; the stored certificate verifies and one issued event is published', async () => {
    const result: CertifyJobResult = await withWorkers(() =>
      env.client.workflow.execute(certifyFineTuneWorkflow, { taskQueue: 'fti-orchestrator', workflowId: 'wf-ok', args: [{ spec: spec('ft.safetensors', 'job-ok') }] }),
    );
    assert.equal(result.verdict, 'accepted');
    if (result.verdict !== 'accepted') return;
    const json = await store.get(result.certificateKey);
    const blob = await store.get(result.certificateKey.replace(/\.json$/, '.bin'));
    const cert = decodeCertificate(json, blob);
    const manifestKey = new TextDecoder().decode(await store.get(keys.job('job-ok'))).match(/"manifestKey":"([^"]+)"/)![1]!;
    const { manifest, digest } = parseManifest(new TextDecoder().decode(await store.get(manifestKey)), manifestKey);
    const v = verifyCertificate(srs, cert, { baseManifestDigest: digest, baseTensors: manifestExpectations(manifest) });
    assert.ok(v.valid, v.valid ? '' : v.reason);
    assert.equal(blockCount(cert.blocks), result.blocks);
    assert.equal(result.blocks, 6);
    assert.deepEqual(cert.blocks.map((r) => recordStatements(r).length), [2, 2, 2], 'each tensor is one unit of two tiles');
    const issued = events.filter((e) => e.event.id === result.certificateDigest);
    assert.equal(issued.length, 1);
    assert.equal(issued[0]!.event.type, 'dev.fti.certificate.issued.v1');
    assert.equal(issued[0]!.key, join(dir, 'ft.safetensors'));
  });

  it('rejects an out-of-policy fine-tune with a rejected event naming the tensor', async () => {
    const result = await withWorkers(() => env.client.workflow.execute(certifyFineTuneWorkflow, { taskQueue: 'fti-orchestrator', workflowId: 'wf-over', args: [{ spec: spec('over.safetensors', 'job-over') }] }));
    assert.equal(result.verdict, 'rejected');
    if (result.verdict !== 'rejected') return;
    assert.deepEqual(result.violations.map((v) => [v.tensor, v.check]), [['b.up.weight', 'norm.l2']]);
    const ev = events.find((e) => e.event.id === result.eventId)!;
    assert.equal(ev.event.type, 'dev.fti.certificate.rejected.v1');
    assert.ok(existsSync(join(dir, 'store', ...result.rejectionKey.split('/'))));
  });

  it('a shard that keeps failing waits for replay; the rerun completes with the same certificate', async () => {
    const first = await withWorkers(() => env.client.workflow.execute(certifyFineTuneWorkflow, { taskQueue: 'fti-orchestrator', workflowId: 'wf-replay-ref', args: [{ spec: spec('ft.safetensors', 'job-replay') }] }));
    assert.equal(first.verdict, 'accepted');
    // Same job again with a block object corrupted in the store and the prover failing
    // its first attempts: the shard fails, the job waits, `replay` re-shards and reruns it.
    const refs = (await readdirDeep(join(dir, 'store', 'blocks'))).slice(0, 1);
    for (const r of refs) await store.corrupt(`blocks/${r}`);
    for (const r of await readdirDeep(join(dir, 'store', 'proofs'))) rmSync(join(dir, 'store', 'proofs', r));
    failProve = 2;
    const second = await withWorkers(async () => {
      const h = await env.client.workflow.start(certifyFineTuneWorkflow, { taskQueue: 'fti-orchestrator', workflowId: 'wf-replay', args: [{ spec: spec('ft.safetensors', 'job-replay'), maxAttempts: 1 }] });
      let p = await h.query(progressQuery);
      for (let i = 0; i < 600 && p.phase !== 'awaiting-replay'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        p = await h.query(progressQuery);
      }
      assert.equal(p.phase, 'awaiting-replay');
      assert.ok(p.failedShards.length >= 1, 'failed shards are listed');
      await h.signal(replaySignal, { all: true });
      return h.result();
    });
    assert.equal(second.verdict, 'accepted');
    if (first.verdict === 'accepted' && second.verdict === 'accepted') assert.equal(second.certificateDigest, first.certificateDigest);
  });
});

async function readdirDeep(root: string, prefix = ''): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const out: string[] = [];
  for (const e of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await readdirDeep(root, rel)));
    else out.push(rel);
  }
  return out.sort();
}
