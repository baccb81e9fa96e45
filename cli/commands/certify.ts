/** `fti certify`, `fti verify`, `fti commit` — the embedded engine's commands. */
import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { activeBackend, describeBackend } from '../backend.ts';
import { blockCount } from '../../smdp/aggregate.ts';
import { DEFAULT_UNIT_BLOCKS, commitBase } from '../../activities/certify.ts';
import { MAX_UNIT_BLOCKS } from '../../smdp/classes/norm-unit.ts';
import { openModelReader } from '../../activities/safetensors-reader.ts';
import { encodeManifest } from '../../model/manifest.ts';
import { DEFAULT_FRACTIONAL_BITS } from '../../model/policy.ts';
import { str, type Command } from '../command.ts';
import { defaultWorkerCount, neededVars, pickSrs, proverFor, runCertify, runVerify } from '../engine.ts';
import { writeFileAtomic } from '../files.ts';
import { EXIT_OK, EXIT_REJECTED, Progress, UsageError } from '../io.ts';

function need(args: Parameters<typeof str>[0], key: string, cmd: string): string {
  const v = str(args, key);
  if (v === undefined) throw new UsageError(`${cmd}: --${key} is required (see fti ${cmd} --help)`);
  return v;
}

function unitBlocks(cmd: string, v: string): number {
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > MAX_UNIT_BLOCKS) throw new UsageError(`${cmd}: --unit-blocks must be a whole number in 1..${MAX_UNIT_BLOCKS}, got ${JSON.stringify(v)}`);
  return n;
}

