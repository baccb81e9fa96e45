/**
 * Native backend benchmarks (native/, blst through napi-rs), every comparison on identical
 * inputs in the same run, every result checked against the others:
 *
 *   commit (small-scalar MSM, 32-bit signed weights): native vs smdp/msm.ts (JS) vs noble's
 *     `pippenger` (weights embedded in Fr) vs ffjavascript's WASM `G1.multiExpAffine` (given
 *     its best case: magnitudes of ⌈33/8⌉ bytes with pre-negated points, all its threads);
 *   full-scalar MSM (uniform in [0, r)): native `msmFull` (bigint conversion included) vs
 *     blst's own pippenger (`p1_affines::mult`, 255 bits) on the same bytes;
 *   subset sum (random bits): native vs JS;
 *   verify one block (norm class, μ = 16): native curve ops vs JS, same proof.
 *
 * "per core" figures divide by the CPU time the process used (all threads), not wall time:
 * the machine is shared and the native MSM runs on all cores.
 */
import { cpus } from 'node:os';
import { pippenger } from '@noble/curves/abstract/curve.js';
import { buildBls12381 } from 'ffjavascript';
import { nativeCurveOps, nativeMsmBackend, type NativeAddon } from '../native/backend.ts';
import { loadAddon } from '../native/loader.ts';
import { pairingCheck } from '../smdp/accumulator.ts';
import { decodeNormProof, encodeNormProof, proveNormBound, verifyNormBound } from '../smdp/classes/norm.ts';
import { jsCurveOps, useCurveOps } from '../smdp/curve-ops.ts';
import { G1, R, frSigned, g1BatchAffine, type G1Affine, type G1Point } from '../smdp/field.ts';
import { msmSmall, subsetSum } from '../smdp/msm.ts';
import type { ProverContext } from '../smdp/pst.ts';
import { blockFixture } from './classes.ts';
import { seededBytes, seededInts, type BenchOptions, type Reporter } from './harness.ts';
import { cachedDevSrs } from './srs-cache.ts';

const COMMIT_WEIGHT_BITS = 32;
const pow2 = (k: number): number => 2 ** k;

interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Best-of-`reps` wall time, with the process CPU time (all threads) of that run. */
async function timed(fn: () => unknown, reps = 1): Promise<Timing> {
  let best: Timing = { wallMs: Infinity, cpuMs: Infinity };
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const wallMs = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (wallMs < best.wallMs) best = { wallMs, cpuMs: (c.user + c.system) / 1000 };
  }
  return best;
}

/** n distinct points A + i·Q (noble projective additions, one batch inversion). */
function buildPoints(n: number): G1Affine[] {
  const q = G1.BASE.multiply(0x5eed0f4d57a71n);
  const proj = new Array<G1Point>(n);
  let p = G1.BASE.multiply(0x243f6a8885a308d3n);
  for (let i = 0; i < n; i++) {
    proj[i] = p;
    p = p.add(q);
  }
  return g1BatchAffine(proj);
}

function seededFullScalars(seed: string, n: number): bigint[] {
  const bytes = seededBytes(seed, n * 40);
  const out = new Array<bigint>(n);
  for (let i = 0; i < n; i++) {
    let v = 0n;
    for (let j = 0; j < 40; j++) v = (v << 8n) | BigInt(bytes[i * 40 + j]!);
    out[i] = v % R;
  }
  return out;
}

function assertSame(what: string, a: G1Point, b: G1Point): void {
  if (!a.equals(b)) throw new Error(`bench/native: ${what}: results differ`);
}

function fpBytes(x: bigint): Buffer {
  return Buffer.from(x.toString(16).padStart(96, '0'), 'hex');
}

/** ffjavascript's curve, its bases (affine, little-endian Montgomery) and result decoding. */
interface Ffjs {
  readonly curve: Awaited<ReturnType<typeof buildBls12381>>;
  bases(points: readonly G1Affine[], negate: (i: number) => boolean): Uint8Array;
  point(res: Uint8Array): G1Point;
}

async function loadFfjs(): Promise<Ffjs> {
  const curve = await buildBls12381();
  const G = curve.G1;
  return {
    curve,
    bases(points, negate) {
      const out = new Uint8Array(points.length * 96);
      const buf = Buffer.alloc(96);
      points.forEach((p, i) => {
        const y = negate(i) ? G1.fromAffine(p).negate().toAffine().y : p.y;
        fpBytes(p.x).copy(buf, 0);
        fpBytes(y).copy(buf, 48);
        out.set(G.fromRprUncompressed(buf, 0), i * 96);
      });
      return out;
    },
    point(res) {
      const u = G.toUncompressed(res);
      if (G.isZero(res)) return G1.ZERO;
      return G1.fromAffine({ x: BigInt('0x' + Buffer.from(u.subarray(0, 48)).toString('hex')), y: BigInt('0x' + Buffer.from(u.subarray(48, 96)).toString('hex')) });
    },
  };
}

