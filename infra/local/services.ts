/**
 * The three servers of the local stack — how each starts natively, how we know it is ready
 * (its own API answers, not just an open port), and what `up` provisions once it is (the
 * Temporal namespace exists by default; the Kafka topic and the S3 bucket are created).
 * The readiness and provisioning checks are also used against servers started elsewhere
 * (docker compose, testcontainers, a shared dev cluster).
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { Connection } from '@temporalio/client';
import { Kafka, logLevel } from 'kafkajs';
import { servicePaths, type ServiceName, type StackConfig } from './config.ts';
import type { StartSpec } from './process.ts';

export interface ServiceDef {
  readonly name: ServiceName;
  /** Where clients reach it, for messages and `status`. */
  endpoint(cfg: StackConfig): string;
  /** The TCP ports the native server binds. */
  ports(cfg: StackConfig): number[];
  /** A string in the native server's command line that identifies it (pid-reuse guard). */
  marker(cfg: StackConfig): string;
  /** Prepare the data dir (idempotent) and say how to start the native server. */
  prepare(cfg: StackConfig): StartSpec;
  /** Whether the server answers its API (endpoint from cfg). */
  ready(cfg: StackConfig): Promise<boolean>;
  /** Create what clients expect to exist (bucket, topic); idempotent. */
  provision(cfg: StackConfig): Promise<void>;
  /** Seconds to wait for readiness. */
  readonly startupSeconds: number;
}

// ---------------------------------------------------------------- Temporal

const temporal: ServiceDef = {
  name: 'temporal',
  endpoint: (cfg) => cfg.temporal.address,
  ports: (cfg) => [cfg.temporal.port, cfg.temporal.httpPort, cfg.temporal.metricsPort, ...(cfg.temporal.uiPort !== null ? [cfg.temporal.uiPort] : [])],
  marker: (cfg) => join(servicePaths(cfg, 'temporal').data, 'temporal.db'),
  prepare(cfg) {
    const p = servicePaths(cfg, 'temporal');
    mkdirSync(p.data, { recursive: true });
    const t = cfg.temporal;
    return {
      command: t.bin,
      args: [
        'server', 'start-dev',
        '--ip', cfg.host,
        '--port', String(t.port),
        '--http-port', String(t.httpPort),
        '--metrics-port', String(t.metricsPort),
        ...(t.uiPort !== null ? ['--ui-port', String(t.uiPort)] : ['--headless']),
        '--db-filename', join(p.data, 'temporal.db'),
        '--namespace', t.namespace,
        '--log-format', 'json',
      ],
      cwd: p.data,
      pidFile: p.pid,
      logFile: p.log,
    };
  },
  async ready(cfg) {
    const connection = await Connection.connect({ address: cfg.temporal.address, connectTimeout: '2s' });
    try {
      await connection.withDeadline(Date.now() + 5000, () => connection.workflowService.describeNamespace({ namespace: cfg.temporal.namespace }));
      return true;
    } finally {
      await connection.close();
    }
  },
  async provision() {
    // start-dev creates the namespace (--namespace) itself.
  },
  startupSeconds: 60,
};

// ---------------------------------------------------------------- Kafka (KRaft, one node)

function kafkaClient(cfg: StackConfig): Kafka {
  return new Kafka({ clientId: 'fti-stack', brokers: [...cfg.kafka.brokers], logLevel: logLevel.NOTHING, connectionTimeout: 2000, requestTimeout: 5000, retry: { retries: 0 } });
}

/** A KRaft cluster id: 16 random bytes, base64url without padding (what `random-uuid` prints). */
function kafkaClusterId(): string {
  return randomBytes(16).toString('base64url');
}

