/**
 * BlobStore over S3 (`@aws-sdk/client-s3`), for AWS or any S3-compatible server (the local
 * stack's versitygw): path-style addressing when an endpoint is given, uploads through
 * `@aws-sdk/lib-storage` Upload (one PutObject below the part size, multipart above it, parts
 * in parallel, an aborted upload cleaned up), ranged GETs with the returned length checked.
 *
 * Configuration from the environment (`s3BlobStoreFromEnv`, documented in infra/README.md):
 *   FTI_S3_ENDPOINT (default the local stack, http://127.0.0.1:7070), FTI_S3_REGION (us-east-1),
 *   FTI_S3_BUCKET (fti), FTI_S3_PREFIX (none), FTI_S3_FORCE_PATH_STYLE (true),
 *   FTI_S3_ACCESS_KEY_ID / FTI_S3_SECRET_ACCESS_KEY (else: the stack's dev credentials for the
 *   local endpoint, the SDK's default credential chain for any other).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { stackConfig } from '../local/config.ts';
import { BlobNotFoundError, BlobRangeError, BlobStoreError, checkKey, checkRange, sha256Hex, type BlobInfo, type BlobStore, type PutOptions, type PutResult } from './blob-store.ts';

// fti targets Node ≥ 20.19 (package.json engines); the SDK's notice that its 2027 releases
// will need Node 22 is noise in every worker's log. Set before the first client is made.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface S3BlobStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix inside the bucket (a namespace per deployment or test), without trailing slash. */
  readonly prefix?: string;
  /** Multipart part size in bytes (>= 5 MiB, S3's minimum); objects above it go multipart. */
  readonly partSize?: number;
  /** Parts uploaded in parallel. */
  readonly queueSize?: number;
}

const MIN_PART = 5 * 1024 * 1024;

function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function errorName(e: unknown): string {
  return (e as { name?: string } | null)?.name ?? '';
}

export class S3BlobStore implements BlobStore {
  readonly label: string;
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(opts: S3BlobStoreOptions) {
    this.client = opts.client;
    this.bucket = opts.bucket;
    this.prefix = opts.prefix !== undefined && opts.prefix !== '' ? `${checkKey(opts.prefix.replace(/\/+$/, ''))}/` : '';
    this.partSize = opts.partSize ?? 8 * 1024 * 1024;
    if (this.partSize < MIN_PART) throw new RangeError(`S3BlobStore: partSize must be at least 5 MiB, got ${this.partSize}`);
    this.queueSize = opts.queueSize ?? 4;
    this.label = `s3://${this.bucket}${this.prefix !== '' ? `/${this.prefix.slice(0, -1)}` : ''}`;
  }

