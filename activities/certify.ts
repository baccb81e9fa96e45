/**
 * The certification steps of one fine-tune job (DESIGN.md data flow), as plain async
 * functions over a `ModelReader` and an SMDP prover context. The embedded engine (`fti
 * certify`) runs them in-process; the pipeline runs the same functions as activities.
 *
 *   commitBase → plan → per tensor: frozen hash check | quantize, Δ, (factors), proveBlock
 *   per tile → aggregate → seal → self-verify.
 *
 * A job ends in exactly one outcome: `accepted` with a self-verified certificate, or
 * `rejected` with every violation found (tensor, check, measured value, bound). Bad input
 * (malformed files, NaN weights, impossible plans) is thrown as a typed error instead.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { aggregateBlocks, blockCount, type ProofRecord } from '../smdp/aggregate.ts';
import { provenTensorResult, sealCertificate, type Certificate, type TensorResult } from '../smdp/certificate.ts';
import { commitFactorB } from '../smdp/classes/lowrank.ts';
import { DriftPolicyViolation } from '../smdp/errors.ts';
import type { ProverContext } from '../smdp/pst.ts';
import { G1 } from '../smdp/field.ts';
import type { TileGeometry } from '../smdp/statement.ts';
import { verifyCertificate } from '../smdp/verifier.ts';
import { exactSquareSum, factorTile, lowRankFactorsFromDelta, quantizeFactors, type QuantizedFactors, type RealFactors } from '../model/factors.ts';
import { manifestDigest, manifestExpectations, type BaseManifest, type ManifestTensor, type ManifestTile } from '../model/manifest.ts';
import { FLOAT_DTYPES, planModel, planTensor, tileIndices, type TensorPlan } from '../model/planner.ts';
import { policyDigest, resolvePolicy, type Policy } from '../model/policy.ts';
import { quantize } from '../model/quantize.ts';
import type { ModelReader } from './model-reader.ts';
import { inlineProver, type BlockProver } from './prove-pool.ts';
import { groupUnits, type TileWork } from './prove-block.ts';

export interface StepProgress {
  (phase: string, done: number, total: number, detail?: string): void;
}

const noProgress: StepProgress = () => {};

function l2Of(values: Float64Array): number {
  let s = 0;
  for (const v of values) s += v * v;
  return Math.sqrt(s);
}

/** Quantized values of a tile (padding 0), row·2^μy + col order, as safe integers. */
export function gatherTile(q: Float64Array, shape: readonly number[], tile: TileGeometry): Float64Array {
  const idx = tileIndices(shape, tile);
  const out = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    out[i] = j < 0 ? 0 : q[j]!;
  }
  return out;
}

/**
 * commitBase: the base manifest — per tensor SHA-256, shape, dtype, L2 and, for float
 * tensors, the commitment of every tile of the default (elementwise) tiling.
 */
export async function commitBase(
  ctx: ProverContext,
  base: ModelReader,
  fractionalBits: number,
  progress: StepProgress = noProgress,
  prover: BlockProver = inlineProver(ctx),
): Promise<{ manifest: BaseManifest; digest: string }> {
  const N = ctx.srs.N;
  const total = base.tensors.length;
  const tensors = new Array<ManifestTensor>(total);
  let done = 0;
  const window = new Window(tensorWindow(prover));
  for (const [i, t] of base.tensors.entries()) {
    const sha = await base.tensorSha256(t.name);
    let l2 = 0;
    let tiles: Promise<ManifestTile[]> = Promise.resolve([]);
    if (FLOAT_DTYPES.includes(t.dtype)) {
      const values = await base.readValues(t.name);
      l2 = l2Of(values);
      const q = quantize(values, fractionalBits, { file: base.label, tensor: t.name, startIndex: 0 });
      const plan = planTensor(t, { name: t.name, class: 'free', rule: 'default', drift: { class: 'free' } }, N);
      tiles = Promise.all(plan.tiles.map(async (g) => ({ ...g, commitment: await prover.commit(gatherTile(q, t.shape, g)) })));
    }
    await window.add(
      tiles.then((ts) => {
        tensors[i] = { name: t.name, dtype: t.dtype, shape: [...t.shape], sha256: sha, l2, tiles: ts };
        progress('commit base', ++done, total, t.name);
      }),
    );
  }
  await window.drain();
  const manifest: BaseManifest = { fractionalBits, srs: { id: ctx.srs.id, kind: ctx.srs.kind, N }, files: await base.files(), tensors };
  return { manifest, digest: manifestDigest(manifest) };
}