const kafka: ServiceDef = {
  name: 'kafka',
  endpoint: (cfg) => cfg.kafka.brokers.join(','),
  ports: (cfg) => [cfg.kafka.port, cfg.kafka.controllerPort],
  marker: (cfg) => join(servicePaths(cfg, 'kafka').data, 'server.properties'),
  prepare(cfg) {
    const p = servicePaths(cfg, 'kafka');
    const logDirs = join(p.data, 'log-dirs');
    mkdirSync(logDirs, { recursive: true });
    const k = cfg.kafka;
    const props = join(p.data, 'server.properties');
    writeFileSync(props, [
      '# Written by infra/local (regenerated on every start): one KRaft node, broker + controller.',
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@${cfg.host}:${k.controllerPort}`,
      `listeners=PLAINTEXT://${cfg.host}:${k.port},CONTROLLER://${cfg.host}:${k.controllerPort}`,
      `advertised.listeners=PLAINTEXT://${cfg.host}:${k.port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${logDirs}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'min.insync.replicas=1',
      // Topics are created explicitly (up provisions fti.certificates.v1), never by a typo.
      'auto.create.topics.enable=false',
      'group.initial.rebalance.delay.ms=0',
      'log.retention.hours=168',
      '',
    ].join('\n'));
    const log4j = join(p.data, 'log4j.properties');
    writeFileSync(log4j, [
      'log4j.rootLogger=INFO, stdout',
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.kafka=INFO',
      'log4j.logger.org.apache.kafka=INFO',
      'log4j.logger.kafka.request.logger=WARN',
      'log4j.logger.state.change.logger=WARN',
      '',
    ].join('\n'));
    const classpath = join(k.libs, '*');
    const java = process.env.FTI_JAVA ?? 'java';
    // Format the log dir once (KRaft needs meta.properties with a cluster id before the first start).
    if (!existsSync(join(logDirs, 'meta.properties'))) {
      const r = spawnSync(java, ['-cp', classpath, `-Dlog4j.configuration=file:${log4j}`, 'kafka.tools.StorageTool', 'format', '-t', kafkaClusterId(), '-c', props, '--ignore-formatted'], { encoding: 'utf8' });
      if (r.error !== undefined) throw new Error(`kafka: cannot run ${java} (${r.error.message}); a JDK 11+ is needed on PATH (or set FTI_JAVA)`);
      if (r.status !== 0) throw new Error(`kafka: StorageTool format failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    }
    return {
      command: java,
      args: [
        ...k.heap.split(/\s+/).filter((a) => a !== ''),
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=file:${log4j}`,
        `-Dkafka.logs.dir=${join(p.data, 'app-logs')}`,
        '-cp', classpath,
        'kafka.Kafka', props,
      ],
      cwd: p.data,
      pidFile: p.pid,
      logFile: p.log,
    };
  },
  async ready(cfg) {
    const admin = kafkaClient(cfg).admin();
    await admin.connect();
    try {
      const c = await admin.describeCluster();
      return c.brokers.length > 0 && c.controller !== null;
    } finally {
      await admin.disconnect();
    }
  },
  async provision(cfg) {
    await ensureTopic(cfg, cfg.kafka.topic, cfg.kafka.partitions);
  },
  startupSeconds: 90,
};

/** Create a topic if it does not exist (replication factor 1: the local stack has one broker). */
export async function ensureTopic(cfg: StackConfig, topic: string, partitions: number): Promise<void> {
  const admin = new Kafka({ clientId: 'fti-stack', brokers: [...cfg.kafka.brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
    }
  } finally {
    await admin.disconnect();
  }
}

// ---------------------------------------------------------------- S3 (versitygw, POSIX backend)

/** An S3 client for the stack's gateway: path-style, dev credentials from the config. */
export function stackS3Client(cfg: StackConfig): S3Client {
  return new S3Client({
    endpoint: cfg.s3.endpoint,
    region: cfg.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: cfg.s3.accessKeyId, secretAccessKey: cfg.s3.secretAccessKey },
    maxAttempts: 1,
    // Probes must end: something that accepts connections but never answers is "not ready", not a hang.
    requestHandler: { connectionTimeout: 2000, requestTimeout: 5000, throwOnRequestTimeout: true },
  });
}

const s3: ServiceDef = {
  name: 's3',
  endpoint: (cfg) => cfg.s3.endpoint,
  ports: (cfg) => [cfg.s3.port],
  marker: (cfg) => join(servicePaths(cfg, 's3').data, 'root'),
  prepare(cfg) {
    const p = servicePaths(cfg, 's3');
    const root = join(p.data, 'root');
    // Object metadata in a sidecar folder, not xattrs: works on filesystems without user xattrs (overlayfs, tmpfs).
    const sidecar = join(p.data, 'meta');
    mkdirSync(root, { recursive: true });
    mkdirSync(sidecar, { recursive: true });
    return {
      command: cfg.s3.bin,
      args: ['--port', `${cfg.host}:${cfg.s3.port}`, '--region', cfg.s3.region, '--quiet', '--health', '/health', 'posix', '--sidecar', sidecar, root],
      cwd: p.data,
      // Credentials through the environment, so they are not in the process list.
      env: { ...process.env, ROOT_ACCESS_KEY_ID: cfg.s3.accessKeyId, ROOT_SECRET_ACCESS_KEY: cfg.s3.secretAccessKey },
      pidFile: p.pid,
      logFile: p.log,
    };
  },
  async ready(cfg) {
    const client = stackS3Client(cfg);
    try {
      await client.send(new ListBucketsCommand({}));
      return true;
    } finally {
      client.destroy();
    }
  },
  async provision(cfg) {
    await ensureBucket(cfg, cfg.s3.bucket);
  },
  startupSeconds: 30,
};

/** Create a bucket if it does not exist. */
export async function ensureBucket(cfg: StackConfig, bucket: string): Promise<void> {
  const client = stackS3Client(cfg);
  try {
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
      return;
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== 404) throw e;
    }
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (e) {
      const name = (e as Error).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw e;
    }
  } finally {
    client.destroy();
  }
}

export const SERVICES: Readonly<Record<ServiceName, ServiceDef>> = { temporal, kafka, s3 };
