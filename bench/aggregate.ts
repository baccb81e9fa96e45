/**
 * Verify time of an aggregated certificate versus the number of blocks: B norm tiles of one
 * tensor, certificate sealed, encoded, then decoded + verified by `verifyCertificate`
 * (every record re-checked, tree re-folded, one multi-pairing). Records
 * `verify.aggregate_ratio.blocks64` = time(64 blocks) / time(1 block), same run, and
 * `verify.blocks{10,100,1000}_s` (wall) with `…_cpu_s` (process CPU time, all threads), for
 * certificates proven as `fti certify` proves them (units of up to 16 tiles); the same under
 * `verify.single_blocks.*` with every tile proven on its own.
 */
import { aggregateBlocks, type ProofRecord } from '../smdp/aggregate.ts';
import { DEFAULT_UNIT_BLOCKS } from '../activities/certify.ts';
import { groupUnits, proveUnit, type TileWork } from '../activities/prove-block.ts';
import { decodeCertificate, encodeCertificate, provenTensorResult, sealCertificate } from '../smdp/certificate.ts';
import { selectBackend } from '../native/loader.ts';
import { commitSmall, type ProverContext } from '../smdp/pst.ts';
import type { Srs } from '../smdp/srs.ts';
import { verifyCertificate } from '../smdp/verifier.ts';
import { Reporter, seededInts, timeMs, type BenchOptions } from './harness.ts';
import { cachedDevSrs } from './srs-cache.ts';

const HEX0 = '0'.repeat(64);

/**
 * A certificate of `blocks` norm tiles of one tensor, proven as `fti certify` proves them:
 * in units of up to `unitBlocks` tiles (`groupUnits`, `proveUnit`; 1 = every tile on its own).
 */
export async function certificateOf(ctx: ProverContext, srs: Srs, blocks: number, muRows: number, muCols: number, unitBlocks: number = DEFAULT_UNIT_BLOCKS): Promise<{ json: string; blob: Uint8Array }> {
  const n = 1 << (muRows + muCols);
  const perBlock = 1n << 20n;
  const drift = { class: 'norm', maxSquaredNorm: perBlock * BigInt(n) * BigInt(blocks) } as const;
  const works: TileWork[] = [];
  for (let b = 0; b < blocks; b++) {
    const base = seededInts(`agg/base/${b}`, n, 28);
    works.push({
      input: {
        srsId: srs.id,
        job: 'bench-aggregate',
        tensor: 'layers.0.mlp.down.weight',
        blockIndex: b,
        tensorShape: [blocks << muRows, 1 << muCols],
        tile: { rowOffset: b << muRows, colOffset: 0, muRows, muCols },
        fractionalBits: 24,
        drift,
        cBase: await commitSmall(ctx, base),
      },
      delta: Float64Array.from(seededInts(`agg/delta/${b}`, n, 11)),
    });
  }
  const records: ProofRecord[] = [];
  for (const unit of groupUnits(works, unitBlocks)) records.push(await proveUnit(ctx, unit));
  const agg = aggregateBlocks(srs, records);
  if (!agg.ok) throw new Error(`bench: aggregation failed: ${agg.failing.reason}`);
  const cert = sealCertificate({
    version: 1,
    job: 'bench-aggregate',
    baseManifestDigest: HEX0,
    policyDigest: HEX0,
    fineTunedFiles: [{ name: 'model.safetensors', sha256: HEX0 }],
    srs: { id: srs.id, kind: srs.kind, N: srs.N },
    fractionalBits: 24,
    tensors: agg.tensors.map(provenTensorResult),
    fanIn: 16,
    blocks: records,
    accumulator: agg.accumulator,
    root: agg.root,
  });
  return encodeCertificate(cert);
}

export async function run(opts: BenchOptions & { smoke?: boolean }, report: Reporter): Promise<void> {
  const [muRows, muCols] = opts.smoke ? [2, 2] : opts.quick ? [4, 4] : [5, 5];
  const N = Math.max(6, muRows + muCols);
  const srs = cachedDevSrs(N);
  const ctx: ProverContext = { srs, msm: selectBackend().msm };
  // 1 … 64: the aggregation ratio; 10, 100, 1000: the prover-speed issue's verify times
  // (--quick and --smoke leave those out: proving 1000 blocks takes a minute or two).
  const counts = opts.smoke || opts.quick ? [1, 4, 16, 64] : [1, 4, 10, 16, 64, 100, 1000];
  // Warm the verifier's code (JIT) first, so the 1-block time — the ratio's denominator — is a
  // steady-state figure like the others, not a first-run one.
  const warm = await certificateOf(ctx, srs, 4, muRows, muCols);
  for (let i = 0; i < (opts.smoke ? 2 : 20); i++) verifyCertificate(srs, decodeCertificate(warm.json, warm.blob));
  // Two provings of the same blocks: in units of up to DEFAULT_UNIT_BLOCKS tiles (what `fti
  // certify` and the pipeline produce; the records without a prefix) and every tile on its
  // own (`verify.single_blocks.*`).
  for (const [unitBlocks, prefix] of [
    [DEFAULT_UNIT_BLOCKS, 'verify'],
    [1, 'verify.single_blocks'],
  ] as const) {
    const rows: (string | number)[][] = [];
    let one = 0;
    for (const blocks of counts) {
      const { json, blob } = await certificateOf(ctx, srs, blocks, muRows, muCols, unitBlocks);
      let verdict = '';
      let cpuMs = Infinity;
      const ms = await timeMs(() => {
        const c0 = process.cpuUsage();
        const v = verifyCertificate(srs, decodeCertificate(json, blob));
        const c = process.cpuUsage(c0);
        cpuMs = Math.min(cpuMs, (c.user + c.system) / 1000);
        verdict = v.valid ? 'valid' : `rejected: ${v.reason}`;
      }, blocks >= 1000 ? 1 : blocks <= 64 ? 5 : 2);
      if (verdict !== 'valid') throw new Error(`bench: certificate of ${blocks} blocks: ${verdict}`);
      if (blocks === 1) one = ms;
      rows.push([blocks, Math.ceil(blocks / unitBlocks), muRows + muCols, ms, cpuMs, ms / blocks, ms / one, json.length + blob.length]);
      report.record(`${prefix}.aggregate_ms.blocks${blocks}`, 'ms', ms);
      report.record(`${prefix}.aggregate_ratio.blocks${blocks}`, 'x', ms / one);
      if (blocks === 10 || blocks === 100 || blocks === 1000) {
        report.record(`${prefix}.blocks${blocks}_s`, 's', ms / 1000);
        report.record(`${prefix}.blocks${blocks}_cpu_s`, 's', cpuMs / 1000);
      }
    }
    const how = unitBlocks === 1 ? 'every tile proven on its own' : `proven in units of up to ${unitBlocks} tiles, as fti certify does`;
    report.table(`aggregated certificate verify, ${how} (norm tiles of 2^${muRows + muCols} weights, SRS N = ${N}; CPU = all threads, the point decoding runs on every core)`, ['blocks', 'records', 'μ', 'verify ms', 'CPU ms', 'ms/block', '× one block', 'certificate bytes'], rows);
  }
}
