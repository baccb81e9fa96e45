/**
 * Per-class prove / verify time and proof size for one block of 2^μ weights, and the
 * block verify time that the issue targets (`verify.block_ms.mu16`: decode + all checks +
 * the one multi-pairing of a one-block certificate).
 */
import { pairingCheck } from '../smdp/accumulator.ts';
import type { BlockCheck } from '../smdp/classes/common.ts';
import type { G1Point } from '../smdp/field.ts';
import { selectBackend } from '../native/loader.ts';
import { commitSmall, type ProverContext } from '../smdp/pst.ts';
import type { Srs } from '../smdp/srs.ts';
import type { BlockStatement, DriftSpec } from '../smdp/statement.ts';
import { Reporter, seededInts, timeMs, type BenchOptions } from './harness.ts';
import { cachedDevSrs } from './srs-cache.ts';
import { blockClasses, type BenchClass } from './class-table.ts';

export interface BlockFixture {
  readonly input: Omit<BlockStatement, 'cFt'>;
  readonly delta: bigint[];
}

export async function blockFixture(ctx: ProverContext, srs: Srs, mu: number, drift: DriftSpec, deltaBits: number, seed: string, blockIndex = 0): Promise<BlockFixture> {
  const n = 1 << mu;
  const base = seededInts(`${seed}/base`, n, 28);
  const cBase: G1Point = await commitSmall(ctx, base);
  const delta = Array.from(seededInts(`${seed}/delta`, n, deltaBits), (x) => BigInt(x));
  const muCols = Math.min(mu, Math.ceil(mu / 2));
  const input = {
    srsId: srs.id,
    job: 'bench-job',
    tensor: 'layers.0.mlp.weight',
    blockIndex,
    tensorShape: [1 << (mu - muCols), 1 << muCols],
    tile: { rowOffset: 0, colOffset: 0, muRows: mu - muCols, muCols },
    fractionalBits: 24,
    drift,
    cBase,
  };
  return { input, delta };
}

export async function run(opts: BenchOptions & { smoke?: boolean }, report: Reporter): Promise<void> {
  const sizes = opts.smoke ? [6] : opts.quick ? [10, 16] : opts.large ? [10, 12, 14, 16, 18] : [10, 12, 14, 16];
  const N = Math.max(...sizes);
  const srs = cachedDevSrs(N);
  const ctx: ProverContext = { srs, msm: selectBackend().msm };
  const rows: (string | number)[][] = [];
  for (const mu of sizes) {
    for (const cls of blockClasses) {
      if (opts.quick && !cls.quick && mu > 10) continue;
      const fx = await cls.fixture(ctx, srs, mu);
      let out: { statement: BlockStatement; proofBytes: Uint8Array } | undefined;
      const proveMs = await timeMs(async () => {
        out = await cls.prove(ctx, fx);
      });
      const { statement, proofBytes } = out!;
      let check: BlockCheck | undefined;
      let ok = false;
      const verifyMs = await timeMs(() => {
        check = cls.verify(srs, statement, proofBytes);
        ok = check.valid && (check.accumulator === null || pairingCheck(srs, check.accumulator.evaluate()));
      }, 2);
      if (!ok) throw new Error(`bench: ${cls.name} at μ=${mu} did not verify: ${check && !check.valid ? check.reason : 'pairing'}`);
      rows.push([cls.name, mu, 1 << mu, proveMs / 1000, ((1 << mu) / proveMs) * 1000, verifyMs, proofBytes.length]);
      report.record(`prove.${cls.name}.s.mu${mu}`, 's', proveMs / 1000);
      report.record(`verify.${cls.name}.ms.mu${mu}`, 'ms', verifyMs);
      report.record(`proof.${cls.name}.bytes.mu${mu}`, 'bytes', proofBytes.length);
      if (cls.name === cls.headline) report.record(`verify.block_ms.mu${mu}`, 'ms', verifyMs);
    }
  }
  report.table('prove / verify per class (one block; verify = decode + checks + pairing)', ['class', 'μ', 'weights', 'prove s', 'weights/s', 'verify ms', 'proof bytes'], rows);
}

export type { BenchClass };
