// The blob store contract, run against both implementations: FsBlobStore on a temp folder and
// S3BlobStore on the local stack's real S3 server (versitygw; started by ensureStack when it
// is not running). S3-only checks: a large put really is a multipart upload (composite ETag
// "<md5>-<parts>"), a failed streamed upload leaves no multipart upload behind.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { ensureStack } from '../infra/local/ensure.ts';
import { stackS3Client } from '../infra/local/services.ts';
import { BlobNotFoundError, BlobRangeError, BlobStoreError, contentKey, isBlobNotFound, type BlobStore } from '../infra/stores/blob-store.ts';
import { FsBlobStore } from '../infra/stores/blob-store-fs.ts';
import { S3BlobStore, s3ClientConfigFromEnv } from '../infra/stores/blob-store-s3.ts';
import { S3Client } from '@aws-sdk/client-s3';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const run = randomBytes(4).toString('hex');

async function collect(store: BlobStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(prefix)) out.push(o.key);
  return out;
}

async function rejectsWith<T extends Error>(p: Promise<unknown>, cls: new (...a: never[]) => T, check?: (e: T) => void): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    check?.(e);
    return true;
  });
}

/** A stream of `total` pseudo-random bytes in uneven chunks, and the bytes themselves. */
function chunkedSource(total: number, failAfter?: number): { bytes: Buffer; stream: Readable } {
  const bytes = randomBytes(total);
  function* gen(): Generator<Buffer> {
    let off = 0;
    let i = 0;
    while (off < total) {
      const n = Math.min(total - off, 300_000 + (i++ % 7) * 131_071);
      if (failAfter !== undefined && off + n > failAfter) throw new Error('source failed mid-stream');
      yield bytes.subarray(off, off + n);
      off += n;
    }
  }
  return { bytes, stream: Readable.from(gen()) };
}

