/**
 * Worker configuration: environment variables and their documented defaults (README
 * "Deployment"; k8s/base/config.yaml sets them in the cluster). Every worker reads its
 * settings here, so the list below is the whole contract (test/k8s.test.ts checks the
 * manifests use only these names).
 */
import { availableParallelism } from 'node:os';

export interface EnvVar {
  readonly name: string;
  readonly default: string;
  readonly doc: string;
}

export const ENV_VARS: readonly EnvVar[] = [
  { name: 'FTI_TEMPORAL_ADDRESS', default: '127.0.0.1:7233', doc: 'Temporal frontend host:port' },
  { name: 'FTI_TEMPORAL_NAMESPACE', default: 'default', doc: 'Temporal namespace' },
  { name: 'FTI_TASK_QUEUE', default: '(per worker)', doc: 'task queue: fti-orchestrator, fti-prove-cpu or fti-prove-gpu' },
  { name: 'FTI_STORE', default: 'file:./.fti-store', doc: 'blob store: s3://bucket/prefix or file:PATH' },
  { name: 'FTI_S3_ENDPOINT', default: 'http://127.0.0.1:7070', doc: 'S3-compatible endpoint URL (the local stack by default)' },
  { name: 'FTI_S3_REGION', default: 'us-east-1', doc: 'S3 region' },
  { name: 'FTI_S3_FORCE_PATH_STYLE', default: 'true', doc: 'path-style addressing (false = virtual-hosted)' },
  { name: 'AWS_ACCESS_KEY_ID', default: '', doc: 'S3 credentials (from a Secret)' },
  { name: 'AWS_SECRET_ACCESS_KEY', default: '', doc: 'S3 credentials (from a Secret)' },
  { name: 'FTI_KAFKA_BROKERS', default: '127.0.0.1:9092', doc: 'comma-separated Kafka bootstrap brokers' },
  { name: 'FTI_KAFKA_TOPIC', default: 'fti.certificates.v1', doc: 'topic of certificate events' },
  { name: 'FTI_EVENTS', default: 'kafka', doc: 'event sink: kafka, or jsonl:PATH (a CloudEvents JSONL log)' },
  { name: 'FTI_SRS', default: 'dev:16', doc: 'SRS: a file path, s3:// URI, or dev:N (INSECURE dev SRS, cached)' },
  { name: 'FTI_BACKEND', default: 'auto', doc: 'curve backend: auto, native or js' },
  { name: 'FTI_PROVE_THREADS', default: '(cores)', doc: 'proving threads per prover worker' },
  { name: 'FTI_MAX_CONCURRENT_ACTIVITIES', default: '(2 × threads)', doc: 'activities a worker runs at once' },
  { name: 'FTI_HEALTH_PORT', default: '8080', doc: 'HTTP port of /healthz and /readyz (0 = off)' },
  { name: 'FTI_LOG_LEVEL', default: 'info', doc: 'pino log level' },
  { name: 'FTI_REGISTRY_DB', default: './registry.sqlite', doc: 'registry consumer: SQLite database file' },
  { name: 'FTI_CONSUMER_GROUP', default: 'fti-registry', doc: 'registry consumer: Kafka consumer group' },
];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function env(name: string, fallback?: string): string {
  if (!ENV_VARS.some((v) => v.name === name)) throw new Error(`env: ${name} is not a documented setting (workers/config.ts)`);
  const v = process.env[name];
  if (v !== undefined && v !== '') return v;
  if (fallback !== undefined) return fallback;
  const d = ENV_VARS.find((x) => x.name === name)!.default;
  return d;
}

export function envInt(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected an integer ≥ ${min}`);
  return n;
}

export function proveThreads(): number {
  return envInt('FTI_PROVE_THREADS', availableParallelism(), 1);
}
