/**
 * MSM benchmarks: smdp/msm.ts against noble's reference `pippenger` on the same points and
 * scalars (our signed small scalars embedded into Fr with `frSigned`). Every comparison also
 * checks that both sides return the same point and throws if not.
 *
 *   commit (small-scalar MSM): 32-bit signed weights, the multilinear-KZG commitment shape.
 *   subset sum:                random 0/1 bits, against noble's sequential `.add` loop.
 *   full-scalar MSM:           uniform scalars in [0, r).
 */
import { pippenger } from '@noble/curves/abstract/curve.js';
import { G1, R, frSigned, g1BatchAffine } from '../smdp/field.ts';
import type { G1Affine, G1Point } from '../smdp/field.ts';
import { msmFull, msmSmall, subsetSum } from '../smdp/msm.ts';
import { seededBytes, seededInts, timeMs } from './harness.ts';
import type { BenchOptions, Reporter } from './harness.ts';

/** Weights of the commitment benchmark: signed 32-bit, as for quantised model deltas. */
const COMMIT_WEIGHT_BITS = 32;

interface PointSet {
  readonly affine: G1Affine[];
  /** The same points as noble projective points (noble's pippenger takes these). */
  readonly projective: G1Point[];
}

/**
 * n distinct points P_i = A + i·Q (distinct since Q has prime order r > n), built with one
 * projective addition each and normalised with a single batch inversion.
 */
function buildPoints(n: number): PointSet {
  const q = G1.BASE.multiply(0x5eed0f4d57a71n);
  const projective: G1Point[] = new Array<G1Point>(n);
  let p = G1.BASE.multiply(0x243f6a8885a308d3n);
  for (let i = 0; i < n; i++) {
    projective[i] = p;
    p = p.add(q);
  }
  const affine = g1BatchAffine(projective);
  return { affine, projective: affine.map((a) => G1.fromAffine(a)) };
}

/** Deterministic uniform scalars in [0, r) (320 random bits reduced mod r: bias < 2^-65). */
function seededFullScalars(seed: string, n: number): bigint[] {
  const bytes = seededBytes(seed, n * 40);
  const out: bigint[] = new Array<bigint>(n);
  for (let i = 0; i < n; i++) {
    let v = 0n;
    for (let j = 0; j < 40; j++) v = (v << 8n) | BigInt(bytes[i * 40 + j]!);
    out[i] = v % R;
  }
  return out;
}

function assertSame(what: string, ours: G1Point, reference: G1Point): void {
  if (!ours.equals(reference)) throw new Error(`bench/msm: ${what}: result differs from the reference`);
}

const pow2 = (k: number): number => 2 ** k;