function contract(name: string, open: () => Promise<BlobStore>, extra?: (store: () => BlobStore) => void): void {
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;
    before(async () => {
      store = await open();
    });
    after(async () => {
      for (const k of await collect(store, '')) await store.delete(k);
      await store.close();
    });

    it('put then get returns the bytes; the reported SHA-256 is of those bytes; head and exists agree', async () => {
      const bytes = randomBytes(10_000);
      const r = await store.put('small/one.bin', bytes);
      assert.equal(r.size, 10_000);
      assert.equal(r.sha256, sha(bytes));
      assert.deepEqual(Buffer.from(await store.get('small/one.bin')), bytes);
      const info = await store.head('small/one.bin');
      assert.equal(info?.size, 10_000);
      assert.equal(info?.key, 'small/one.bin');
      assert.equal(await store.exists('small/one.bin'), true);
    });

    it('an empty object round-trips', async () => {
      await store.put('small/empty', new Uint8Array(0));
      assert.equal((await store.get('small/empty')).byteLength, 0);
      assert.equal((await store.head('small/empty'))?.size, 0);
    });

    it('a second put replaces the object', async () => {
      await store.put('small/over', Buffer.from('first version'));
      await store.put('small/over', Buffer.from('second'));
      assert.equal(Buffer.from(await store.get('small/over')).toString(), 'second');
    });

    it('a missing key: get and getRange throw BlobNotFoundError, head is null, exists false, delete is a no-op', async () => {
      await rejectsWith(store.get('nope/missing.bin'), BlobNotFoundError, (e) => {
        assert.equal(e.code, 'BLOB_NOT_FOUND');
        assert.equal(e.key, 'nope/missing.bin');
        assert.ok(isBlobNotFound(e));
      });
      await rejectsWith(store.getRange('nope/missing.bin', 0, 10), BlobNotFoundError);
      await rejectsWith(store.getRange('nope/missing.bin', 3, 3), BlobNotFoundError);
      assert.equal(await store.head('nope/missing.bin'), null);
      assert.equal(await store.exists('nope/missing.bin'), false);
      await store.delete('nope/missing.bin');
    });

    it('a put above 5 MiB (13 MiB: multipart on S3) round-trips byte for byte', async () => {
      const bytes = randomBytes(13 * MiB + 12_345);
      const r = await store.put('large/thirteen.bin', bytes);
      assert.equal(r.sha256, sha(bytes));
      const back = await store.get('large/thirteen.bin');
      assert.equal(back.byteLength, bytes.byteLength);
      assert.equal(sha(back), sha(bytes));
      assert.equal((await store.head('large/thirteen.bin'))?.size, bytes.byteLength);
    });

    it('ranged reads return exactly the requested bytes, across part boundaries and at the ends', async () => {
      const bytes = randomBytes(9 * MiB + 77);
      await store.put('large/ranged.bin', bytes);
      const ranges: [number, number][] = [[0, 1], [0, 8], [1000, 5000], [8 * MiB - 100, 8 * MiB + 100], [bytes.length - 1, bytes.length], [0, bytes.length], [4242, 4242]];
      for (const [s, e] of ranges) {
        const got = await store.getRange('large/ranged.bin', s, e);
        assert.equal(got.byteLength, e - s, `length of [${s}, ${e})`);
        assert.ok(Buffer.from(got).equals(bytes.subarray(s, e)), `bytes of [${s}, ${e})`);
      }
    });

    it('a range past the end is BlobRangeError; a malformed range is refused before any request', async () => {
      await store.put('small/ten', Buffer.from('0123456789'));
      await rejectsWith(store.getRange('small/ten', 5, 11), BlobRangeError, (e) => assert.match(e.message, /10 bytes/));
      await rejectsWith(store.getRange('small/ten', 20, 30), BlobRangeError);
      await rejectsWith(store.getRange('small/ten', 5, 4), BlobStoreError, (e) => assert.equal(e.code, 'BLOB_RANGE'));
      await rejectsWith(store.getRange('small/ten', -1, 4), BlobStoreError, (e) => assert.equal(e.code, 'BLOB_RANGE'));
    });

    it('putStream of unknown length (11 MiB in uneven chunks) stores the bytes and hashes what it sent', async () => {
      const { bytes, stream } = chunkedSource(11 * MiB + 3);
      const r = await store.putStream('large/streamed.bin', stream);
      assert.equal(r.size, bytes.length);
      assert.equal(r.sha256, sha(bytes));
      assert.equal(sha(await store.get('large/streamed.bin')), sha(bytes));
    });

    it('a stream that fails mid-way rejects and leaves the previous object intact', async () => {
      await store.put('large/keep.bin', Buffer.from('the old object'));
      const { stream } = chunkedSource(12 * MiB, 9 * MiB);
      await assert.rejects(store.putStream('large/keep.bin', stream), /source failed mid-stream/);
      assert.equal(Buffer.from(await store.get('large/keep.bin')).toString(), 'the old object');
    });

    it('list by prefix: every key under it in byte order, prefixes need not end at a /', async () => {
      for (const k of ['l/a/b/1', 'l/a/b/2', 'l/a/c', 'l/ab', 'l/a-b', 'l/b']) await store.put(k, Buffer.from(k));
      assert.deepEqual(await collect(store, 'l/a/'), ['l/a/b/1', 'l/a/b/2', 'l/a/c']);
      assert.deepEqual(await collect(store, 'l/a/b'), ['l/a/b/1', 'l/a/b/2']);
      assert.deepEqual(await collect(store, 'l/a'), ['l/a-b', 'l/a/b/1', 'l/a/b/2', 'l/a/c', 'l/ab']);
      assert.deepEqual(await collect(store, 'l/zz'), []);
      const sizes = [];
      for await (const o of store.list('l/a/b/')) sizes.push(o.size);
      assert.deepEqual(sizes, [7, 7]);
    });

    it('delete removes the object (and only it)', async () => {
      await store.put('d/x', Buffer.from('x'));
      await store.put('d/y', Buffer.from('y'));
      await store.delete('d/x');
      assert.equal(await store.exists('d/x'), false);
      await rejectsWith(store.get('d/x'), BlobNotFoundError);
      assert.deepEqual(await collect(store, 'd/'), ['d/y']);
    });

    it('bad keys are refused with BAD_KEY', async () => {
      for (const k of ['', '/abs', '../escape', 'a//b', 'a/./b', 'a\\b', 'tab\tkey']) {
        await rejectsWith(store.put(k, Buffer.from('x')), BlobStoreError, (e) => assert.equal(e.code, 'BAD_KEY', k));
      }
    });

    it('contentKey addresses by SHA-256', async () => {
      const bytes = Buffer.from('block payload');
      const key = contentKey('blocks', bytes);
      assert.equal(key, `blocks/sha256/${sha(bytes)}`);
      await store.put(key, bytes);
      assert.equal(sha(await store.get(key)), key.split('/').pop());
    });

    extra?.(() => store);
  });
}

