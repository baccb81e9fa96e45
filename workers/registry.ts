/**
 * The model registry's side: a durable record of every certificate event (SQLite via
 * better-sqlite3, WAL, synchronous=FULL), and the handling of one event — fetch the
 * certificate from the blob store, check its SHA-256 against the event, verify it against
 * the base manifest it names (never trusting the pipeline), record the verdict. Events are
 * de-duplicated by CloudEvent id (the certificate or rejection digest), so a redelivered
 * event is recorded once. The Kafka loop (registry-consumer.ts) commits an offset only after
 * `handleEvent` has returned, i.e. after the durable write.
 */
import Database from 'better-sqlite3';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { PipelineEvent, PipelineStore } from '../activities/pipeline.ts';
import { keys } from '../activities/pipeline.ts';
import { decodeCertificate } from '../smdp/certificate.ts';
import type { Srs } from '../smdp/srs.ts';
import { verifyCertificate } from '../smdp/verifier.ts';
import { manifestExpectations, parseManifest } from '../model/manifest.ts';
import { isBlobNotFound } from '../infra/stores/blob-store.ts';

export type RegistryVerdict = 'valid' | 'invalid' | 'rejected';

export interface RegistryEntry {
  readonly eventId: string;
  readonly type: string;
  readonly job: string;
  readonly subject: string;
  readonly verdict: RegistryVerdict;
  readonly certificate: string | null;
  readonly reason: string | null;
  readonly recordedAt: string;
}

export class Registry {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly byId: Database.Statement;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS certificates (
      event_id TEXT PRIMARY KEY,
      type TEXT NOT NULL,
      job TEXT NOT NULL,
      subject TEXT NOT NULL,
      verdict TEXT NOT NULL CHECK (verdict IN ('valid', 'invalid', 'rejected')),
      certificate TEXT,
      reason TEXT,
      recorded_at TEXT NOT NULL
    )`);
    this.insert = this.db.prepare(
      'INSERT OR IGNORE INTO certificates (event_id, type, job, subject, verdict, certificate, reason, recorded_at) VALUES (@eventId, @type, @job, @subject, @verdict, @certificate, @reason, @recordedAt)',
    );
    this.byId = this.db.prepare('SELECT event_id AS eventId, type, job, subject, verdict, certificate, reason, recorded_at AS recordedAt FROM certificates WHERE event_id = ?');
  }

  has(eventId: string): boolean {
    return this.byId.get(eventId) !== undefined;
  }

  get(eventId: string): RegistryEntry | undefined {
    return this.byId.get(eventId) as RegistryEntry | undefined;
  }

  /** Durable once this returns; false when the event id was already recorded. */
  record(e: RegistryEntry): boolean {
    return this.insert.run(e).changes === 1;
  }

  all(): RegistryEntry[] {
    return this.db.prepare('SELECT event_id AS eventId, type, job, subject, verdict, certificate, reason, recorded_at AS recordedAt FROM certificates ORDER BY recorded_at, event_id').all() as RegistryEntry[];
  }

  close(): void {
    this.db.close();
  }
}

export interface HandleDeps {
  readonly store: PipelineStore;
  readonly srs: Srs;
  readonly registry: Registry;
  now?(): Date;
}

/** A CloudEvent from its JSON (structured) form or Kafka binary-mode parts; null when it is not ours. */
export function parseEvent(value: unknown): PipelineEvent | null {
  if (typeof value !== 'object' || value === null) return null;
  const e = value as Partial<PipelineEvent>;
  if (e.specversion !== '1.0' || typeof e.id !== 'string' || typeof e.subject !== 'string') return null;
  if (e.type !== 'dev.fti.certificate.issued.v1' && e.type !== 'dev.fti.certificate.rejected.v1') return null;
  if (typeof e.data !== 'object' || e.data === null) return null;
  return e as PipelineEvent;
}

const text = (x: unknown): string => (typeof x === 'string' ? x : '');

/** Handle one event: 'duplicate' when already recorded, else the verdict recorded. */
export async function handleEvent(event: PipelineEvent, deps: HandleDeps): Promise<RegistryVerdict | 'duplicate'> {
  const { registry } = deps;
  if (registry.has(event.id)) return 'duplicate';
  const data = event.data;
  const job = text(data.job);
  const base = { eventId: event.id, type: event.type, job, subject: event.subject, recordedAt: (deps.now?.() ?? new Date()).toISOString() };
  if (event.type === 'dev.fti.certificate.rejected.v1') {
    registry.record({ ...base, verdict: 'rejected', certificate: null, reason: JSON.stringify(data.violations ?? []) });
    return 'rejected';
  }
  const certKey = text(data.certificate);
  const verdict = await verifyIssued(certKey, text(data.certificateSha256), text(data.baseManifestDigest), event.id, deps);
  registry.record({ ...base, verdict: verdict.valid ? 'valid' : 'invalid', certificate: certKey, reason: verdict.valid ? null : verdict.reason });
  return verdict.valid ? 'valid' : 'invalid';
}

/**
 * Fetch and verify an issued certificate. A missing object or a certificate that does not
 * verify is a recorded `invalid`; a transport failure of the store throws (the event is not
 * recorded and its offset not committed, so it is handled again).
 */
async function verifyIssued(certKey: string, certSha: string, manifestDigest: string, eventId: string, deps: HandleDeps): Promise<{ valid: true } | { valid: false; reason: string }> {
  const fetch = async (key: string): Promise<Uint8Array | null> => {
    try {
      return await deps.store.get(key);
    } catch (e) {
      if (isBlobNotFound(e)) return null;
      throw e;
    }
  };
  const json = await fetch(certKey);
  if (json === null) return { valid: false, reason: `certificate ${certKey} is not in the store` };
  if (bytesToHex(sha256(json)) !== certSha) return { valid: false, reason: `${certKey}: SHA-256 differs from the event's certificateSha256` };
  const blobKey = certKey.replace(/\.json$/, '.bin');
  const blob = await fetch(blobKey);
  if (blob === null) return { valid: false, reason: `certificate blob ${blobKey} is not in the store` };
  const mKey = keys.manifest(manifestDigest);
  const manifestBytes = await fetch(mKey);
  if (manifestBytes === null) return { valid: false, reason: `base manifest ${mKey} is not in the store` };
  try {
    const cert = decodeCertificate(json, blob);
    if (cert.digest !== eventId) return { valid: false, reason: `certificate digest ${cert.digest} is not the event id ${eventId}` };
    const { manifest, digest } = parseManifest(new TextDecoder().decode(manifestBytes), mKey);
    const v = verifyCertificate(deps.srs, cert, { baseManifestDigest: digest, baseTensors: manifestExpectations(manifest) });
    return v.valid ? { valid: true } : { valid: false, reason: v.reason };
  } catch (e) {
    // decoders throw typed bad-input errors only: the certificate is malformed
    return { valid: false, reason: e instanceof Error ? e.message : String(e) };
  }
}
