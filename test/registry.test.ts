// The registry's event handling: a certificate event is fetched, checked against its SHA-256
// and verified against its base manifest before it is recorded (SQLite, durable across a
// reopen); a duplicate delivery is recorded once; tampered or missing certificates are
// recorded invalid; a store outage records nothing (the event will be handled again).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { keys, type PipelineEvent, type PipelineStore } from '../activities/pipeline.ts';
import { runCertify } from '../cli/engine.ts';
import { BlobNotFoundError } from '../infra/stores/blob-store.ts';
import { encodeFloats, writeSafetensors } from '../model/safetensors.ts';
import { devSrsCached } from '../cli/srs-cache.ts';
import type { Srs } from '../smdp/srs.ts';
import { handleEvent, Registry } from '../workers/registry.ts';

const dir = mkdtempSync(join(tmpdir(), 'fti-registry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

class MapStore implements PipelineStore {
  readonly objects = new Map<string, Uint8Array>();
  down = false;
  put(key: string, bytes: Uint8Array): Promise<void> {
    this.objects.set(key, bytes);
    return Promise.resolve();
  }
  get(key: string): Promise<Uint8Array> {
    if (this.down) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:7070'));
    const v = this.objects.get(key);
    return v ? Promise.resolve(v) : Promise.reject(new BlobNotFoundError('memory', key));
  }
  exists(key: string): Promise<boolean> {
    return Promise.resolve(this.objects.has(key));
  }
}

describe('registry: handleEvent + SQLite', () => {
  const store = new MapStore();
  let srs: Srs;
  let issued: PipelineEvent;
  let registry: Registry;
  const dbPath = join(dir, 'registry.sqlite');

  before(async () => {
    const t = (seed: number, bump: number) => {
      let s = seed;
      const v = Float64Array.from({ length: 64 }, () => ((s = (s * 16807) % 2147483647), (s / 2147483647 - 0.5) * 0.05));
      v[5] = v[5]! + bump;
      return { dtype: 'F32' as const, shape: [8, 8], data: encodeFloats(v, 'F32') };
    };
    await writeSafetensors(join(dir, 'base.safetensors'), new Map([['x.weight', t(1, 0)]]));
    await writeSafetensors(join(dir, 'ft.safetensors'), new Map([['x.weight', t(1, 0.001)]]));
    const run = await runCertify({ base: join(dir, 'base.safetensors'), ft: join(dir, 'ft.safetensors'), policy: 'bounded-full', out: join(dir, 'out'), say: () => {}, progress: false, workers: 1 });
    assert.equal(run.outcome.verdict, 'accepted');
    if (run.outcome.verdict !== 'accepted') return;
    const digest = run.outcome.certificate.digest;
    const json = readFileSync(join(dir, 'out', 'certificate.json'));
    await store.put(keys.certificate(digest), json);
    await store.put(keys.certificateBlob(digest), readFileSync(join(dir, 'out', 'certificate.bin')));
    await store.put(keys.manifest(run.manifestDigest), readFileSync(join(dir, 'out', 'base-manifest.json')));
    srs = await devSrsCached(run.outcome.certificate.srs.N, () => {});
    assert.equal(srs.id, run.outcome.certificate.srs.id);
    issued = {
      specversion: '1.0',
      id: digest,
      source: 'test',
      type: 'dev.fti.certificate.issued.v1',
      subject: join(dir, 'ft.safetensors'),
      time: new Date(0).toISOString(),
      datacontenttype: 'application/json',
      data: { job: run.job, certificate: keys.certificate(digest), certificateSha256: bytesToHex(sha256(json)), baseManifestDigest: run.manifestDigest },
    };
    registry = new Registry(dbPath);
  });
  after(() => registry?.close());

  it('a store outage records nothing; handled again, the event is verified and recorded once', async () => {
    const ev = issued;
    store.down = true;
    try {
      await assert.rejects(handleEvent(ev, { store, srs, registry }), /ECONNREFUSED/);
    } finally {
      store.down = false;
    }
    assert.equal(registry.has(issued.id), false);
    assert.equal(await handleEvent(ev, { store, srs, registry }), 'valid');
    assert.equal(await handleEvent(ev, { store, srs, registry }), 'duplicate');
  });

  it('a tampered certificate blob is recorded invalid with the reason', async () => {
    const blobKey = keys.certificateBlob(issued.id);
    const good = store.objects.get(blobKey)!;
    const bad = Uint8Array.from(good);
    bad[bad.length - 5]! ^= 1;
    store.objects.set(blobKey, bad);
    const ev = { ...issued, id: issued.id.replace(/.$/, (c) => (c === '0' ? '1' : '0')) };
    try {
      assert.equal(await handleEvent(ev, { store, srs, registry }), 'invalid');
      assert.ok(registry.get(ev.id)?.reason);
    } finally {
      store.objects.set(blobKey, good);
    }
  });

  it('a wrong SHA-256 or a missing certificate is invalid; a rejected event is recorded as rejected', async () => {
    const wrongSha = { ...issued, id: 'ev-wrong-sha', data: { ...issued.data, certificateSha256: '00'.repeat(32) } };
    assert.equal(await handleEvent(wrongSha, { store, srs, registry }), 'invalid');
    assert.match(registry.get('ev-wrong-sha')!.reason!, /SHA-256 differs/);
    const missing = { ...issued, id: 'ev-missing', data: { ...issued.data, certificate: 'certificates/nope.json' } };
    assert.equal(await handleEvent(missing, { store, srs, registry }), 'invalid');
    assert.match(registry.get('ev-missing')!.reason!, /not in the store/);
    const rejected = { ...issued, id: 'ev-rejected', type: 'dev.fti.certificate.rejected.v1' as const, data: { job: 'j', violations: [{ tensor: 'x', check: 'frozen' }] } };
    assert.equal(await handleEvent(rejected, { store, srs, registry }), 'rejected');
  });

  it('records survive closing and reopening the database', () => {
    const before = registry.all();
    registry.close();
    registry = new Registry(dbPath);
    assert.deepEqual(registry.all(), before);
    assert.equal(registry.get(issued.id)?.verdict, 'valid');
  });
});
