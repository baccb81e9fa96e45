/**
 * The embedded engine behind `fti certify` / `fti verify` / `fti demo`: resolves the policy
 * (file or template), picks the SRS, commits or loads the base manifest, runs the
 * certification steps, and writes outputs atomically with a CloudEvents JSONL log
 * (`events.jsonl`, the same events the pipeline publishes on Kafka).
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { certifyFineTune, commitBase, jobIdFor, type CertifyOutcome } from '../activities/certify.ts';
import type { ModelReader } from '../activities/model-reader.ts';
import { defaultWorkers, inlineProver, startProverPool, type BlockProver } from '../activities/prove-pool.ts';
import { openModelReader } from '../activities/safetensors-reader.ts';
import { decodeCertificate, encodeCertificate, type Certificate } from '../smdp/certificate.ts';
import { activeBackend } from './backend.ts';
import type { ProverContext } from '../smdp/pst.ts';
import type { Srs } from '../smdp/srs.ts';
import { verifyCertificate, type CertificateVerdict } from '../smdp/verifier.ts';
import { readAdapter } from '../model/adapter.ts';
import { encodeManifest, manifestExpectations, readManifest, type BaseManifest } from '../model/manifest.ts';
import { FLOAT_DTYPES, tensorMatrix } from '../model/planner.ts';
import { policyDigest, readPolicyFile, type Policy } from '../model/policy.ts';
import { isTemplateName, templatePolicy } from '../model/templates.ts';
import { writeFileAtomic } from './files.ts';
import { InputError, Progress } from './io.ts';
import { devSrsCached, loadSrsFile } from './srs-cache.ts';

export async function loadPolicy(spec: string, base: ModelReader): Promise<{ policy: Policy; source: string }> {
  if (existsSync(spec)) return { policy: await readPolicyFile(spec), source: spec };
  if (isTemplateName(spec)) return { policy: templatePolicy(spec, base.tensors), source: `template:${spec}` };
  throw new InputError('NOT_FOUND', `--policy ${JSON.stringify(spec)}: no such policy file, and not a template (lora-attention, lora-all-linear, bitfit, head-only, bounded-full)`);
}

/**
 * The SRS size for a model: tiles are whole-row bands, so a block must hold one padded row
 * plus room for rows and low-rank factors (+4 variables), clamped to 8..16. Larger tensors
 * simply get more blocks.
 */
export function neededVars(model: ModelReader): number {
  let mu = 8;
  for (const t of model.tensors) {
    const { cols } = tensorMatrix(t.name, t.shape);
    mu = Math.max(mu, Math.ceil(Math.log2(Math.max(1, cols))) + 4);
  }
  return Math.min(mu, 16);
}

/** Models below this many float weights prove in one thread: starting workers costs more than it saves. */
export const POOL_MIN_WEIGHTS = 1 << 20;

/** One proving thread per core for models of POOL_MIN_WEIGHTS float weights or more, else 1. */
export function defaultWorkerCount(model: ModelReader): number {
  let weights = 0;
  for (const t of model.tensors) if (FLOAT_DTYPES.includes(t.dtype)) weights += t.shape.reduce((a, b) => a * b, 1);
  return weights >= POOL_MIN_WEIGHTS ? defaultWorkers() : 1;
}

/** Where tiles are proven for `workers` threads: a worker-thread pool, or this thread for 1. */
export async function proverFor(ctx: ProverContext, workers: number): Promise<BlockProver> {
  return workers > 1 ? startProverPool(ctx.srs, workers) : inlineProver(ctx);
}

export async function pickSrs(srsFile: string | undefined, N: number, say: (l: string) => void): Promise<Srs> {
  return srsFile ? loadSrsFile(srsFile) : devSrsCached(N, say);
}

export interface CertifyRun {
  readonly outcome: CertifyOutcome;
  readonly job: string;
  readonly manifestDigest: string;
  readonly outDir: string;
  readonly files: string[];
}

interface CloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly data: unknown;
}

async function appendEvent(outDir: string, e: CloudEvent): Promise<void> {
  await appendFile(join(outDir, 'events.jsonl'), JSON.stringify(e) + '\n');
}