  private objectKey(key: string): string {
    return this.prefix + checkKey(key);
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`;
  }

  /** Map the SDK's not-found and missing-bucket failures to typed errors; rethrow the rest. */
  private fail(key: string, e: unknown): never {
    const name = errorName(e);
    if (name === 'NoSuchBucket') throw new BlobStoreError('NO_SUCH_BUCKET', key, `${this.label}: bucket ${this.bucket} does not exist`, { cause: e });
    if (name === 'NoSuchKey' || name === 'NotFound' || httpStatus(e) === 404) throw new BlobNotFoundError(this.label, key, { cause: e });
    throw e;
  }

  async put(key: string, bytes: Uint8Array, opts: PutOptions = {}): Promise<PutResult> {
    const sha256 = sha256Hex(bytes);
    await this.upload(key, bytes, opts);
    return { key, size: bytes.byteLength, sha256 };
  }

  async putStream(key: string, body: Readable | AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutResult> {
    // Hash the bytes as they pass to the uploader, so the digest is of exactly what was sent.
    const hash = createHash('sha256');
    let size = 0;
    async function* tap(): AsyncGenerator<Uint8Array> {
      for await (const chunk of body) {
        const c = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        hash.update(c);
        size += c.byteLength;
        yield c;
      }
    }
    await this.upload(key, Readable.from(tap()), opts);
    return { key, size, sha256: hash.digest('hex') };
  }

  private async upload(key: string, body: Uint8Array | Readable, opts: PutOptions): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.objectKey(key), Body: body, ContentType: opts.contentType ?? 'application/octet-stream' },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (e) {
      this.fail(key, e);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      if (r.Body === undefined) throw new Error(`${this.label}: GET ${key} returned no body`);
      const bytes = await r.Body.transformToByteArray();
      if (r.ContentLength !== undefined && bytes.byteLength !== r.ContentLength) {
        throw new Error(`${this.label}: GET ${key} returned ${bytes.byteLength} bytes, Content-Length said ${r.ContentLength}`);
      }
      return bytes;
    } catch (e) {
      this.fail(key, e);
    }
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    if (checkRange(key, start, end)) {
      // An empty range has no HTTP form (bytes=a-(a-1) is invalid); still report a missing object.
      if (!(await this.exists(key))) throw new BlobNotFoundError(this.label, key);
      return new Uint8Array(0);
    }
    let bytes: Uint8Array;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Range: `bytes=${start}-${end - 1}` }));
      if (r.Body === undefined) throw new Error(`${this.label}: GET ${key} (range) returned no body`);
      bytes = await r.Body.transformToByteArray();
    } catch (e) {
      if (errorName(e) === 'InvalidRange' || httpStatus(e) === 416) {
        const info = await this.head(key);
        if (info === null) throw new BlobNotFoundError(this.label, key, { cause: e });
        throw new BlobRangeError(this.label, key, start, end, info.size, { cause: e });
      }
      this.fail(key, e);
    }
    // A range past the end is truncated by S3, not refused: a short answer means the object is shorter.
    if (bytes.byteLength !== end - start) {
      const info = await this.head(key);
      throw new BlobRangeError(this.label, key, start, end, info?.size ?? null);
    }
    return bytes;
  }

  async head(key: string): Promise<BlobInfo | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return { key, size: r.ContentLength ?? 0, ...(r.LastModified !== undefined ? { lastModified: r.LastModified } : {}) };
    } catch (e) {
      try {
        this.fail(key, e);
      } catch (mapped) {
        if (mapped instanceof BlobNotFoundError) return null;
        throw mapped;
      }
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== null;
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    let token: string | undefined;
    do {
      let r;
      try {
        r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }));
      } catch (e) {
        this.fail(prefix, e);
      }
      for (const o of r.Contents ?? []) {
        if (o.Key === undefined) continue;
        yield { key: o.Key.slice(this.prefix.length), size: o.Size ?? 0, ...(o.LastModified !== undefined ? { lastModified: o.LastModified } : {}) };
      }
      token = r.IsTruncated === true ? r.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (e) {
      try {
        this.fail(key, e);
      } catch (mapped) {
        if (mapped instanceof BlobNotFoundError) return;
        throw mapped;
      }
    }
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}

/** S3 client settings from the environment (see the module comment). */
export function s3ClientConfigFromEnv(env: NodeJS.ProcessEnv = process.env): { config: S3ClientConfig; bucket: string; prefix: string } {
  const stack = stackConfig();
  const endpoint = env.FTI_S3_ENDPOINT !== undefined && env.FTI_S3_ENDPOINT !== '' ? env.FTI_S3_ENDPOINT : stack.s3.endpoint;
  const explicitKey = env.FTI_S3_ACCESS_KEY_ID;
  const explicitSecret = env.FTI_S3_SECRET_ACCESS_KEY;
  const local = endpoint === `http://${stack.host}:${stack.s3.port}`;
  const credentials = explicitKey !== undefined && explicitKey !== '' && explicitSecret !== undefined
    ? { accessKeyId: explicitKey, secretAccessKey: explicitSecret }
    : local
      ? { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey }
      : undefined; // the SDK's default chain (AWS_* variables, web identity, instance profile)
  const config: S3ClientConfig = {
    endpoint,
    region: env.FTI_S3_REGION ?? stack.s3.region,
    forcePathStyle: (env.FTI_S3_FORCE_PATH_STYLE ?? 'true') !== 'false',
    ...(credentials !== undefined ? { credentials } : {}),
  };
  return { config, bucket: env.FTI_S3_BUCKET ?? stack.s3.bucket, prefix: env.FTI_S3_PREFIX ?? '' };
}

export function s3BlobStoreFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Omit<S3BlobStoreOptions, 'client'>> = {}): S3BlobStore {
  const { config, bucket, prefix } = s3ClientConfigFromEnv(env);
  return new S3BlobStore({ client: new S3Client(config), bucket, prefix, ...overrides });
}
