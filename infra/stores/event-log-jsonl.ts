/**
 * EventPublisher on a JSONL file (embedded mode): one CloudEvent per line in the JSON event
 * format (structured mode), with the partition key as the `partitionkey` extension attribute
 * (CloudEvents partitioning extension) so a line carries everything a Kafka record does.
 * Each line is one `write` on an O_APPEND descriptor followed by fsync, publishes from one
 * process are serialised, and a reader skips nothing but a torn last line (a crash mid-write).
 */
import { open, readFile, mkdir, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { checkEvent, EventFormatError, type CloudEvent, type EventPublisher } from './event-log.ts';

export class JsonlEventPublisher implements EventPublisher {
  readonly path: string;
  readonly label: string;
  private file: Promise<FileHandle> | null = null;
  private tail: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = resolve(path);
    this.label = `jsonl:${this.path}`;
  }

  private handle(): Promise<FileHandle> {
    this.file ??= mkdir(dirname(this.path), { recursive: true }).then(() => open(this.path, 'a'));
    return this.file;
  }

  publish(event: CloudEvent, key: string): Promise<void> {
    let line: string;
    try {
      checkEvent(event);
      if (key === '') throw new EventFormatError(`event ${event.id}: empty partition key`);
      line = `${JSON.stringify({ ...event, datacontenttype: event.datacontenttype ?? 'application/json', partitionkey: key })}\n`;
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const write = this.tail.then(async () => {
      const fh = await this.handle();
      await fh.write(line);
      await fh.sync();
    });
    this.tail = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    await this.tail;
    if (this.file === null) return;
    const fh = await this.file;
    this.file = null;
    await fh.close();
  }
}

/** The events of a JSONL log with their keys, in order (a torn final line is ignored). */
export async function readJsonlEvents(path: string): Promise<{ event: CloudEvent; key: string }[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  // Every complete line ends in '\n'; the piece after the last one is '' or a torn write.
  const complete = text.split('\n').slice(0, -1);
  return complete.map((line, i) => {
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new EventFormatError(`${path}:${i + 1}: not JSON (${(e as Error).message})`);
    }
    const { partitionkey, ...event } = obj as CloudEvent & { partitionkey?: unknown };
    if (typeof partitionkey !== 'string' || partitionkey === '') throw new EventFormatError(`${path}:${i + 1}: missing partitionkey`);
    return { event: checkEvent(event), key: partitionkey };
  });
}
