// Certificate events: the CloudEvents binary-mode codec, the Kafka publisher against the local
// stack's real broker (published, then consumed by a consumer group with every ce_ header,
// the key and the value checked), and the JSONL publisher (order, keys, torn last line).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { ensureStack } from '../infra/local/ensure.ts';
import { ensureTopic } from '../infra/local/services.ts';
import type { StackConfig } from '../infra/local/config.ts';
import { CERTIFICATES_TOPIC, EVENT_TYPES, EventFormatError, checkEvent, fromKafkaRecord, toKafkaRecord, type CloudEvent } from '../infra/stores/event-log.ts';
import { KafkaEventPublisher, kafkaPublisherFromEnv } from '../infra/stores/event-log-kafka.ts';
import { JsonlEventPublisher, readJsonlEvents } from '../infra/stores/event-log-jsonl.ts';

const run = randomBytes(4).toString('hex');

function event(i: number, type: string = EVENT_TYPES.issued): CloudEvent {
  return {
    specversion: '1.0',
    id: `sha256:${i.toString(16).padStart(64, '0')}`,
    source: 'urn:fti:test',
    type,
    subject: `job-${run}-${i}`,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    datacontenttype: 'application/json',
    data: { job: `job-${i}`, verdict: type === EVENT_TYPES.issued ? 'accepted' : 'rejected', certificate: { uri: `s3://fti/certificates/${i}.bin`, sha256: 'ab'.repeat(32) }, perClass: { lowRank: 3 } },
  };
}

describe('CloudEvents binary mode codec', () => {
  it('every context attribute becomes a ce_ header, datacontenttype the content-type, data the value', () => {
    const e = event(1);
    const r = toKafkaRecord(e, 'org/model-ft');
    assert.equal(r.key, 'org/model-ft');
    assert.deepEqual(r.headers, {
      ce_specversion: '1.0',
      ce_id: e.id,
      ce_source: 'urn:fti:test',
      ce_type: EVENT_TYPES.issued,
      ce_subject: e.subject,
      ce_time: e.time,
      'content-type': 'application/json',
    });
    assert.deepEqual(JSON.parse(r.value.toString('utf8')), e.data);
  });

  it('decoding the record (Buffer headers, as kafkajs delivers them) gives the event back', () => {
    const e = event(2, EVENT_TYPES.rejected);
    const r = toKafkaRecord(e, 'k');
    const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Buffer.from(v)]));
    const back = fromKafkaRecord({ key: Buffer.from(r.key), value: r.value, headers });
    assert.deepEqual(back, { event: e, key: 'k' });
  });

  it('malformed events and records are EventFormatError', () => {
    assert.throws(() => checkEvent({ ...event(3), specversion: '0.3' as '1.0' }), EventFormatError);
    assert.throws(() => checkEvent({ ...event(3), id: '' }), /id must be a non-empty string/);
    assert.throws(() => checkEvent({ ...event(3), time: 'yesterday' }), /RFC 3339/);
    assert.throws(() => checkEvent({ ...event(3), datacontenttype: 'application/octet-stream' }), /not JSON/);
    assert.throws(() => toKafkaRecord(event(3), ''), /empty partition key/);
    assert.throws(() => fromKafkaRecord({ key: null, value: Buffer.from('{}'), headers: { ce_id: 'x' } }), /missing header\(s\) ce_specversion, ce_source, ce_type/);
    const r = toKafkaRecord(event(3), 'k');
    assert.throws(() => fromKafkaRecord({ key: null, value: Buffer.from('not json'), headers: r.headers }), /value is not JSON/);
  });
});

