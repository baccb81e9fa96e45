/**
 * The registry consumer: a Kafka consumer group on the certificate topic. Each event is
 * handled by `handleEvent` (fetch the certificate, check its SHA-256, verify it against its
 * base manifest, record the verdict in SQLite, de-duplicated by event id); the offset is
 * committed only after that durable write, so a crash re-delivers, and a re-delivery is
 * recorded once. Malformed records are logged and skipped (committed): they can never
 * become valid. Settings: workers/config.ts (FTI_REGISTRY_DB, FTI_CONSUMER_GROUP, Kafka, store).
 */
import { Kafka, logLevel } from 'kafkajs';
import { EventFormatError, fromKafkaRecord } from '../infra/stores/event-log.ts';
import { stackConfig } from '../infra/local/config.ts';
import { installBackend } from '../native/loader.ts';
import { env, envInt } from './config.ts';
import { handleEvent, parseEvent, Registry } from './registry.ts';
import { loadSrs, openStore, runMain, startHealth, workerLogger } from './runtime.ts';

runMain('registry-consumer', async () => {
  const log = workerLogger('registry-consumer');
  installBackend();
  const store = openStore();
  const srs = await loadSrs(env('FTI_SRS'), store, log);
  const registry = new Registry(env('FTI_REGISTRY_DB'));
  const brokers = env('FTI_KAFKA_BROKERS', stackConfig().kafka.brokers.join(',')).split(',');
  const topic = env('FTI_KAFKA_TOPIC');
  const kafka = new Kafka({ clientId: 'fti-registry', brokers, logLevel: logLevel.WARN });
  const consumer = kafka.consumer({ groupId: env('FTI_CONSUMER_GROUP') });
  let ready = false;
  const port = envInt('FTI_HEALTH_PORT', 8080);
  const health = startHealth(port, () => ready, log);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    ready = false;
    await consumer.disconnect();
    registry.close();
    await store.close();
    health?.close();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic: t, partition, message }) => {
      const next = (BigInt(message.offset) + 1n).toString();
      let event;
      try {
        event = parseEvent(fromKafkaRecord(message).event);
      } catch (e) {
        if (!(e instanceof EventFormatError)) throw e;
        log.warn({ partition, offset: message.offset, err: e.message }, 'skipping a malformed record');
      }
      if (event) {
        const verdict = await handleEvent(event, { store, srs, registry });
        log.info({ eventId: event.id, job: event.data.job, verdict, partition, offset: message.offset }, 'certificate event recorded');
      }
      // after the durable write (or for a record that can never be valid)
      await consumer.commitOffsets([{ topic: t, partition, offset: next }]);
    },
  });
  ready = true;
  log.info({ brokers, topic, db: env('FTI_REGISTRY_DB') }, 'registry consumer running');
});