/** Tensors in flight at once: one more than the prover's threads keeps them busy; one when inline. */
function tensorWindow(prover: BlockProver): number {
  return prover.parallelism <= 1 ? 1 : prover.parallelism + 1;
}

/**
 * At most `limit` tasks in flight: `add` waits for room. The first failure is rethrown by
 * the next `add` or by `drain` (later tasks still settle; none is left unobserved).
 */
class Window {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | null = null;
  constructor(private readonly limit: number) {}
  async add(task: Promise<void>): Promise<void> {
    const tracked: Promise<void> = task.then(
      () => void this.running.delete(tracked),
      (e: unknown) => {
        this.running.delete(tracked);
        this.failure ??= { error: e };
      },
    );
    this.running.add(tracked);
    while (this.running.size >= this.limit) await Promise.race(this.running);
    if (this.failure) throw this.failure.error;
  }
  async drain(): Promise<void> {
    await Promise.all(this.running);
    if (this.failure) throw this.failure.error;
  }
}

export interface Violation {
  readonly tensor: string;
  readonly check: string;
  readonly measured?: string;
  readonly bound?: string;
  readonly detail: string;
  readonly block?: number;
}

export interface TensorReport {
  readonly name: string;
  readonly class: string;
  readonly verdict: 'accepted' | 'rejected';
  readonly blocks: number;
  readonly reason?: string;
  readonly measured?: Record<string, string | number>;
}

export type CertifyOutcome =
  | { readonly verdict: 'accepted'; readonly certificate: Certificate; readonly tensors: TensorReport[] }
  | { readonly verdict: 'rejected'; readonly violations: Violation[]; readonly tensors: TensorReport[] };

export interface CertifyJob {
  readonly job: string;
  readonly base: ModelReader;
  readonly ft: ModelReader;
  readonly policy: Policy;
  readonly manifest: BaseManifest;
  readonly fanIn?: number;
  /**
   * Low-rank factors supplied with the job (a LoRA adapter, model/adapter.ts), by tensor name.
   * A `lowrank` tensor uses them when their rank is within the policy's and they meet its
   * residual bound; otherwise (or without them) its factors come from a truncated SVD of Δ.
   */
  readonly factors?: ReadonlyMap<string, RealFactors>;
  /** Where tiles are proven (default: in this thread, with `ctx`). */
  readonly prover?: BlockProver;
  /**
   * Most tiles per proving unit (default DEFAULT_UNIT_BLOCKS): consecutive norm, linf, lowrank
   * or hidden-sparse tiles of a tensor share one lockstep sumcheck and one set of openings
   * (classes/norm-unit.ts, lowrank-unit.ts, sparse-unit.ts); 1 proves every tile on its own.
   * Revealed-sparse and free tiles are always one record each.
   */
  readonly unitBlocks?: number;
}

/**
 * Default tiles per proving unit. A unit's opening costs one tile's MSMs instead of one per
 * tile; its memory is the unit's bit vectors (≈ ℓ bytes per weight) and, in the sumcheck,
 * ℓ/8 field elements per weight. 16 tiles of 2^16 weights keep a unit near 100 MiB while
 * leaving enough units per tensor to fill the proving threads.
 */
export const DEFAULT_UNIT_BLOCKS = 16;

/** The plan of a job: per-tensor classes and tiles, and tensor-set violations. */
export function planJob(N: number, job: Pick<CertifyJob, 'base' | 'ft' | 'policy' | 'manifest'>): { plans: TensorPlan[]; violations: Violation[] } {
  const { base, ft, policy, manifest } = job;
  if (manifest.fractionalBits !== policy.fractionalBits) throw new Error(`the base manifest quantizes with s = ${manifest.fractionalBits}, the policy with s = ${policy.fractionalBits}`);
  const baseInfo = new Map(manifest.tensors.map((t) => [t.name, t]));
  const resolved = resolvePolicy(
    policy,
    ft.tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype, ...(baseInfo.has(t.name) ? { baseL2: baseInfo.get(t.name)!.l2 } : {}) })),
  );
  const plan = planModel(base.tensors, ft.tensors, resolved, N);
  return { plans: [...plan.plans], violations: plan.violations.map((v) => ({ tensor: v.tensor, check: `tensors.${v.kind}`, detail: v.detail })) };
}

