// infra/docker-compose.yml (the Docker path of the local stack, started through testcontainers
// where a Docker engine works) must agree with the native stack (infra/local/config.ts): the
// same server versions, the same ports and credentials by the same variables with the same
// defaults, published on 127.0.0.1 only. No Docker engine is needed: the file is checked
// structurally, so a version bump on one side without the other fails here.
/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML is untyped */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { SERVICE_NAMES, VERSIONS, stackConfig } from '../infra/local/config.ts';

const compose: any = parse(readFileSync(new URL('../infra/docker-compose.yml', import.meta.url), 'utf8'));

/** The config the native stack uses with none of its variables set. */
function defaults(): ReturnType<typeof stackConfig> {
  const saved = { ...process.env };
  try {
    for (const k of Object.keys(process.env)) if (k.startsWith('FTI_')) delete process.env[k];
    return stackConfig();
  } finally {
    process.env = saved;
  }
}

/** `${NAME:-default}` substitutions in a string. */
function substitutions(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of s.matchAll(/\$\{(FTI_[A-Z0-9_]+):-([^}]*)\}/g)) out.set(m[1]!, m[2]!);
  return out;
}

describe('infra/docker-compose.yml agrees with the native stack', () => {
  const cfg = defaults();

  it('has exactly the native stack services, with the pinned versions', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), [...SERVICE_NAMES].sort());
    assert.equal(compose.services.temporal.image, `temporalio/temporal:${VERSIONS.temporal}`);
    assert.equal(compose.services.kafka.image, `apache/kafka:${VERSIONS.kafka}`);
    assert.equal(compose.services.s3.image, `versity/versitygw:${VERSIONS.versitygw}`);
  });

  it('publishes each service on 127.0.0.1 at the port variable and default the native stack uses', () => {
    const expected: Record<string, [string, number, number]> = {
      temporal: ['FTI_TEMPORAL_PORT', cfg.temporal.port, 7233],
      kafka: ['FTI_KAFKA_PORT', cfg.kafka.port, 9092],
      s3: ['FTI_S3_PORT', cfg.s3.port, 7070],
    };
    for (const [name, [variable, port, inner]] of Object.entries(expected)) {
      const ports: string[] = compose.services[name].ports;
      assert.equal(ports.length, 1, `${name}: one published port`);
      const mapping = ports[0]!;
      assert.ok(mapping.startsWith('127.0.0.1:'), `${name}: published on 127.0.0.1 only (${mapping})`);
      assert.equal(substitutions(mapping).get(variable), String(port), `${name}: ${variable} default`);
      assert.ok(mapping.endsWith(`:${inner}`), `${name}: container port ${inner}`);
    }
  });

  it('uses the native stack defaults for credentials, region, namespace and the Kafka listener', () => {
    const s3 = compose.services.s3;
    const s3Vars = substitutions(JSON.stringify(s3));
    assert.equal(s3Vars.get('FTI_S3_ACCESS_KEY_ID'), cfg.s3.accessKeyId);
    assert.equal(s3Vars.get('FTI_S3_SECRET_ACCESS_KEY'), cfg.s3.secretAccessKey);
    assert.equal(s3Vars.get('FTI_S3_REGION'), cfg.s3.region);
    assert.equal(substitutions(JSON.stringify(compose.services.temporal.command)).get('FTI_TEMPORAL_NAMESPACE'), cfg.temporal.namespace);
    const kafka = compose.services.kafka.environment;
    assert.equal(kafka.KAFKA_ADVERTISED_LISTENERS, `PLAINTEXT://127.0.0.1:\${FTI_KAFKA_PORT:-${cfg.kafka.port}}`);
    assert.equal(kafka.KAFKA_AUTO_CREATE_TOPICS_ENABLE, 'false', 'topics are created by stack:up with their partition count');
    assert.equal(kafka.KAFKA_HEAP_OPTS, cfg.kafka.heap);
  });
});