function workerCount(cmd: string, v: string): number {
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > 256) throw new UsageError(`${cmd}: --workers must be a whole number in 1..256, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * Peak resident memory of this process so far (all threads), bytes. On Linux VmHWM of
 * /proc/self/status: getrusage's maxrss survives execve, so a process spawned by a large
 * parent would report the parent's peak instead of its own.
 */
export function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS * 1024;
}

/**
 * For the proving commands (certify, commit): their main thread coordinates — reads tensors,
 * hands tiles to the proving threads, aggregates — with a small live heap (~30 MiB) and a
 * high garbage rate. V8 lets a heap grow up to 4× its live size before a full collection,
 * which made the peak RSS wander with the run's length (GC timing, not data); growing by 30%
 * keeps it flat in model size (bench: `certify.<template>.peak_rss_ratio.*`). Process-wide
 * and read at each collection; not set for `profile`, whose main thread does the work.
 */
export function tuneHeapForProving(): void {
  v8.setFlagsFromString('--heap-growing-percent=30');
}

export const certify: Command = {
  name: 'certify',
  summary: 'prove that a fine-tune stays within a policy; write a certificate or a rejection',
  help: `usage: fti certify --base PATH --ft PATH --policy FILE|TEMPLATE --out DIR
                   [--adapter PATH] [--base-manifest M] [--srs FILE] [--workers N]
                   [--unit-blocks U] [--job ID] [--json]

Certifies on this machine (embedded engine). PATH is a .safetensors file, a directory with
model.safetensors or model.safetensors.index.json, or the index itself. --policy is a policy
file (JSON or YAML) or a template: lora-attention, lora-all-linear, bitfit, head-only,
bounded-full. Writes DIR/certificate.json + DIR/certificate.bin on accept (exit 0), or
DIR/rejection.json with every violation (exit 3); appends a CloudEvent to DIR/events.jsonl.
Without --base-manifest the base is committed first (DIR/base-manifest.json). Without --srs an
INSECURE dev SRS is generated and cached (a warning says so).
--adapter PATH (a PEFT LoRA adapter: a directory with adapter_model.safetensors and
adapter_config.json, or the .safetensors file with the config beside it) supplies the factors
of low-rank tensors; without it, or where they do not meet the policy's bound, factors come
from a truncated SVD of Δ. The adapter is a hint: what is certified is always the fine-tuned
weights given by --ft.
--workers N proves tiles on N worker threads (default: one per core for models of 1M+ float
weights, else 1 = in this thread); the certificate is the same for every N.
--unit-blocks U proves up to U consecutive norm, linf, lowrank or hidden-sparse tiles of a
tensor as one unit, with one shared sumcheck and one set of openings (default ${DEFAULT_UNIT_BLOCKS}; 1 proves every
tile on its own: more, smaller proof records, slower to prove and to verify).`,
  options: { base: { type: 'string' }, ft: { type: 'string' }, policy: { type: 'string' }, out: { type: 'string' }, adapter: { type: 'string' }, workers: { type: 'string' }, 'unit-blocks': { type: 'string' }, 'base-manifest': { type: 'string' }, srs: { type: 'string' }, job: { type: 'string' } },
  positionals: [0, 0],
  async run(args, ctx) {
    const t0 = performance.now();
    tuneHeapForProving();
    ctx.say(describeBackend());
    const run = await runCertify({
      base: need(args, 'base', 'certify'),
      ft: need(args, 'ft', 'certify'),
      policy: need(args, 'policy', 'certify'),
      out: need(args, 'out', 'certify'),
      ...(str(args, 'base-manifest') !== undefined ? { baseManifest: str(args, 'base-manifest')! } : {}),
      ...(str(args, 'srs') !== undefined ? { srs: str(args, 'srs')! } : {}),
      ...(str(args, 'job') !== undefined ? { job: str(args, 'job')! } : {}),
      ...(str(args, 'adapter') !== undefined ? { adapter: str(args, 'adapter')! } : {}),
      ...(str(args, 'workers') !== undefined ? { workers: workerCount('certify', str(args, 'workers')!) } : {}),
      ...(str(args, 'unit-blocks') !== undefined ? { unitBlocks: unitBlocks('certify', str(args, 'unit-blocks')!) } : {}),
      say: ctx.say,
      progress: !ctx.json || process.stderr.isTTY === true,
    });
    const o = run.outcome;
    const seconds = (performance.now() - t0) / 1000;
    if (o.verdict === 'accepted') {
      ctx.say(`accepted: ${o.tensors.length} tensors certified in ${seconds.toFixed(1)} s → ${run.files[0]}`);
      for (const t of o.tensors) ctx.say(`  ${t.class.padEnd(8)} ${t.name}${t.blocks ? ` (${t.blocks} blocks)` : ''}`);
    } else {
      ctx.say(`rejected: ${o.violations.length} violation(s) → ${run.files[0]}`);
      for (const v of o.violations) ctx.say(`  ${v.check}: ${v.detail}`);
    }
    ctx.emit({
      verdict: o.verdict,
      job: run.job,
      baseManifestDigest: run.manifestDigest,
      files: run.files,
      seconds,
      peakRssBytes: peakRssBytes(),
      backend: activeBackend().name,
      ...(o.verdict === 'accepted' ? { certificateDigest: o.certificate.digest } : { violations: o.violations }),
      tensors: o.tensors,
    });
    return o.verdict === 'accepted' ? EXIT_OK : EXIT_REJECTED;
  },
};

export const verify: Command = {
  name: 'verify',
  summary: 'recompute every check of a certificate against the trusted base',
  help: `usage: fti verify CERT.json (--base-manifest M | --base PATH) [--srs FILE] [--json]

Reads CERT.json and its proof blob CERT.bin, and re-checks everything: SRS, base manifest
digest and per-block base commitments, every block proof, tensor-level bounds, the
aggregation tree and the final pairing. Exit 0 valid, 3 invalid, 2 bad input.`,
  options: { 'base-manifest': { type: 'string' }, base: { type: 'string' }, srs: { type: 'string' } },
  positionals: [1, 1],
  async run(args, ctx) {
    const bm = str(args, 'base-manifest');
    const base = str(args, 'base');
    if ((bm === undefined) === (base === undefined)) throw new UsageError('verify: give exactly one of --base-manifest FILE or --base PATH');
    ctx.say(describeBackend());
    const { verdict, cert } = await runVerify({ cert: args.positionals[0]!, ...(bm !== undefined ? { baseManifest: bm } : {}), ...(base !== undefined ? { base } : {}), ...(str(args, 'srs') !== undefined ? { srs: str(args, 'srs')! } : {}), say: ctx.say });
    ctx.say(verdict.valid ? `valid: certificate ${cert.digest} (${cert.tensors.length} tensors, ${blockCount(cert.blocks)} blocks)` : `invalid: ${verdict.reason}`);
    ctx.emit({ valid: verdict.valid, ...(verdict.valid ? {} : { reason: verdict.reason }), digest: cert.digest, job: cert.job, backend: activeBackend().name, tensors: verdict.tensors.map((t) => ({ name: t.name, class: t.class, valid: t.verdict.valid, ...(t.verdict.valid ? {} : { reason: t.verdict.reason }) })) });
    return verdict.valid ? EXIT_OK : EXIT_REJECTED;
  },
};

export const commit: Command = {
  name: 'commit',
  summary: 'commit a base model: its manifest of hashes and block commitments',
  help: `usage: fti commit --model PATH --out MANIFEST.json [--srs FILE] [--fractional-bits S]
                  [--workers N] [--json]

Writes the base manifest a registry trusts: per tensor SHA-256, shape, dtype, L2 norm and the
commitment of every block (default tiling). Certificates cite its digest. --workers N commits
on N worker threads (default: one per core for models of 1M+ float weights, else 1).`,
  options: { model: { type: 'string' }, out: { type: 'string' }, srs: { type: 'string' }, 'fractional-bits': { type: 'string' }, workers: { type: 'string' } },
  positionals: [0, 0],
  async run(args, ctx) {
    tuneHeapForProving();
    ctx.say(describeBackend());
    const model = await openModelReader(need(args, 'model', 'commit'));
    try {
      const out = need(args, 'out', 'commit');
      const sRaw = str(args, 'fractional-bits') ?? String(DEFAULT_FRACTIONAL_BITS);
      const s = Number(sRaw);
      if (!Number.isInteger(s) || s < 0 || s > 40) throw new UsageError(`--fractional-bits: expected an integer in 0..40, got ${JSON.stringify(sRaw)}`);
      const srs = await pickSrs(str(args, 'srs'), neededVars(model), ctx.say);
      const bar = new Progress('commit', model.tensors.length, !ctx.json);
      const t0 = performance.now();
      const proverCtx = { srs, msm: activeBackend().msm };
      const w = str(args, 'workers');
      const workers = w !== undefined ? workerCount('commit', w) : defaultWorkerCount(model);
      const prover = await proverFor(proverCtx, workers);
      const { manifest, digest } = await commitBase(proverCtx, model, s, (_p, d) => bar.update(d), prover).finally(() => prover.close());
      await writeFileAtomic(out, encodeManifest(manifest));
      const seconds = (performance.now() - t0) / 1000;
      ctx.say(`wrote ${out}: base manifest ${digest} (${manifest.tensors.length} tensors) in ${seconds.toFixed(1)} s`);
      ctx.emit({ file: out, digest, tensors: manifest.tensors.length, srs: manifest.srs, seconds, peakRssBytes: peakRssBytes(), backend: activeBackend().name });
      return EXIT_OK;
    } finally {
      await model.close();
    }
  },
};