/**
 * The cheap checks of frozen tensors: raw-byte SHA-256 of the fine-tuned tensor against the
 * base manifest's. A changed tensor is a violation with the count and first location of changes.
 */
export async function checkFrozen(job: Pick<CertifyJob, 'base' | 'ft' | 'manifest'>, p: TensorPlan): Promise<{ result: TensorResult; report: TensorReport } | { violation: Violation; report: TensorReport }> {
  const bm = job.manifest.tensors.find((t) => t.name === p.name);
  const ftSha = await job.ft.tensorSha256(p.name);
  const baseSha = bm?.sha256 ?? '';
  if (ftSha === baseSha) {
    return { result: { kind: 'frozen', verdict: 'valid', name: p.name, baseSha256: baseSha, ftSha256: ftSha }, report: { name: p.name, class: 'frozen', verdict: 'accepted', blocks: 0 } };
  }
  const detail = await describeFrozenChange(job.base, job.ft, p);
  return { violation: { tensor: p.name, check: 'frozen', detail }, report: { name: p.name, class: 'frozen', verdict: 'rejected', blocks: 0, reason: detail } };
}

/** Reports for the tensors left unproven when the cheap checks already rejected the job. */
export function unprovenReports(plans: readonly TensorPlan[]): TensorReport[] {
  return plans.filter((p) => p.class !== 'frozen').map((p) => ({ name: p.name, class: p.class, verdict: 'rejected' as const, blocks: 0, reason: 'not proven: the job failed its tensor-set or frozen checks' }));
}

/** Everything from plan to self-verified certificate (or the rejection with its reasons). */
export async function certifyFineTune(ctx: ProverContext, job: CertifyJob, progress: StepProgress = noProgress): Promise<CertifyOutcome> {
  const { manifest } = job;
  const s = job.policy.fractionalBits;
  if (manifest.srs.id !== ctx.srs.id) throw new Error(`the base manifest was committed under SRS ${manifest.srs.id}, this job uses ${ctx.srs.id}`);
  const baseInfo = new Map(manifest.tensors.map((t) => [t.name, t]));
  const { plans, violations } = planJob(ctx.srs.N, job);
  const reports: TensorReport[] = [];
  const frozen: TensorResult[] = [];
  const totalBlocks = plans.reduce((a, p) => a + Math.max(1, p.tiles.length), 0);
  let doneBlocks = 0;

  // Cheap checks first (tensor set, frozen hashes): a job that fails them is rejected
  // without spending any proving time.
  for (const p of plans) {
    if (p.class !== 'frozen') continue;
    const r = await checkFrozen(job, p);
    if ('violation' in r) violations.push(r.violation);
    else frozen.push(r.result);
    reports.push(r.report);
    progress('prove', ++doneBlocks, totalBlocks, p.name);
  }
  if (violations.length > 0) return { verdict: 'rejected', violations, tensors: [...reports, ...unprovenReports(plans)] };

  const prover = job.prover ?? inlineProver(ctx);
  const toProve = plans.filter((p) => p.class !== 'frozen');
  const outcomes = new Array<TensorOutcome>(toProve.length);
  const window = new Window(tensorWindow(prover));
  for (const [i, p] of toProve.entries()) {
    await window.add(
      proveTensor(ctx, prover, job, p, baseInfo.get(p.name), s, () => progress('prove', ++doneBlocks, totalBlocks, p.name)).then((o) => {
        outcomes[i] = o;
      }),
    );
  }
  await window.drain();
  const blocks: ProofRecord[] = [];
  for (const [i, p] of toProve.entries()) {
    const outcome = outcomes[i]!;
    if ('violation' in outcome) {
      violations.push(outcome.violation);
      reports.push({ name: p.name, class: p.class, verdict: 'rejected', blocks: p.tiles.length, reason: outcome.violation.detail });
      continue;
    }
    blocks.push(...outcome.blocks);
    reports.push({ name: p.name, class: p.class, verdict: 'accepted', blocks: blockCount(outcome.blocks), measured: outcome.measured });
  }
  if (violations.length > 0) return { verdict: 'rejected', violations, tensors: reports };

  progress('aggregate', 0, 1);
  const certificate = await sealAndVerify(ctx, job, plans, frozen, blocks);
  return { verdict: 'accepted', certificate, tensors: reports };
}

/**
 * Aggregate the blocks (every block re-checked, the tree folded), seal the certificate and
 * verify it as a registry would (reusing that aggregation: one pass over the blocks). `blocks`
 * in plan order; `frozen` the frozen tensors' results.
 */
