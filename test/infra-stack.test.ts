// The local stack's lifecycle on real processes. A private stack (own cache dir, own port,
// reusing the installed versitygw binary) is brought up, found running, stopped by pid and
// restarted with its data intact; stale pid files and busy ports are handled; readiness
// failures name the log. Then the shared stack: all three servers answer their APIs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Connection } from '@temporalio/client';
import { servicePaths, stackConfig, temporalCliPath, VERSIONS, type StackConfig } from '../infra/local/config.ts';
import { ensureStack } from '../infra/local/ensure.ts';
import { installServices } from '../infra/local/install.ts';
import { isAlive, portOpen, readPid, startDetached, waitReady } from '../infra/local/process.ts';
import { stackS3Client } from '../infra/local/services.ts';
import { stackDown, stackStatus, stackUp } from '../infra/local/stack.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** stackConfig() under temporary environment overrides. */
function configWith(vars: Record<string, string>): StackConfig {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return stackConfig();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

describe('stack lifecycle (a private S3 server)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fti-stack-'));
  let cfg: StackConfig;

  before(async () => {
    // The shared install (built once by `npm run stack:install`) is linked in, not rebuilt.
    const shared = stackConfig();
    await installServices(shared, ['s3']);
    const port = await freePort();
    cfg = configWith({ FTI_STACK_DIR: dir, FTI_S3_PORT: String(port), FTI_S3_BUCKET: 'lifecycle' });
    mkdirSync(dirname(dirname(cfg.s3.bin)), { recursive: true });
    symlinkSync(dirname(shared.s3.bin), dirname(cfg.s3.bin));
  });

  after(async () => {
    await stackDown(['s3'], { purge: true }, cfg).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('up starts the server detached, records its pid, waits until S3 answers and creates the bucket', async () => {
    const r = await stackUp(['s3'], { install: false }, cfg);
    assert.equal(r.services[0]?.state, 'started');
    const pid = readPid(servicePaths(cfg, 's3').pid);
    assert.ok(pid !== null && isAlive(pid));
    assert.equal(r.services[0]?.pid, pid);
    assert.ok(readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(servicePaths(cfg, 's3').data, 'root')), 'the pid is our versitygw');
    const client = stackS3Client(cfg);
    try {
      await client.send(new HeadBucketCommand({ Bucket: 'lifecycle' }));
      await client.send(new PutObjectCommand({ Bucket: 'lifecycle', Key: 'kept.txt', Body: 'survives restarts' }));
    } finally {
      client.destroy();
    }
  });

  it('up again leaves the running server alone (same pid); status says running', async () => {
    const before = readPid(servicePaths(cfg, 's3').pid);
    const r = await stackUp(['s3'], { install: false }, cfg);
    assert.equal(r.services[0]?.state, 'running');
    assert.equal(readPid(servicePaths(cfg, 's3').pid), before);
    const [s] = await stackStatus(['s3'], cfg);
    assert.equal(s?.state, 'running');
    assert.equal(s?.pid, before);
  });

  it('down stops it by pid: process gone, pid file removed, port closed, status stopped', async () => {
    const pid = readPid(servicePaths(cfg, 's3').pid);
    assert.ok(pid !== null);
    const [d] = await stackDown(['s3'], {}, cfg);
    assert.equal(d?.outcome, 'stopped');
    assert.equal(isAlive(pid), false);
    assert.equal(existsSync(servicePaths(cfg, 's3').pid), false);
    assert.equal(await portOpen(cfg.host, cfg.s3.port), false);
    assert.equal((await stackStatus(['s3'], cfg))[0]?.state, 'stopped');
    assert.equal((await stackDown(['s3'], {}, cfg))[0]?.outcome, 'not-running');
  });

  it('a stale pid file naming another live process is ignored, never signalled; data survives the restart', async () => {
    // Our own pid is alive but is not versitygw: it must not be taken for the server (nor killed by down).
    writeFileSync(servicePaths(cfg, 's3').pid, `${process.pid}\n`);
    assert.equal((await stackStatus(['s3'], cfg))[0]?.state, 'stopped');
    const r = await stackUp(['s3'], { install: false }, cfg);
    assert.equal(r.services[0]?.state, 'started');
    assert.notEqual(readPid(servicePaths(cfg, 's3').pid), process.pid);
    const client = stackS3Client(cfg);
    try {
      const o = await client.send(new GetObjectCommand({ Bucket: 'lifecycle', Key: 'kept.txt' }));
      assert.equal(await o.Body?.transformToString(), 'survives restarts');
    } finally {
      client.destroy();
    }
  });

  it('down --purge deletes the data dir; a busy port is a clear error, not a second server', async () => {
    const [d] = await stackDown(['s3'], { purge: true }, cfg);
    assert.equal(d?.purged, true);
    assert.equal(existsSync(servicePaths(cfg, 's3').data), false);
    // A squatter that accepts connections and never answers: the readiness probe must time out, not hang.
    const accepted = new Set<Socket>();
    const squatter: Server = createServer((s) => accepted.add(s));
    await new Promise<void>((resolve) => squatter.listen(cfg.s3.port, cfg.host, resolve));
    try {
      await assert.rejects(stackUp(['s3'], { install: false }, cfg), new RegExp(`port ${cfg.host}:${cfg.s3.port} is in use`));
      assert.equal(existsSync(servicePaths(cfg, 's3').pid), false);
      assert.ok(accepted.size > 0, 'the probe did connect to the squatter');
    } finally {
      for (const s of accepted) s.destroy();
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });

  it('a server that dies during startup fails the wait with its log path and last lines', async () => {
    const logFile = join(dir, 'logs', 'dies.log');
    const pid = startDetached({ command: process.execPath, args: ['-e', 'console.error("fatal: cannot bind"); process.exit(3)'], cwd: dir, pidFile: join(dir, 'run', 'dies.pid'), logFile });
    await assert.rejects(waitReady('dies', () => Promise.resolve(false), { timeoutMs: 10_000, pid, logFile }), (e: Error) => {
      assert.match(e.message, /dies exited during startup/);
      assert.ok(e.message.includes(logFile));
      assert.match(e.message, /fatal: cannot bind/);
      return true;
    });
    await assert.rejects(waitReady('slow', () => Promise.resolve(false), { timeoutMs: 300, pid: null, logFile }), /slow not ready after 0 s; see .*dies\.log/);
  });

  it('bad port variables are refused with the variable named', () => {
    assert.throws(() => configWith({ FTI_KAFKA_PORT: 'abc' }), /FTI_KAFKA_PORT: expected a TCP port/);
    assert.throws(() => configWith({ FTI_S3_PORT: '70000' }), /FTI_S3_PORT/);
  });
});