describe('KafkaEventPublisher on the local stack', () => {
  let cfg: StackConfig;
  const topic = `fti.test.events.${run}`;
  let kafka: Kafka;

  before(async () => {
    cfg = await ensureStack(['kafka']);
    await ensureTopic(cfg, topic, 3);
    kafka = new Kafka({ clientId: 'fti-test', brokers: [...cfg.kafka.brokers], logLevel: logLevel.NOTHING });
  });

  after(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('the stack provides the certificates topic', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      assert.ok((await admin.listTopics()).includes(CERTIFICATES_TOPIC));
      const meta = await admin.fetchTopicMetadata({ topics: [CERTIFICATES_TOPIC] });
      assert.equal(meta.topics[0]?.partitions.length, cfg.kafka.partitions);
    } finally {
      await admin.disconnect();
    }
  });

  it('published events are consumed with ce_ headers, key = model id, JSON value; one model stays on one partition', async () => {
    const publisher = new KafkaEventPublisher({ brokers: cfg.kafka.brokers, topic });
    const sent: { event: CloudEvent; key: string }[] = [
      { event: event(10), key: 'org/model-a' },
      { event: event(11, EVENT_TYPES.rejected), key: 'org/model-b' },
      { event: event(12), key: 'org/model-a' },
    ];
    try {
      for (const s of sent) await publisher.publish(s.event, s.key);
    } finally {
      await publisher.close();
    }

    const consumer = kafka.consumer({ groupId: `fti-test-${run}`, sessionTimeout: 10_000 });
    const got: { message: KafkaMessage; partition: number }[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`consumed ${got.length} of ${sent.length} events within 30 s`)), 30_000);
        consumer
          .run({
            eachMessage: ({ message, partition }) => {
              got.push({ message, partition });
              if (got.length === sent.length) {
                clearTimeout(timer);
                resolve();
              }
              return Promise.resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }

    const byId = new Map(got.map((g) => [fromKafkaRecord(g.message).event.id, g]));
    assert.equal(byId.size, sent.length, 'every event exactly once');
    for (const s of sent) {
      const g = byId.get(s.event.id);
      assert.ok(g !== undefined, `event ${s.event.id} consumed`);
      const h = g.message.headers ?? {};
      assert.equal(h.ce_specversion?.toString(), '1.0');
      assert.equal(h.ce_id?.toString(), s.event.id);
      assert.equal(h.ce_source?.toString(), 'urn:fti:test');
      assert.equal(h.ce_type?.toString(), s.event.type);
      assert.equal(h.ce_subject?.toString(), s.event.subject);
      assert.equal(h.ce_time?.toString(), s.event.time);
      assert.equal(h['content-type']?.toString(), 'application/json');
      assert.equal(g.message.key?.toString(), s.key);
      assert.deepEqual(JSON.parse(g.message.value?.toString() ?? ''), s.event.data);
      assert.deepEqual(fromKafkaRecord(g.message), { event: s.event, key: s.key });
    }
    const partitionOf = (i: number) => byId.get(sent[i]!.event.id)!.partition;
    assert.equal(partitionOf(0), partitionOf(2), 'same key, same partition');
    // The batches carry a producer id and sequence numbers only when the producer is idempotent
    // (kafkajs exposes the record batch header as batchContext; -1 means a plain producer).
    const producerIds = new Set(got.map((g) => (g.message as KafkaMessage & { batchContext?: { producerId: string; firstSequence: number } }).batchContext?.producerId));
    assert.equal(producerIds.size, 1, 'one producer');
    const [pid] = [...producerIds];
    assert.ok(pid !== undefined && pid !== '-1' && Number(pid) >= 0, `idempotent producer id, got ${pid}`);
  });

  it('publishing to a topic that does not exist fails (no silent auto-creation)', async () => {
    const publisher = new KafkaEventPublisher({ brokers: cfg.kafka.brokers, topic: `fti.test.absent.${run}`, retries: 1 });
    try {
      await assert.rejects(publisher.publish(event(20), 'k'));
    } finally {
      await publisher.close();
    }
  });

  it('kafkaPublisherFromEnv reads brokers and topic from the environment', async () => {
    const p = kafkaPublisherFromEnv({ FTI_KAFKA_BROKERS: ' 10.0.0.1:9092 , 10.0.0.2:9092', FTI_KAFKA_TOPIC: 'x.y' });
    assert.equal(p.label, 'kafka://10.0.0.1:9092,10.0.0.2:9092/x.y');
    await p.close();
    const d = kafkaPublisherFromEnv({});
    assert.equal(d.topic, CERTIFICATES_TOPIC);
    await d.close();
  });
});

describe('JsonlEventPublisher', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fti-events-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('concurrent publishes land one per line, in call order, with their keys', async () => {
    const path = join(dir, 'sub', 'events.jsonl');
    const p = new JsonlEventPublisher(path);
    await Promise.all([p.publish(event(1), 'm/a'), p.publish(event(2, EVENT_TYPES.rejected), 'm/b'), p.publish(event(3), 'm/a')]);
    await p.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    assert.equal(lines.length, 4);
    assert.equal(lines[3], '');
    assert.deepEqual(await readJsonlEvents(path), [
      { event: event(1), key: 'm/a' },
      { event: event(2, EVENT_TYPES.rejected), key: 'm/b' },
      { event: event(3), key: 'm/a' },
    ]);
    assert.equal((JSON.parse(lines[0]!) as { partitionkey: string }).partitionkey, 'm/a');
  });

  it('a second publisher appends; a torn last line is ignored; a bad event writes nothing', async () => {
    const path = join(dir, 'append.jsonl');
    const a = new JsonlEventPublisher(path);
    await a.publish(event(1), 'k');
    await a.close();
    const b = new JsonlEventPublisher(path);
    await b.publish(event(2), 'k');
    await assert.rejects(b.publish({ ...event(3), id: '' }, 'k'), EventFormatError);
    await assert.rejects(b.publish(event(4), ''), /empty partition key/);
    await b.close();
    appendFileSync(path, '{"specversion":"1.0","id":"torn');
    const events = await readJsonlEvents(path);
    assert.deepEqual(events.map((e) => e.event.id), [event(1).id, event(2).id]);
  });

  it('a corrupt complete line is an error naming the line', async () => {
    const path = join(dir, 'bad.jsonl');
    appendFileSync(path, `${JSON.stringify({ ...event(1), partitionkey: 'k' })}\nnot json\n`);
    await assert.rejects(readJsonlEvents(path), /bad\.jsonl:2: not JSON/);
    assert.deepEqual(await readJsonlEvents(join(dir, 'absent.jsonl')), []);
  });
});