export async function sealAndVerify(
  ctx: ProverContext,
  job: Pick<CertifyJob, 'job' | 'ft' | 'policy' | 'manifest' | 'fanIn'>,
  plans: readonly TensorPlan[],
  frozen: readonly TensorResult[],
  blocks: readonly ProofRecord[],
): Promise<Certificate> {
  const { ft, manifest, policy } = job;
  // One pass over the blocks (every block re-checked, the tree folded); its result (N+1
  // points, the root, per-tensor totals — no per-block accumulators) is the certificate's,
  // and the self-verification below reuses it for these same block records instead of a
  // second pass (`PriorAggregate`); every other check of the registry's verifier still runs.
  const fanIn = job.fanIn ?? 16;
  const agg = aggregateBlocks(ctx.srs, blocks, fanIn);
  if (!agg.ok) throw new Error(`aggregation rejected block ${agg.failing.index} (${agg.failing.tensor}): ${agg.failing.reason}`);
  const { accumulator, root, tensors: aggregates } = agg;
  const proven = new Map(aggregates.map((a) => [a.tensor, provenTensorResult(a)]));
  const results: TensorResult[] = [...frozen];
  for (const p of plans) if (p.class !== 'frozen') results.push(proven.get(p.name)!);
  const order = new Map(ft.tensors.map((t, i) => [t.name, i]));
  results.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  const certificate = sealCertificate({
    version: 1,
    job: job.job,
    baseManifestDigest: manifestDigest(manifest),
    policyDigest: policyDigest(policy),
    fineTunedFiles: await ft.files(),
    srs: { id: ctx.srs.id, kind: ctx.srs.kind, N: ctx.srs.N },
    fractionalBits: policy.fractionalBits,
    tensors: results,
    fanIn,
    blocks: [...blocks],
    accumulator,
    root,
  });
  const check = verifyCertificate(ctx.srs, certificate, { baseManifestDigest: manifestDigest(manifest), baseTensors: manifestExpectations(manifest) }, { blocks, fanIn, result: agg });
  if (!check.valid) throw new Error(`the certificate failed its own verification: ${check.reason}`);
  return certificate;
}

async function describeFrozenChange(base: ModelReader, ft: ModelReader, p: TensorPlan): Promise<string> {
  if (!FLOAT_DTYPES.includes(p.dtype)) return `frozen tensor ${p.name} changed (raw bytes differ)`;
  const a = await base.readValues(p.name);
  const b = await ft.readValues(p.name);
  let count = 0;
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) {
      count++;
      if (first < 0) first = i;
    }
  }
  return count === 0
    ? `frozen tensor ${p.name} changed: raw bytes differ (values equal as numbers, e.g. −0 vs 0)`
    : `frozen tensor ${p.name} changed: ${count} of ${a.length} entries differ, first at flat index ${first} (${a[first]} → ${b[first]})`;
}

type TensorOutcome = { blocks: ProofRecord[]; measured: Record<string, string | number> } | { violation: Violation };

async function proveTensor(
  ctx: ProverContext,
  prover: BlockProver,
  job: CertifyJob,
  p: TensorPlan,
  bm: ManifestTensor | undefined,
  s: number,
  tick: () => void,
): Promise<TensorOutcome> {
  const prepared = await prepareTensor(ctx, job, p, bm, s);
  if ('violation' in prepared) return prepared;
  const units = groupUnits(prepared.works, job.unitBlocks ?? DEFAULT_UNIT_BLOCKS);
  const tasks = units.map((unit) =>
    prover.prove(unit).then((r) => {
      for (let k = 0; k < unit.length; k++) tick();
      return r;
    }),
  );
  // Every unit is proven (or refused) before the tensor's verdict: the first refusal in tile
  // order is the one reported; any other error fails the job.
  const settled = await Promise.allSettled(tasks);
  const blocks: ProofRecord[] = [];
  for (const [k, r] of settled.entries()) {
    if (r.status === 'fulfilled') {
      blocks.push(r.value);
      continue;
    }
    const v = blockViolation(p.name, units[k]![0]!.input.blockIndex, r.reason);
    if (v) return { violation: v };
    throw r.reason;
  }
  return { blocks, measured: prepared.measured };
}

/**
 * A tile's DriftPolicyViolation as the job's violation record; null for any other error.
 * `block` is the unit's first block; the violation's own block, when it names one, wins.
 */