// ---------------------------------------------------------------- filesystem

const fsRoot = mkdtempSync(join(tmpdir(), 'fti-blobs-'));
after(() => rmSync(fsRoot, { recursive: true, force: true }));

contract('filesystem', () => Promise.resolve(new FsBlobStore(fsRoot)), (store) => {
  it('writes leave no temporary files behind, even after a failed stream', () => {
    assert.deepEqual(readdirSync(join(fsRoot, '.tmp')), []);
    assert.equal((store() as FsBlobStore).uri('a/b').startsWith('file://'), true);
  });
  it('the reserved .tmp folder is not a key', async () => {
    await rejectsWith(store().put('.tmp/x', Buffer.from('x')), BlobStoreError, (e) => assert.equal(e.code, 'BAD_KEY'));
    assert.equal((await collect(store(), '')).some((k) => k.startsWith('.tmp')), false);
  });
});

// ---------------------------------------------------------------- S3 (real server)

const prefix = `test-blob-${run}`;
let raw: S3Client;

contract('S3 (versitygw, local stack)', async () => {
  const cfg = await ensureStack(['s3']);
  const { config, bucket } = s3ClientConfigFromEnv();
  raw = stackS3Client(cfg);
  return new S3BlobStore({ client: new S3Client(config), bucket, prefix });
}, (store) => {
  it('a 13 MiB put was a multipart upload (composite ETag) and its URI names bucket and prefix', async () => {
    const s = store() as S3BlobStore;
    const r = await raw.send(new HeadObjectCommand({ Bucket: s.bucket, Key: `${prefix}/large/thirteen.bin` }));
    assert.match(r.ETag ?? '', /-2"?$/, `ETag ${r.ETag} of an 8 MiB-part upload of 13 MiB`);
    const small = await raw.send(new HeadObjectCommand({ Bucket: s.bucket, Key: `${prefix}/small/ten` }));
    assert.doesNotMatch(small.ETag ?? '', /-\d+"?$/, 'a small put is a single PutObject');
    assert.equal(s.uri('a/b'), `s3://${s.bucket}/${prefix}/a/b`);
  });
  it('the failed streamed upload was aborted (no multipart upload left open)', async () => {
    const s = store() as S3BlobStore;
    const r = await raw.send(new ListMultipartUploadsCommand({ Bucket: s.bucket, Prefix: prefix }));
    assert.deepEqual((r.Uploads ?? []).map((u) => u.Key), []);
  });
  it('a bucket that does not exist is NO_SUCH_BUCKET, not a missing object', async () => {
    const s = store() as S3BlobStore;
    const { config } = s3ClientConfigFromEnv();
    const other = new S3BlobStore({ client: new S3Client(config), bucket: `no-such-bucket-${run}` });
    await rejectsWith(other.get('x'), BlobStoreError, (e) => assert.equal(e.code, 'NO_SUCH_BUCKET'));
    await other.close();
    assert.ok(s.label.startsWith('s3://'));
  });
  after(() => raw.destroy());
});
