/**
 * Certificate events: CloudEvents 1.0 (DESIGN.md §contracts) published on Kafka topic
 * `fti.certificates.v1` in the Kafka protocol binding's binary mode, or appended to a JSONL
 * file in the JSON event format (embedded mode). Both carry the same event.
 *
 * Binary mode (CloudEvents Kafka protocol binding 1.0, §3.2): every context attribute is a
 * header `ce_<name>` (UTF-8 string), `datacontenttype` travels as the `content-type` header,
 * the message value is the data (JSON bytes), the message key is the partition key — here the
 * fine-tuned model id, so all events of one model are ordered. `id` is the certificate (or
 * rejection report) digest, so consumers de-duplicate on it.
 */

/** Attributes this project sets; extension attributes are lower-case alphanumeric names. */
export interface CloudEvent<D = Record<string, unknown>> {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject?: string;
  readonly time?: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  readonly data: D;
}

export const CERTIFICATES_TOPIC = 'fti.certificates.v1';
export const EVENT_TYPES = {
  issued: 'dev.fti.certificate.issued.v1',
  rejected: 'dev.fti.certificate.rejected.v1',
} as const;

export interface EventPublisher {
  /** Where events go, for messages. */
  readonly label: string;
  /** Publish one event; `key` = the fine-tuned model id (partition key). Resolves once durable (acks=all / fsync). */
  publish(event: CloudEvent, key: string): Promise<void>;
  close(): Promise<void>;
}

export class EventFormatError extends Error {
  readonly code = 'BAD_EVENT';
  constructor(message: string) {
    super(message);
    this.name = 'EventFormatError';
  }
}

const REQUIRED = ['specversion', 'id', 'source', 'type'] as const;
const OPTIONAL = ['subject', 'time', 'dataschema'] as const;

/** Check an event's required attributes and formats (id/source/type non-empty, RFC 3339 time). */
export function checkEvent(event: CloudEvent): CloudEvent {
  if (event.specversion !== '1.0') throw new EventFormatError(`event: expected specversion "1.0", got ${JSON.stringify(event.specversion)}`);
  for (const a of REQUIRED) {
    const v = event[a] as unknown;
    if (typeof v !== 'string' || v === '') throw new EventFormatError(`event: attribute ${a} must be a non-empty string, got ${JSON.stringify(v)}`);
  }
  if (event.time !== undefined && Number.isNaN(Date.parse(event.time))) throw new EventFormatError(`event ${event.id}: time ${JSON.stringify(event.time)} is not an RFC 3339 timestamp`);
  if (event.datacontenttype !== undefined && !/json/i.test(event.datacontenttype)) {
    throw new EventFormatError(`event ${event.id}: datacontenttype ${JSON.stringify(event.datacontenttype)} is not JSON (the only data encoding this project uses)`);
  }
  return event;
}

export interface KafkaRecord {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
}

/** An event as a Kafka record in binary mode. */
export function toKafkaRecord(event: CloudEvent, key: string): KafkaRecord {
  checkEvent(event);
  if (key === '') throw new EventFormatError(`event ${event.id}: empty partition key`);
  const headers: Record<string, string> = {
    ce_specversion: event.specversion,
    ce_id: event.id,
    ce_source: event.source,
    ce_type: event.type,
    'content-type': event.datacontenttype ?? 'application/json',
  };
  for (const a of OPTIONAL) {
    const v = event[a];
    if (v !== undefined) headers[`ce_${a}`] = v;
  }
  return { key, value: Buffer.from(JSON.stringify(event.data)), headers };
}

type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

function headerString(headers: Readonly<Record<string, HeaderValue>>, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : typeof one === 'string' ? one : one.toString('utf8');
}

/** Decode a binary-mode Kafka record (as kafkajs hands it over) into an event and its key. */
export function fromKafkaRecord(message: { key: Buffer | string | null; value: Buffer | null; headers?: Readonly<Record<string, HeaderValue>> }): { event: CloudEvent; key: string | null } {
  const headers = message.headers ?? {};
  const attr = (name: string): string | undefined => headerString(headers, `ce_${name}`);
  const missing = REQUIRED.filter((a) => attr(a) === undefined);
  if (missing.length > 0) throw new EventFormatError(`kafka record: not a binary-mode CloudEvent (missing header(s) ${missing.map((a) => `ce_${a}`).join(', ')})`);
  const contentType = headerString(headers, 'content-type') ?? 'application/json';
  let data: Record<string, unknown>;
  try {
    data = JSON.parse((message.value ?? Buffer.alloc(0)).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new EventFormatError(`event ${attr('id')}: value is not JSON (${(e as Error).message})`);
  }
  const event: CloudEvent = {
    specversion: attr('specversion') as '1.0',
    id: attr('id') ?? '',
    source: attr('source') ?? '',
    type: attr('type') ?? '',
    datacontenttype: contentType,
    data,
    ...Object.fromEntries(OPTIONAL.flatMap((a) => {
      const v = attr(a);
      return v !== undefined ? [[a, v]] : [];
    })),
  };
  checkEvent(event);
  const key = message.key === null ? null : typeof message.key === 'string' ? message.key : message.key.toString('utf8');
  return { event, key };
}