export function blockViolation(tensor: string, unitBlock: number, e: unknown): Violation | null {
  if (!(e instanceof DriftPolicyViolation)) return null;
  const block = e.block ?? unitBlock;
  return { tensor, block, check: e.check, measured: e.measured, bound: e.bound, detail: `tensor ${tensor}, block ${block}: ${e.message}` };
}

/**
 * shard + factor for one tensor: quantize both sides, Δ, the tensor-level bounds, low-rank
 * factors and C_B, and the work of every tile (Δ tile, C_base from the manifest, factors).
 */
export async function prepareTensor(
  ctx: ProverContext,
  job: Pick<CertifyJob, 'job' | 'base' | 'ft' | 'factors'>,
  p: TensorPlan,
  bm: ManifestTensor | undefined,
  s: number,
): Promise<{ works: TileWork[]; measured: Record<string, string | number> } | { violation: Violation }> {
  const ftVals = await job.ft.readValues(p.name);
  const qFt = quantize(ftVals, s, { file: job.ft.label, tensor: p.name, startIndex: 0 });
  const qBase = p.added ? new Float64Array(qFt.length) : quantize(await job.base.readValues(p.name), s, { file: job.base.label, tensor: p.name, startIndex: 0 });
  const delta = new Float64Array(qFt.length);
  for (let i = 0; i < delta.length; i++) delta[i] = qFt[i]! - qBase[i]!;
  const drift = p.drift!;
  const tensorLevel = tensorLevelViolation(p, delta, s);
  if (tensorLevel) return { violation: tensorLevel };
  let lowrank: { A: bigint[]; B: bigint[]; cB: import('../smdp/field.ts').G1Point; kappa: number } | undefined;
  const measured: Record<string, string | number> = {};
  if (drift.class === 'lowrank') {
    const quantizeOptions = { fractionalBits: s, factorBitsA: drift.factorBitsA, factorBitsB: drift.factorBitsB, paddedCols: 2 ** p.tiles[0]!.muCols, tensor: p.name };
    const supplied = job.factors?.get(p.name);
    let q: QuantizedFactors | undefined;
    if (supplied !== undefined && supplied.rank <= drift.rank) {
      const fromAdapter = quantizeFactors(padRank(supplied, drift.rank), delta, quantizeOptions);
      const miss = residualExcess(fromAdapter, drift.residual);
      if (miss === null) {
        q = fromAdapter;
        measured.factors = 'adapter';
      } else {
        measured.factors = `svd (the adapter's factors leave ${miss.measured} > ${miss.bound})`;
      }
    } else if (supplied !== undefined) {
      measured.factors = `svd (the adapter's rank ${supplied.rank} is above the policy's ${drift.rank})`;
    } else {
      measured.factors = 'svd';
    }
    q ??= lowRankFactorsFromDelta(delta, p.rows, p.cols, drift.rank, quantizeOptions);
    const res = residualExcess(q, drift.residual);
    if (res) return { violation: { tensor: p.name, check: 'lowrank.residual', ...res, detail: `tensor ${p.name} is not within rank ${drift.rank} plus its residual bound: ${res.measured} > ${res.bound}` } };
    const cB = await commitFactorB(ctx, q.B, q.kappa, p.tiles[0]!.muCols);
    lowrank = { A: q.A, B: q.B, cB, kappa: q.kappa };
    measured.rank = drift.rank;
    measured.residualMaxAbs = q.residualMaxAbs.toString();
  }
  const works: TileWork[] = [];
  for (let k = 0; k < p.tiles.length; k++) {
    const tile = p.tiles[k]!;
    const mt = bm?.tiles[k];
    const sameTile = mt !== undefined && mt.rowOffset === tile.rowOffset && mt.colOffset === tile.colOffset && mt.muRows === tile.muRows && mt.muCols === tile.muCols;
    if (!p.added && !sameTile) {
      throw new Error(`tensor ${p.name}: the policy's tiling of block ${k} differs from the base manifest's; re-commit the base with this policy's tiling`);
    }
    // An added (free) tensor has no base: C_base is the commitment of zeros, the identity.
    const cBase = p.added || !mt ? G1.ZERO : mt.commitment;
    // Δ stays a Float64Array of exact integers until a prover takes the tile (proveBlock): a
    // tile in flight costs 8 bytes per weight and travels to a proving thread as one copy,
    // not as 2^μ bigints built here and cloned one by one.
    const d = gatherTile(delta, p.shape, tile);
    const input = {
      srsId: ctx.srs.id,
      job: job.job,
      tensor: p.name,
      blockIndex: k,
      tensorShape: p.shape,
      tile,
      fractionalBits: s,
      drift,
      cBase,
    };
    const work = lowrank
      ? { input, delta: d, lowrank: { A: factorTile({ A: lowrank.A, rows: p.rows, kappa: lowrank.kappa }, tile.rowOffset, 2 ** tile.muRows), B: lowrank.B, cB: lowrank.cB } }
      : { input, delta: d };
    works.push(work);
  }
  return { works, measured };
}