/** Little-endian magnitudes of `bytes` bytes each. */
function magnitudes(values: ArrayLike<number>, bytes: number): Uint8Array {
  const out = new Uint8Array(values.length * bytes);
  for (let i = 0; i < values.length; i++) {
    let m = Math.abs(values[i]!);
    for (let k = 0; k < bytes; k++) {
      out[i * bytes + k] = m % 256;
      m = Math.floor(m / 256);
    }
  }
  return out;
}

function le32(scalars: readonly bigint[]): Uint8Array {
  const out = Buffer.alloc(scalars.length * 32);
  scalars.forEach((s, i) => {
    out.write(s.toString(16).padStart(64, '0'), i * 32, 32, 'hex');
    out.subarray(i * 32, i * 32 + 32).reverse();
  });
  return out;
}

export async function run(opts: BenchOptions & { smoke?: boolean }, report: Reporter): Promise<void> {
  const loaded = loadAddon();
  if ('reason' in loaded) {
    process.stdout.write(`\n### native backend\n\nskipped: ${loaded.reason}\n`);
    return;
  }
  const addon: NativeAddon = loaded.addon;
  const native = nativeMsmBackend(addon);
  const smoke = opts.smoke === true;
  const cores = cpus().length;

  const compareSizes = (smoke ? [8, 10] : opts.quick ? [12, 14, 16] : [12, 13, 14, 15, 16]).map(pow2);
  // The per-core headline: 2^20 weights (2^16 with --quick, 2^10 with --smoke).
  const headlineN = smoke ? pow2(10) : opts.quick ? pow2(16) : pow2(20);
  const largeSizes = opts.large ? [18, 20].map(pow2) : [];
  const nativeOnly = [...new Set([...largeSizes, headlineN])].filter((n) => !compareSizes.includes(n)).sort((a, b) => a - b);
  const fullSizes = (smoke ? [10] : opts.large ? [16, 20] : [16]).map(pow2);
  const maxN = Math.max(...compareSizes, ...nativeOnly, ...fullSizes);
  const t0 = performance.now();
  const all = buildPoints(maxN);
  process.stderr.write(`[native] ${maxN} points built in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  const load = await timed(() => native.cache.locate('msmSmall', all));
  report.record(`msm.native_basis_load_ms.n${maxN}`, 'ms', load.wallMs);

  const ffjs = await loadFfjs();
  try {
    // Commitments: every size uses a prefix slice of the loaded basis (served at offset 0).
    const rows: (string | number)[][] = [];
    for (const n of [...compareSizes, ...nativeOnly]) {
      const points = all.slice(0, n);
      const weights = seededInts(`native.commit/${n}`, n, COMMIT_WEIGHT_BITS);
      let ours: G1Point = G1.ZERO;
      await native.msmSmall(points, weights); // warm-up
      const nat = await timed(async () => (ours = await native.msmSmall(points, weights)), n <= 16384 ? 5 : 2);
      const perS = n / (nat.wallMs / 1000);
      const perCore = n / (nat.cpuMs / 1000);
      if (n === headlineN) report.record(`msm.commit_native_weights_per_s_per_core.n${n}`, 'weights/s/core', perCore);
      report.record(`msm.commit_native_weights_per_s.n${n}`, 'weights/s', perS);
      const ffjsWanted = compareSizes.includes(n) || (opts.large && n === pow2(20));
      let ffjsMs = NaN;
      if (ffjsWanted) {
        const nbytes = Math.ceil((COMMIT_WEIGHT_BITS + 1) / 8);
        const bases = ffjs.bases(points, (i) => weights[i]! < 0);
        const scalars = magnitudes(weights, nbytes);
        let res: Uint8Array = new Uint8Array();
        ffjsMs = (await timed(async () => (res = await ffjs.curve.G1.multiExpAffine(bases, scalars)))).wallMs;
        assertSame(`ffjavascript commit n=${n}`, ffjs.point(res), ours);
        report.record(`msm.commit_native_speedup_vs_ffjs.n${n}`, 'x', ffjsMs / nat.wallMs);
      }
      if (!compareSizes.includes(n)) {
        rows.push([n, nat.wallMs, perS, perCore, '–', '–', Number.isNaN(ffjsMs) ? '–' : ffjsMs, '–', Number.isNaN(ffjsMs) ? '–' : ffjsMs / nat.wallMs]);
        continue;
      }
      let js: G1Point = G1.ZERO;
      const jsMs = (await timed(() => (js = msmSmall(points, weights)))).wallMs;
      assertSame(`JS commit n=${n}`, js, ours);
      let noble: G1Point = G1.ZERO;
      const proj = points.map((p) => G1.fromAffine(p));
      const embedded = Array.from(weights, (w) => frSigned(w));
      const nobleMs = (await timed(() => (noble = pippenger(G1, proj, embedded)))).wallMs;
      assertSame(`noble commit n=${n}`, noble, ours);
      report.record(`msm.commit_native_speedup_vs_noble.n${n}`, 'x', nobleMs / nat.wallMs);
      report.record(`msm.commit_native_speedup_vs_js.n${n}`, 'x', jsMs / nat.wallMs);
      rows.push([n, nat.wallMs, perS, perCore, jsMs, nobleMs, ffjsMs, nobleMs / nat.wallMs, ffjsMs / nat.wallMs]);
    }
    report.table(
      `commit, native (blst, ${cores} cores) vs JS (msm.ts) vs noble pippenger vs ffjavascript (WASM, ${cores} threads); ${COMMIT_WEIGHT_BITS}-bit signed weights`,
      ['n', 'native ms', 'weights/s', 'weights/s/core', 'JS ms', 'noble ms', 'ffjs ms', 'vs noble', 'vs ffjs'],
      rows,
    );

    // Subset sums of random bits.
    const subsetRows: (string | number)[][] = [];
    for (const n of compareSizes) {
      const points = all.slice(0, n);
      const bits = Uint8Array.from(seededBytes(`native.subset/${n}`, n), (b) => b & 1);
      let ours: G1Point = G1.ZERO;
      const nat = await timed(async () => (ours = await native.subsetSum(points, bits)), 3);
      let js: G1Point = G1.ZERO;
      const jsMs = (await timed(() => (js = subsetSum(points, bits)))).wallMs;
      assertSame(`subset n=${n}`, js, ours);
      report.record(`msm.subset_native_points_per_s.n${n}`, 'points/s', n / (nat.wallMs / 1000));
      subsetRows.push([n, nat.wallMs, n / (nat.wallMs / 1000), jsMs, jsMs / nat.wallMs]);
    }
    report.table('subset sum (random bits), native vs JS', ['n', 'native ms', 'points/s', 'JS ms', 'speedup'], subsetRows);

    // Full scalars: our msmFull (with the bigint → bytes conversion) vs blst's pippenger.
    const fullRows: (string | number)[][] = [];
    for (const n of fullSizes) {
      const points = all.slice(0, n);
      const scalars = seededFullScalars(`native.full/${n}`, n);
      const at = native.cache.locate('msmFull', points);
      const bytes = le32(scalars);
      let ours: G1Point = G1.ZERO;
      const nat = await timed(async () => (ours = await native.msmFull(points, scalars)), 2);
      let blstOut: Uint8Array = new Uint8Array();
      const blst = await timed(() => (blstOut = addon.blstPippenger(at.basis, at.offset, n, bytes, 255)), 2);
      const ref = G1.fromAffine({ x: BigInt('0x' + Buffer.from(blstOut.subarray(0, 48)).toString('hex')), y: BigInt('0x' + Buffer.from(blstOut.subarray(48)).toString('hex')) });
      assertSame(`full n=${n}`, ours, ref);
      const ratio = nat.wallMs / blst.wallMs;
      report.record(`msm.full_native_vs_blst.n${n}`, 'x', ratio);
      report.record(`msm.full_native_scalars_per_s_per_core.n${n}`, 'scalars/s/core', n / (nat.cpuMs / 1000));
      report.record(`msm.full_blst_scalars_per_s_per_core.n${n}`, 'scalars/s/core', n / (blst.cpuMs / 1000));
      fullRows.push([n, nat.wallMs, n / (nat.cpuMs / 1000), blst.wallMs, n / (blst.cpuMs / 1000), ratio]);
    }
    report.table('full-scalar MSM (uniform in [0, r)): native msmFull vs blst pippenger (255 bits), same inputs', ['n', 'native ms', 'scalars/s/core', 'blst ms', 'blst scalars/s/core', 'native / blst'], fullRows);
  } finally {
    await ffjs.curve.terminate();
  }

  // Verify one block (norm, the headline class) with the native curve ops and with JS.
  const mu = smoke ? 6 : 16;
  const srs = cachedDevSrs(mu);
  const ctx: ProverContext = { srs, msm: native };
  const fx = await blockFixture(ctx, srs, mu, { class: 'norm', maxSquaredNorm: (1n << 20n) * BigInt(1 << mu) }, 11, `norm/${mu}/0`);
  const { statement, proof } = await proveNormBound(ctx, fx.input, fx.delta);
  const proofBytes = encodeNormProof(proof);
  const verifyWith = async (ops: typeof jsCurveOps): Promise<number> => {
    const previous = useCurveOps(ops);
    try {
      let ok = false;
      const t = await timed(() => {
        const check = verifyNormBound(srs.N, statement, decodeNormProof(proofBytes));
        ok = check.valid && (check.accumulator === null || pairingCheck(srs, check.accumulator.evaluate()));
      }, 3);
      if (!ok) throw new Error(`bench/native: the μ=${mu} norm block did not verify with ${ops.name}`);
      return t.wallMs;
    } finally {
      useCurveOps(previous);
    }
  };
  const nativeMs = await verifyWith(nativeCurveOps(addon));
  const jsMs = await verifyWith(jsCurveOps);
  report.record(`verify.block_ms.native.mu${mu}`, 'ms', nativeMs);
  report.record(`verify.block_ms.js.mu${mu}`, 'ms', jsMs);
  report.record(`verify.block_native_speedup.mu${mu}`, 'x', jsMs / nativeMs);
  report.table('verify one norm block (decode + checks + pairing), same proof', ['μ', 'native ms', 'JS ms', 'speedup'], [[mu, nativeMs, jsMs, jsMs / nativeMs]]);
}
