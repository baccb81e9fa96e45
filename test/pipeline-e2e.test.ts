// The distributed pipeline end to end on the real local stack (Temporal dev server, Kafka
// KRaft, versitygw S3 — infra/local, started by ensureStack): worker processes as deployed
// (orchestrator, prover-cpu, registry-consumer), `fti submit --wait`, the registry consumer
// verifying and recording the issued event in SQLite, `fti verify` of the certificate from
// S3, a rejected job, and a prover killed mid-activity with the job still completing with
// the same certificate the embedded engine produces for the same job.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Client, Connection } from '@temporalio/client';
import { ensureStack } from '../infra/local/ensure.ts';
import { stackDown, stackUp } from '../infra/local/stack.ts';
import { KafkaEventPublisher } from '../infra/stores/event-log-kafka.ts';
import type { StackConfig } from '../infra/local/config.ts';
import { s3BlobStoreFromEnv } from '../infra/stores/blob-store-s3.ts';
import { keys } from '../activities/pipeline.ts';
import { llamaBase, loraMerge, writeModel } from '../model/synthetic.ts';
import { certifyFineTuneWorkflow, ORCHESTRATOR_QUEUE, progressQuery } from '../workflows/certify.ts';

const skip = process.env.FTI_SKIP_STACK === '1' ? 'FTI_SKIP_STACK=1' : false;
const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'fti-e2e-'));
const run = Math.random().toString(36).slice(2, 8);