type Residual = Extract<NonNullable<TensorPlan['drift']>, { class: 'lowrank' }>['residual'];

/** The residual of quantized factors against the policy's residual bound: null when within. */
function residualExcess(q: QuantizedFactors, r: Residual): { measured: string; bound: string } | null {
  switch (r.kind) {
    case 'none':
      return q.residualNonzeros > 0 ? { measured: `${q.residualNonzeros} nonzero residual entries, max |E| = ${q.residualMaxAbs}`, bound: '0' } : null;
    case 'linf':
      return q.residualMaxAbs > r.maxAbs ? { measured: `max |E| = ${q.residualMaxAbs}`, bound: `${r.maxAbs}` } : null;
    case 'l2':
      return q.residualSquaredNorm > r.maxSquaredNorm ? { measured: `Σ E² = ${q.residualSquaredNorm}`, bound: `${r.maxSquaredNorm}` } : null;
  }
}

/** Factors of rank k as factors of rank `rank` ≥ k: zero columns of A, zero rows of B. */
function padRank(f: RealFactors, rank: number): RealFactors {
  if (f.rank === rank) return f;
  const A = new Float64Array(f.rows * rank);
  for (let i = 0; i < f.rows; i++) A.set(f.A.subarray(i * f.rank, (i + 1) * f.rank), i * rank);
  const B = new Float64Array(rank * f.cols);
  B.set(f.B);
  return { rows: f.rows, cols: f.cols, rank, A, B };
}

/**
 * Tensor-level bounds checked before any proof (the aggregator checks them again): Σ Δ² ≤ T
 * for norm, |supp Δ| ≤ k for sparse, max |Δ| ≤ B for linf. Measured values are also given in
 * real units (quantized / 2^s).
 */
function tensorLevelViolation(p: TensorPlan, delta: Float64Array, s: number): Violation | null {
  const d = p.drift!;
  const scale = 2 ** s;
  if (d.class === 'norm') {
    const S = exactSquareSum(delta);
    if (S > d.maxSquaredNorm) {
      const real = Math.sqrt(Number(S)) / scale;
      const bound = Math.sqrt(Number(d.maxSquaredNorm)) / scale;
      return { tensor: p.name, check: 'norm.l2', measured: `‖Δ‖₂ = ${real.toPrecision(6)}`, bound: `${bound.toPrecision(6)}`, detail: `tensor ${p.name}: ‖Δ‖₂ = ${real.toPrecision(6)} exceeds the bound ${bound.toPrecision(6)} (quantized Σ Δ² = ${S} > ${d.maxSquaredNorm})` };
    }
  }
  if (d.class === 'linf') {
    let m = 0;
    let at = -1;
    delta.forEach((x, i) => {
      if (Math.abs(x) > m) {
        m = Math.abs(x);
        at = i;
      }
    });
    if (BigInt(m) > d.maxAbs) {
      return { tensor: p.name, check: 'linf', measured: `|Δ[${at}]| = ${(m / scale).toPrecision(6)}`, bound: `${(Number(d.maxAbs) / scale).toPrecision(6)}`, detail: `tensor ${p.name}: |Δ| = ${(m / scale).toPrecision(6)} at flat index ${at} exceeds the bound ${(Number(d.maxAbs) / scale).toPrecision(6)}` };
    }
  }
  if (d.class === 'sparse') {
    let nz = 0;
    for (const x of delta) if (x !== 0) nz++;
    if (nz > d.maxNonzeros) return { tensor: p.name, check: 'sparse.nonzeros', measured: `${nz}`, bound: `${d.maxNonzeros}`, detail: `tensor ${p.name}: ${nz} entries changed, the policy allows ${d.maxNonzeros}` };
  }
  return null;
}

/** A stable job id from the inputs (used when the caller gives none). */
export function jobIdFor(parts: readonly string[]): string {
  return 'job-' + bytesToHex(sha256(new TextEncoder().encode(parts.join('\n')))).slice(0, 16);
}
