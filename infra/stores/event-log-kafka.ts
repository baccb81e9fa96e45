/**
 * EventPublisher on Kafka (kafkajs): an idempotent producer (producer id + sequence numbers,
 * so a retried send is not written twice by the broker), acks from all in-sync replicas, one
 * request in flight (order kept per partition), events in binary mode (event-log.ts).
 *
 * Retries are bounded (kafkajs's idempotent default is unbounded, which would pin a publish
 * activity forever on a dead broker): after them the publish rejects and the activity's own
 * retry policy takes over. A second producer's resend of the same event is possible then; the
 * consumer de-duplicates by event id, so the outcome is still one recorded certificate.
 *
 * Configuration from the environment (`kafkaPublisherFromEnv`): FTI_KAFKA_BROKERS (default the
 * local stack, 127.0.0.1:9092), FTI_KAFKA_TOPIC (fti.certificates.v1), FTI_KAFKA_CLIENT_ID (fti).
 */
import { Kafka, logLevel, type LogEntry, type Producer } from 'kafkajs';
import { stackConfig } from '../local/config.ts';
import { CERTIFICATES_TOPIC, toKafkaRecord, type CloudEvent, type EventPublisher } from './event-log.ts';

export interface KafkaPublisherOptions {
  readonly brokers: readonly string[];
  readonly topic?: string;
  readonly clientId?: string;
  /** Send retries before a publish rejects (default 8, with exponential backoff up to 30 s in all). */
  readonly retries?: number;
  /** Where kafkajs's own log lines go (warn and above); default: dropped. */
  readonly onLog?: (level: 'error' | 'warn', message: string, extra: Record<string, unknown>) => void;
}

export class KafkaEventPublisher implements EventPublisher {
  readonly label: string;
  readonly topic: string;
  private readonly producer: Producer;
  private connecting: Promise<void> | null = null;

  constructor(opts: KafkaPublisherOptions) {
    this.topic = opts.topic ?? CERTIFICATES_TOPIC;
    this.label = `kafka://${opts.brokers.join(',')}/${this.topic}`;
    const onLog = opts.onLog;
    const kafka = new Kafka({
      clientId: opts.clientId ?? 'fti',
      brokers: [...opts.brokers],
      logLevel: onLog !== undefined ? logLevel.WARN : logLevel.NOTHING,
      logCreator: () => (entry: LogEntry) => {
        if (onLog === undefined) return;
        const { message, ...extra } = entry.log;
        onLog(entry.level === logLevel.ERROR ? 'error' : 'warn', `${entry.namespace}: ${message}`, extra);
      },
    });
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: opts.retries ?? 8, initialRetryTime: 300, maxRetryTime: 30_000 },
    });
  }

  private connect(): Promise<void> {
    this.connecting ??= this.producer.connect().catch((e: unknown) => {
      this.connecting = null; // let the next publish try again
      throw e;
    });
    return this.connecting;
  }

  async publish(event: CloudEvent, key: string): Promise<void> {
    const record = toKafkaRecord(event, key);
    await this.connect();
    await this.producer.send({ topic: this.topic, acks: -1, messages: [record] });
  }

  async close(): Promise<void> {
    if (this.connecting === null) return;
    await this.connecting.catch(() => undefined);
    this.connecting = null;
    await this.producer.disconnect();
  }
}

export function kafkaPublisherFromEnv(env: NodeJS.ProcessEnv = process.env, extra: Partial<KafkaPublisherOptions> = {}): KafkaEventPublisher {
  const stack = stackConfig();
  const brokers = env.FTI_KAFKA_BROKERS !== undefined && env.FTI_KAFKA_BROKERS !== '' ? env.FTI_KAFKA_BROKERS.split(',').map((b) => b.trim()).filter((b) => b !== '') : [...stack.kafka.brokers];
  return new KafkaEventPublisher({ brokers, topic: env.FTI_KAFKA_TOPIC ?? CERTIFICATES_TOPIC, clientId: env.FTI_KAFKA_CLIENT_ID ?? 'fti', ...extra });
}