describe('pipeline on the local stack (Temporal + Kafka + S3)', { skip, timeout: 15 * 60_000 }, () => {
  let cfg: StackConfig;
  let env: NodeJS.ProcessEnv;
  const procs = new Map<string, ChildProcess>();
  const logs = new Map<string, string>();
  const prefix = `e2e-${run}`;
  const dbPath = join(dir, 'registry.sqlite');

  function startWorker(name: string, file: string): Promise<void> {
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'workers', file)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    procs.set(name, p);
    logs.set(name, '');
    const append = (d: Buffer) => logs.set(name, logs.get(name)! + d.toString());
    p.stdout.on('data', append);
    p.stderr.on('data', append);
    return waitFor(() => /worker started|registry consumer running/.test(logs.get(name)!), 120_000, `${name} to start:\n${logs.get(name)}`);
  }

  async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await cond()) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  function fti(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), ...args], { env });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  function registryVerdict(eventId: string): string | undefined {
    try {
      const db = new Database(dbPath, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT verdict FROM certificates WHERE event_id = ?').get(eventId) as { verdict: string } | undefined)?.verdict;
      } finally {
        db.close();
      }
    } catch {
      return undefined;
    }
  }

  before(async () => {
    cfg = await ensureStack();
    env = {
      ...process.env,
      FTI_CACHE: join(dir, 'cache'),
      FTI_TEMPORAL_ADDRESS: cfg.temporal.address,
      FTI_STORE: `s3://${cfg.s3.bucket}/${prefix}`,
      FTI_EVENTS: 'kafka',
      FTI_SRS: 'dev:10',
      FTI_HEALTH_PORT: '0',
      FTI_PROVE_THREADS: '1',
      FTI_REGISTRY_DB: dbPath,
      FTI_CONSUMER_GROUP: `fti-e2e-${run}`,
      FTI_LOG_LEVEL: 'info',
    };
    const base = llamaBase({ dim: 32, mlp: 64, vocab: 64, layers: 1 });
    await writeModel(join(dir, 'base', 'model.safetensors'), base, 'BF16', 'e2e');
    const ft = loraMerge(base, { rank: 2, alpha: 4, targets: ['q_proj', 'v_proj'] }).ft;
    await writeModel(join(dir, 'ft', 'model.safetensors'), ft, 'BF16', 'e2e');
    const bad = loraMerge(base, { rank: 2, alpha: 4, targets: ['q_proj', 'v_proj'] }).ft;
    bad.get('model.layers.0.mlp.down_proj.weight')!.values[3]! += 0.25;
    await writeModel(join(dir, 'bad', 'model.safetensors'), bad, 'BF16', 'e2e');
    // the workers share the dev SRS from FTI_CACHE: make it once before they start
    const srs = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), 'srs', 'dev', '--vars', '10', '--out', join(dir, 'srs-10.bin')], { env, encoding: 'utf8' });
    assert.equal(srs.status, 0, srs.stderr);
    await Promise.all([startWorker('orchestrator', 'orchestrator.ts'), startWorker('prover', 'prover-cpu.ts'), startWorker('registry', 'registry-consumer.ts')]);
  });

  after(async () => {
    for (const p of procs.values()) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    for (const p of procs.values()) if (p.exitCode === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('submit → issued event → registry verifies and records; the certificate from S3 passes fti verify', async () => {
    const r = await fti('submit', '--base', join(dir, 'base'), '--ft', join(dir, 'ft'), '--policy', 'lora-attention', '--job', `e2e-ok-${run}`, '--wait', '--json', '--address', cfg.temporal.address);
    assert.equal(r.code, 0, r.stderr + logs.get('orchestrator'));
    const doc = JSON.parse(r.stdout) as { verdict: string; certificateKey: string; certificateDigest: string };
    assert.equal(doc.verdict, 'accepted');
    await waitFor(() => registryVerdict(doc.certificateDigest) !== undefined, 120_000, `the registry to record ${doc.certificateDigest}:\n${logs.get('registry')}`);
    assert.equal(registryVerdict(doc.certificateDigest), 'valid');

    const store = s3BlobStoreFromEnv(env, { bucket: cfg.s3.bucket, prefix });
    try {
      writeFileSync(join(dir, 'certificate.json'), await store.get(doc.certificateKey));
      writeFileSync(join(dir, 'certificate.bin'), await store.get(doc.certificateKey.replace(/\.json$/, '.bin')));
      const certJson = JSON.parse(new TextDecoder().decode(await store.get(doc.certificateKey))) as { baseManifestDigest: string };
      writeFileSync(join(dir, 'manifest.json'), await store.get(keys.manifest(certJson.baseManifestDigest)));
    } finally {
      await store.close();
    }
    const v = await fti('verify', join(dir, 'certificate.json'), '--base-manifest', join(dir, 'manifest.json'), '--json');
    assert.equal(v.code, 0, v.stderr);
    assert.equal((JSON.parse(v.stdout) as { valid: boolean }).valid, true);
  });

  it('a violating fine-tune: exit 3, a rejected event recorded as rejected, nothing valid', async () => {
    const r = await fti('submit', '--base', join(dir, 'base'), '--ft', join(dir, 'bad'), '--policy', 'lora-attention', '--job', `e2e-bad-${run}`, '--wait', '--json', '--address', cfg.temporal.address);
    assert.equal(r.code, 3, r.stderr);
    const doc = JSON.parse(r.stdout) as { verdict: string; eventId: string; violations: { tensor: string }[] };
    assert.equal(doc.verdict, 'rejected');
    assert.ok(doc.violations.some((v) => v.tensor === 'model.layers.0.mlp.down_proj.weight'));
    await waitFor(() => registryVerdict(doc.eventId) !== undefined, 120_000, `the registry to record ${doc.eventId}`);
    assert.equal(registryVerdict(doc.eventId), 'rejected');
  });

  it('a prover killed mid-activity: the job completes with the embedded engine’s certificate', async () => {
    const job = `e2e-kill-${run}`;
    procs.get('prover')!.kill('SIGKILL');
    const connection = await Connection.connect({ address: cfg.temporal.address });
    try {
      const client = new Client({ connection });
      const handle = await client.workflow.start(certifyFineTuneWorkflow, {
        taskQueue: ORCHESTRATOR_QUEUE,
        workflowId: `fti-${job}`,
        args: [{ spec: { job, base: join(dir, 'base'), ft: join(dir, 'ft'), policy: 'lora-attention' }, heartbeatTimeoutMs: 5_000 }],
      });
      // A fresh prover takes the first tile, and is killed while proving it.
      logs.set('prover', '');
      await startWorker('prover', 'prover-cpu.ts');
      await waitFor(() => /"msg":"block proven"/.test(logs.get('prover')!), 120_000, 'a first proven block');
      procs.get('prover')!.kill('SIGKILL');
      await startWorker('prover', 'prover-cpu.ts');
      const result = await handle.result();
      assert.equal(result.verdict, 'accepted');
      const embedded = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), 'certify', '--base', join(dir, 'base'), '--ft', join(dir, 'ft'), '--policy', 'lora-attention', '--job', job, '--out', join(dir, 'embedded'), '--json'], { env, encoding: 'utf8' });
      assert.equal(embedded.status, 0, embedded.stderr);
      if (result.verdict === 'accepted') assert.equal(result.certificateDigest, (JSON.parse(embedded.stdout) as { certificateDigest: string }).certificateDigest);
    } finally {
      await connection.close();
    }
  });

  async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const connection = await Connection.connect({ address: cfg.temporal.address });
    try {
      return await fn(new Client({ connection }));
    } finally {
      await connection.close();
    }
  }

  function registryRows(eventId: string): number {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM certificates WHERE event_id = ?').get(eventId) as { n: number }).n;
    } finally {
      db.close();
    }
  }

  it('a block object corrupted in S3: the shard fails (digest), the job waits, fti replay --failed re-shards and completes it', async () => {
    const job = `e2e-corrupt-${run}`;
    procs.get('prover')!.kill('SIGKILL');
    await withClient(async (client) => {
      const handle = await client.workflow.start(certifyFineTuneWorkflow, {
        taskQueue: ORCHESTRATOR_QUEUE,
        workflowId: `fti-${job}`,
        args: [{ spec: { job, base: join(dir, 'base'), ft: join(dir, 'ft'), policy: 'lora-attention' }, maxAttempts: 1 }],
      });
      await waitFor(async () => (await handle.query(progressQuery)).phase === 'prove', 120_000, 'the job to reach prove');
      // Corrupt one of this job's stored tiles (every tile object was written by now).
      const store = s3BlobStoreFromEnv(env, { bucket: cfg.s3.bucket, prefix });
      let corrupted = '';
      try {
        const before = new Set<string>();
        for await (const b of store.list('blocks/sha256/')) before.add(b.key);
        for (const key of [...before].sort()) {
          const bytes = await store.get(key);
          if (new TextDecoder().decode(bytes).includes(job)) {
            await store.put(key, new TextEncoder().encode('corrupted'));
            corrupted = key;
            break;
          }
        }
      } finally {
        await store.close();
      }
      assert.ok(corrupted !== '', 'found a tile of this job to corrupt');
      await startWorker('prover', 'prover-cpu.ts');
      await waitFor(async () => (await handle.query(progressQuery)).phase === 'awaiting-replay', 120_000, 'the job to wait for replay');
      const p = await handle.query(progressQuery);
      assert.ok(p.failedShards.includes(corrupted), `failed shards ${p.failedShards.join(', ')} include ${corrupted}`);
      const s = await fti('status', job, '--address', cfg.temporal.address);
      assert.match(s.stderr, /failed shard/);
      const r = await fti('replay', job, '--failed', '--address', cfg.temporal.address);
      assert.equal(r.code, 0, r.stderr);
      const result = await handle.result();
      assert.equal(result.verdict, 'accepted');
    });
  });

  it('Kafka restarted around publish: exactly one recorded certificate', async () => {
    const job = `e2e-kafka-${run}`;
    procs.get('prover')!.kill('SIGKILL');
    await withClient(async (client) => {
      const handle = await client.workflow.start(certifyFineTuneWorkflow, {
        taskQueue: ORCHESTRATOR_QUEUE,
        workflowId: `fti-${job}`,
        args: [{ spec: { job, base: join(dir, 'base'), ft: join(dir, 'ft'), policy: 'lora-attention' } }],
      });
      await waitFor(async () => (await handle.query(progressQuery)).phase === 'prove', 120_000, 'the job to reach prove');
      await stackDown(['kafka']);
      await startWorker('prover', 'prover-cpu.ts');
      await waitFor(async () => (await handle.query(progressQuery)).phase === 'publish', 300_000, 'the job to reach publish');
      await new Promise((r) => setTimeout(r, 3000)); // publish is failing and retrying now
      await stackUp(['kafka']);
      const result = await handle.result();
      assert.equal(result.verdict, 'accepted');
      if (result.verdict !== 'accepted') return;
      await waitFor(() => registryVerdict(result.certificateDigest) !== undefined, 180_000, `the registry to record ${result.certificateDigest}:\n${logs.get('registry')}`);
      assert.equal(registryVerdict(result.certificateDigest), 'valid');
      assert.equal(registryRows(result.certificateDigest), 1);
    });
  });

  it('the same event delivered twice is recorded once', async () => {
    const job = `e2e-twice-${run}`;
    const r = await fti('submit', '--base', join(dir, 'base'), '--ft', join(dir, 'ft'), '--policy', 'lora-attention', '--job', job, '--wait', '--json', '--address', cfg.temporal.address);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { certificateDigest: string; certificateKey: string };
    await waitFor(() => registryVerdict(doc.certificateDigest) !== undefined, 120_000, 'the first delivery');
    // Deliver the same CloudEvent again, as a producer retry after a lost ack would.
    const publisher = new KafkaEventPublisher({ brokers: [...cfg.kafka.brokers], topic: cfg.kafka.topic });
    try {
      const store = s3BlobStoreFromEnv(env, { bucket: cfg.s3.bucket, prefix });
      const json = await store.get(doc.certificateKey);
      await store.close();
      const { sha256 } = await import('@noble/hashes/sha2.js');
      const { bytesToHex } = await import('@noble/hashes/utils.js');
      const cert = JSON.parse(new TextDecoder().decode(json)) as { baseManifestDigest: string };
      await publisher.publish(
        {
          specversion: '1.0',
          id: doc.certificateDigest,
          source: 'fti/pipeline',
          type: 'dev.fti.certificate.issued.v1',
          subject: join(dir, 'ft'),
          time: new Date().toISOString(),
          datacontenttype: 'application/json',
          data: { job, certificate: doc.certificateKey, certificateSha256: bytesToHex(sha256(json)), baseManifestDigest: cert.baseManifestDigest },
        },
        join(dir, 'ft'),
      );
    } finally {
      await publisher.close();
    }
    await waitFor(() => /"verdict":"duplicate"/.test(logs.get('registry')!), 60_000, `the duplicate to be seen:\n${logs.get('registry')}`);
    assert.equal(registryRows(doc.certificateDigest), 1);
  });

  it('models straight from S3 (s3:// URIs, ranged reads): certified like local files', async () => {
    const store = s3BlobStoreFromEnv(env, { bucket: cfg.s3.bucket, prefix: '' });
    try {
      for (const m of ['base', 'ft']) await store.put(`${prefix}-models/${m}/model.safetensors`, new Uint8Array(readFileSync(join(dir, m, 'model.safetensors'))));
    } finally {
      await store.close();
    }
    const uri = (m: string) => `s3://${cfg.s3.bucket}/${prefix}-models/${m}`;
    const r = await fti('submit', '--base', uri('base'), '--ft', uri('ft'), '--policy', 'lora-attention', '--job', `e2e-s3-${run}`, '--wait', '--json', '--address', cfg.temporal.address);
    assert.equal(r.code, 0, r.stderr + logs.get('orchestrator'));
    assert.equal((JSON.parse(r.stdout) as { verdict: string }).verdict, 'accepted');
    // A missing object is a clear bad-input failure naming the URI.
    const bad = await fti('certify', '--base', uri('nope'), '--ft', uri('ft'), '--policy', 'lora-attention', '--out', join(dir, 's3-bad'));
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /nope/);
  });
});