export async function runCertify(opts: {
  base: string;
  ft: string;
  policy: string;
  out: string;
  baseManifest?: string;
  srs?: string;
  job?: string;
  adapter?: string;
  /** Proving threads; default `defaultWorkerCount(ft)`. 1 proves in this thread. */
  workers?: number;
  /** Most tiles per proving unit (default DEFAULT_UNIT_BLOCKS). */
  unitBlocks?: number;
  say: (l: string) => void;
  progress: boolean;
}): Promise<CertifyRun> {
  const base = await openModelReader(opts.base);
  const ft = await openModelReader(opts.ft);
  let prover: BlockProver | undefined;
  try {
    const { policy, source } = await loadPolicy(opts.policy, base);
    const adapter = opts.adapter !== undefined ? await readAdapter(opts.adapter, base.tensors) : undefined;
    if (adapter) opts.say(`adapter ${adapter.label}: LoRA factors for ${adapter.updates.size} tensor(s)${adapter.others.length > 0 ? `; ${adapter.others.length} other tensor(s) in it are certified from the fine-tuned weights alone` : ''}`);
    const srs = await pickSrs(opts.srs, neededVars(ft), opts.say);
    const ctx: ProverContext = { srs, msm: activeBackend().msm };
    const workers = opts.workers ?? defaultWorkerCount(ft);
    prover = await proverFor(ctx, workers);
    await mkdir(opts.out, { recursive: true });
    let manifest: BaseManifest;
    let manifestDigest: string;
    if (opts.baseManifest) {
      ({ manifest, digest: manifestDigest } = await readManifest(opts.baseManifest));
    } else {
      const bar = new Progress('commit base', base.tensors.length, opts.progress);
      ({ manifest, digest: manifestDigest } = await commitBase(ctx, base, policy.fractionalBits, (_p, d) => bar.update(d), prover));
      await writeFileAtomic(join(opts.out, 'base-manifest.json'), encodeManifest(manifest));
    }
    const ftFiles = await ft.files();
    const job = opts.job ?? jobIdFor([manifestDigest, ...ftFiles.map((f) => f.sha256), policyDigest(policy), srs.id]);
    const factors = adapter ? new Map([...adapter.updates].map(([name, u]) => [name, u.factors])) : undefined;
    let bar: Progress | undefined;
    const outcome = await certifyFineTune(ctx, { job, base, ft, policy, manifest, prover, ...(factors ? { factors } : {}), ...(opts.unitBlocks !== undefined ? { unitBlocks: opts.unitBlocks } : {}) }, (phase, done, total, detail) => {
      if (phase !== 'prove') return;
      bar ??= new Progress('prove', total, opts.progress);
      bar.update(done, detail ?? '');
    });
    const files: string[] = [];
    const common = { job, base: opts.base, fineTuned: opts.ft, policy: source, policyDigest: policyDigest(policy), baseManifestDigest: manifestDigest };
    if (outcome.verdict === 'accepted') {
      const { json, blob } = encodeCertificate(outcome.certificate);
      // blob first: a certificate.json on disk always has its proof blob beside it
      await writeFileAtomic(join(opts.out, 'certificate.bin'), blob);
      await writeFileAtomic(join(opts.out, 'certificate.json'), json);
      files.push(join(opts.out, 'certificate.json'), join(opts.out, 'certificate.bin'));
      await appendEvent(opts.out, {
        specversion: '1.0',
        id: outcome.certificate.digest,
        source: 'fti/embedded',
        type: 'dev.fti.certificate.issued.v1',
        subject: opts.ft,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        data: { ...common, verdict: 'accepted', certificate: join(opts.out, 'certificate.json'), certificateSha256: bytesToHex(sha256(new TextEncoder().encode(json))), tensors: outcome.tensors.map((t) => ({ name: t.name, class: t.class })) },
      });
    } else {
      const report = { ...common, verdict: 'rejected', violations: outcome.violations, tensors: outcome.tensors };
      const text = JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
      await writeFileAtomic(join(opts.out, 'rejection.json'), text);
      files.push(join(opts.out, 'rejection.json'));
      await appendEvent(opts.out, {
        specversion: '1.0',
        id: bytesToHex(sha256(new TextEncoder().encode(text))),
        source: 'fti/embedded',
        type: 'dev.fti.certificate.rejected.v1',
        subject: opts.ft,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        data: { ...common, verdict: 'rejected', violations: outcome.violations.map((v) => ({ tensor: v.tensor, check: v.check, detail: v.detail })) },
      });
    }
    return { outcome, job, manifestDigest, outDir: opts.out, files };
  } finally {
    await prover?.close();
    await base.close();
    await ft.close();
  }
}

export async function readCertificateFiles(path: string): Promise<Certificate> {
  const blobPath = path.replace(/\.json$/, '') + '.bin';
  const json = await readFile(path).catch(() => {
    throw new InputError('NOT_FOUND', `${path}: cannot read the certificate`);
  });
  const blob = await readFile(blobPath).catch(() => {
    throw new InputError('NOT_FOUND', `${blobPath}: cannot read the certificate's proof blob (expected beside ${path})`);
  });
  return decodeCertificate(json, blob);
}

/** The SRS a certificate needs: `--srs FILE`, or the (cached) dev SRS it names; ceremony SRSs must be given. */
export async function srsForCertificate(cert: Certificate, certPath: string, srsFile: string | undefined, say: (l: string) => void): Promise<Srs> {
  if (srsFile) return loadSrsFile(srsFile);
  if (cert.srs.kind === 'dev') return devSrsCached(cert.srs.N, say);
  throw new InputError('SRS_REQUIRED', `${certPath} was made under a ceremony SRS (${cert.srs.id}); pass it with --srs FILE`);
}

export async function runVerify(opts: { cert: string; baseManifest?: string; base?: string; srs?: string; say: (l: string) => void }): Promise<{ verdict: CertificateVerdict; cert: Certificate }> {
  const cert = await readCertificateFiles(opts.cert);
  const srs = await srsForCertificate(cert, opts.cert, opts.srs, opts.say);
  if (srs.id !== cert.srs.id) return { cert, verdict: { valid: false, reason: `the certificate was made under SRS ${cert.srs.id}, the given SRS is ${srs.id}`, tensors: [] } };
  let manifest: BaseManifest;
  let digest: string;
  if (opts.baseManifest) ({ manifest, digest } = await readManifest(opts.baseManifest));
  else if (opts.base) {
    const base = await openModelReader(opts.base);
    try {
      ({ manifest, digest } = await commitBase({ srs, msm: activeBackend().msm }, base, cert.fractionalBits));
    } finally {
      await base.close();
    }
  } else throw new InputError('USAGE', 'verify needs the trusted base: --base-manifest FILE or --base PATH');
  return { cert, verdict: verifyCertificate(srs, cert, { baseManifestDigest: digest, baseTensors: manifestExpectations(manifest) }) };
}