export async function run(opts: BenchOptions, report: Reporter): Promise<void> {
  const smoke = (opts as { smoke?: boolean }).smoke === true;
  const commitSizes = (smoke ? [8, 10] : opts.quick ? [10, 12, 14, 16] : [10, 11, 12, 13, 14, 15, 16]).map(pow2);
  const largeSizes = opts.large ? [17, 18].map(pow2) : [];
  const fullSizes = (smoke ? [8] : opts.quick ? [10, 12] : [10, 12, 14, 16]).map(pow2);
  const maxN = Math.max(...commitSizes, ...largeSizes, ...fullSizes);
  const all = buildPoints(maxN);
  const slice = (n: number): PointSet => ({ affine: all.affine.slice(0, n), projective: all.projective.slice(0, n) });
  const reps = (n: number): number => (n <= 4096 ? 5 : n <= 16384 ? 2 : 1);

  // Warm the JIT on a small input first, so the smallest size does not time compilation.
  const warm = slice(256);
  const warmWeights = seededInts('msm.warmup', 256, COMMIT_WEIGHT_BITS);
  for (let i = 0; i < 3; i++) {
    msmSmall(warm.affine, warmWeights);
    subsetSum(warm.affine, Array.from(warmWeights, (w) => w & 1));
    msmFull(warm.affine, seededFullScalars('msm.warmup', 256));
  }

  // Commitments: C = Σ v_b·L[b] with small signed weights.
  const commitRows: (string | number)[][] = [];
  for (const n of [...commitSizes, ...largeSizes]) {
    const { affine, projective } = slice(n);
    const weights = seededInts(`msm.commit/${n}`, n, COMMIT_WEIGHT_BITS);
    let ours: G1Point = G1.ZERO;
    const oursMs = await timeMs(() => (ours = msmSmall(affine, weights)), reps(n));
    const weightsPerS = n / (oursMs / 1000);
    report.record(`msm.commit_weights_per_s.n${n}`, 'weights/s', weightsPerS);
    if (largeSizes.includes(n)) {
      commitRows.push([n, oursMs, '–', weightsPerS, '–']);
      continue;
    }
    const embedded = Array.from(weights, (w) => frSigned(w));
    let reference: G1Point = G1.ZERO;
    const nobleMs = await timeMs(() => (reference = pippenger(G1, projective, embedded)), 1);
    assertSame(`msmSmall n=${n}`, ours, reference);
    const speedup = nobleMs / oursMs;
    report.record(`msm.commit_speedup_vs_noble.n${n}`, 'x', speedup);
    commitRows.push([n, oursMs, nobleMs, weightsPerS, speedup]);
  }
  report.table(
    `commit (small-scalar MSM, ${COMMIT_WEIGHT_BITS}-bit signed weights)`,
    ['n', 'ours ms', 'noble ms', 'weights/s ours', 'speedup'],
    commitRows,
  );

  // Subset sums of random bits; the natural baseline is adding the selected points one by one.
  const subsetRows: (string | number)[][] = [];
  for (const n of [...commitSizes, ...largeSizes]) {
    const { affine, projective } = slice(n);
    const bits = Uint8Array.from(seededBytes(`msm.subset/${n}`, n), (b) => b & 1);
    let ours: G1Point = G1.ZERO;
    const oursMs = await timeMs(() => (ours = subsetSum(affine, bits)), reps(n));
    let reference: G1Point = G1.ZERO;
    const nobleMs = await timeMs(() => {
      let acc = G1.ZERO;
      for (let i = 0; i < n; i++) if (bits[i] === 1) acc = acc.add(projective[i]!);
      reference = acc;
    }, 1);
    assertSame(`subsetSum n=${n}`, ours, reference);
    const speedup = nobleMs / oursMs;
    report.record(`msm.subset_points_per_s.n${n}`, 'points/s', n / (oursMs / 1000));
    report.record(`msm.subset_speedup_vs_noble_adds.n${n}`, 'x', speedup);
    subsetRows.push([n, oursMs, nobleMs, n / (oursMs / 1000), speedup]);
  }
  report.table(
    'subset sum (random bits; noble = sequential projective .add)',
    ['n', 'ours ms', 'noble ms', 'points/s ours', 'speedup'],
    subsetRows,
  );

  // Full scalars in [0, r).
  const fullRows: (string | number)[][] = [];
  for (const n of fullSizes) {
    const { affine, projective } = slice(n);
    const scalars = seededFullScalars(`msm.full/${n}`, n);
    let ours: G1Point = G1.ZERO;
    const oursMs = await timeMs(() => (ours = msmFull(affine, scalars)), reps(n));
    let reference: G1Point = G1.ZERO;
    const nobleMs = await timeMs(() => (reference = pippenger(G1, projective, scalars)), 1);
    assertSame(`msmFull n=${n}`, ours, reference);
    const speedup = nobleMs / oursMs;
    report.record(`msm.full_speedup_vs_noble.n${n}`, 'x', speedup);
    fullRows.push([n, oursMs, nobleMs, n / (oursMs / 1000), speedup]);
  }
  report.table('full-scalar MSM (uniform in [0, r))', ['n', 'ours ms', 'noble ms', 'scalars/s ours', 'speedup'], fullRows);
}
