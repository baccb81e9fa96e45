/**
 * What every worker process shares: configuration from the environment (workers/config.ts),
 * pino JSON logs, the curve backend (native when built), the SRS, the blob store and event
 * publisher, the pipeline's activity dependencies, a health endpoint (/healthz, /readyz) and
 * a graceful shutdown on SIGTERM/SIGINT (running activities finish; Temporal re-delivers
 * anything cut off, and content-addressed outputs make the rerun converge).
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import { loadPolicy } from '../cli/engine.ts';
import { devSrsCached } from '../cli/srs-cache.ts';
import { openModelReader } from '../activities/safetensors-reader.ts';
import type { PipelineDeps, PipelineEvent } from '../activities/pipeline.ts';
import { inlineProver, startProverPool, type BlockProver } from '../activities/prove-pool.ts';
import { installBackend } from '../native/loader.ts';
import type { BlobStore } from '../infra/stores/blob-store.ts';
import { FsBlobStore } from '../infra/stores/blob-store-fs.ts';
import { s3BlobStoreFromEnv } from '../infra/stores/blob-store-s3.ts';
import type { EventPublisher } from '../infra/stores/event-log.ts';
import { JsonlEventPublisher } from '../infra/stores/event-log-jsonl.ts';
import { kafkaPublisherFromEnv } from '../infra/stores/event-log-kafka.ts';
import { parseSrs, type Srs } from '../smdp/srs.ts';
import { ConfigError, env, envInt, proveThreads } from './config.ts';

export function workerLogger(role: string): Logger {
  return pino({ level: env('FTI_LOG_LEVEL'), base: { role, pid: process.pid } });
}

/** FTI_STORE: `s3://bucket/prefix` or `file:PATH` (a folder). */
export function openStore(uri: string = env('FTI_STORE')): BlobStore {
  if (uri.startsWith('s3://')) {
    const rest = uri.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1);
    if (bucket === '') throw new ConfigError(`FTI_STORE=${uri}: no bucket`);
    return s3BlobStoreFromEnv(process.env, { bucket, prefix });
  }
  if (uri.startsWith('file:')) return new FsBlobStore(uri.slice('file:'.length).replace(/^\/\/(?=\/)/, ''));
  throw new ConfigError(`FTI_STORE=${uri}: expected s3://bucket/prefix or file:PATH`);
}

/** FTI_EVENTS: `kafka` (FTI_KAFKA_BROKERS, FTI_KAFKA_TOPIC) or `jsonl:PATH`. */
export function openPublisher(spec: string = env('FTI_EVENTS')): EventPublisher {
  if (spec === 'kafka') return kafkaPublisherFromEnv();
  if (spec.startsWith('jsonl:')) return new JsonlEventPublisher(spec.slice('jsonl:'.length));
  throw new ConfigError(`FTI_EVENTS=${spec}: expected kafka or jsonl:PATH`);
}

/** FTI_SRS: a file path, an s3:// URI (in FTI_STORE's bucket) or dev:N (INSECURE, cached). */
export async function loadSrs(spec: string, store: BlobStore, log: Logger): Promise<Srs> {
  const dev = /^dev:(\d+)$/.exec(spec);
  if (dev) return devSrsCached(Number(dev[1]), (line) => log.warn(line));
  if (spec.startsWith('s3://')) {
    const key = spec.replace(/^s3:\/\/[^/]+\//, '');
    return parseSrs(await store.get(key));
  }
  return parseSrs(await readFile(spec));
}

export interface WorkerRuntime {
  readonly log: Logger;
  readonly store: BlobStore;
  readonly publisher: EventPublisher;
  readonly srs: Srs;
  readonly prover: BlockProver;
  readonly deps: PipelineDeps;
  ready(): void;
  close(): Promise<void>;
}

/**
 * Build the shared pieces. With `threads`, proving runs on a pool of that many worker
 * threads (even one: the event loop stays free for heartbeats and health checks).
 */
export async function startRuntime(role: string, opts: { threads?: number } = {}): Promise<WorkerRuntime> {
  const log = workerLogger(role);
  const backend = installBackend();
  log.info({ backend: backend.name, ...(backend.reason ? { reason: backend.reason } : {}) }, 'curve backend');
  const store = openStore();
  const publisher = openPublisher();
  const srs = await loadSrs(env('FTI_SRS'), store, log);
  const ctx = { srs, msm: backend.msm };
  const threads = opts.threads ?? 0;
  const prover = threads > 0 ? await startProverPool(srs, threads) : inlineProver(ctx);
  let isReady = false;
  const health = startHealth(envInt('FTI_HEALTH_PORT', 8080), () => isReady, log);
  const deps: PipelineDeps = {
    store,
    publisher: { publish: (event: PipelineEvent, key: string) => publisher.publish(event, key) },
    log,
    srs,
    ctx,
    prover,
    openModel: openModelReader,
    loadPolicy: async (spec, base) => (await loadPolicy(spec, base)).policy,
  };
  log.info({ store: store.label, events: publisher.label, srs: srs.id, N: srs.N, threads }, 'worker runtime ready');
  return {
    log,
    store,
    publisher,
    srs,
    prover,
    deps,
    ready: () => void (isReady = true),
    async close() {
      isReady = false;
      await prover.close();
      await publisher.close();
      await store.close();
      await new Promise<void>((r) => (health ? health.close(() => r()) : r()));
    },
  };
}

/** /healthz (alive) and /readyz (ready() true) on `port`; null when the port is 0 (off). */
export function startHealth(port: number, ready: () => boolean, log: Logger): Server | null {
  if (port === 0) return null;
  const server = createServer((req, res) => {
    const ok = req.url === '/healthz' || (req.url === '/readyz' && ready());
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
  });
  server.on('error', (e) => log.error({ err: e.message, port }, 'health endpoint failed'));
  server.listen(port);
  return server;
}

/** Run `main`, logging a fatal error with its message (no stack for configuration errors) and exiting 1. */
export function runMain(role: string, main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    const log = workerLogger(role);
    if (e instanceof ConfigError) log.fatal(e.message);
    else log.fatal({ err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e) }, 'worker failed');
    process.exit(1);
  });
}

export { proveThreads };