describe('the shared local stack', () => {
  let cfg: StackConfig;
  before(async () => {
    cfg = await ensureStack();
  });

  it('every service is running (ours) or external, and answers', async () => {
    for (const s of await stackStatus(undefined, cfg)) assert.ok(s.state === 'running' || s.state === 'external', `${s.name}: ${s.state}`);
  });

  it('the stack command line: status --json lists the three services, exit 0; bad usage is exit 2', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'infra/local/main.ts', 'status', '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { name: string; state: string; endpoint: string }[];
    assert.deepEqual(list.map((s) => s.name), ['temporal', 'kafka', 's3']);
    assert.deepEqual(list.map((s) => s.endpoint), [cfg.temporal.address, cfg.kafka.brokers.join(','), cfg.s3.endpoint]);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'infra/local/main.ts', 'status', 'redis'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown service\(s\): redis/);
    const env = spawnSync(process.execPath, ['--import', 'tsx', 'infra/local/main.ts', 'env'], { encoding: 'utf8' });
    assert.match(env.stdout, new RegExp(`^export FTI_S3_ENDPOINT=${cfg.s3.endpoint}$`, 'm'));
  });

  it('Temporal answers on its frontend with the namespace; the CLI binary is the pinned version', async () => {
    const connection = await Connection.connect({ address: cfg.temporal.address });
    try {
      const ns = await connection.workflowService.describeNamespace({ namespace: cfg.temporal.namespace });
      assert.equal(ns.namespaceInfo?.name, cfg.temporal.namespace);
    } finally {
      await connection.close();
    }
    if (process.env.FTI_TEMPORAL_BIN === undefined) {
      const v = spawnSync(temporalCliPath(), ['--version'], { encoding: 'utf8' });
      assert.match(v.stdout, new RegExp(`temporal version ${VERSIONS.temporal.replaceAll('.', '\\.')}`));
    }
  });
});
