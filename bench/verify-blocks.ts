/**
 * Verify time of aggregated certificates of B norm tiles (2^10 weights each, SRS N = 10), on
 * the backend FTI_BACKEND selects (installed first: the verifier's curve ops follow it).
 * Certificates are built once by `certificateOf` (bench/aggregate.ts) and cached under
 * `.cache/certs`; each count is verified after a warm-up, best of `--reps`, wall time and the
 * process's CPU time (all threads). Pin it to one core with `taskset -c 0`.
 *
 * `--unit-blocks u` proves the certificates in units of up to u tiles (default 16, as `fti
 * certify` does; 1 = every tile on its own).
 *
 *   node --import tsx bench/verify-blocks.ts [counts, default 1,64,1000] [--reps n] [--unit-blocks u]
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installBackend } from '../native/loader.ts';
import { decodeCertificate } from '../smdp/certificate.ts';
import { curveOps } from '../smdp/curve-ops.ts';
import { verifyCertificate } from '../smdp/verifier.ts';
import { certificateOf } from './aggregate.ts';
import { DEFAULT_UNIT_BLOCKS } from '../activities/certify.ts';
import { cachedDevSrs } from './srs-cache.ts';

const backend = installBackend();
const args = process.argv.slice(2);
const repsAt = args.indexOf('--reps');
const reps = repsAt >= 0 ? Number(args[repsAt + 1]) : 0;
const unitAt = args.indexOf('--unit-blocks');
const unitBlocks = unitAt >= 0 ? Number(args[unitAt + 1]) : DEFAULT_UNIT_BLOCKS;
// The first argument that is neither a flag nor a flag's value (an absent flag's index is −1).
const counts = (args.find((a, i) => !a.startsWith('--') && (repsAt < 0 || i !== repsAt + 1) && (unitAt < 0 || i !== unitAt + 1)) ?? '1,64,1000').split(',').map(Number);
const srs = cachedDevSrs(10);
const dir = '.cache/certs';

async function certificate(blocks: number): Promise<{ json: string; blob: Uint8Array }> {
  const base = join(dir, `norm-mu10-${srs.id.slice(0, 16)}-${blocks}${unitBlocks === 1 ? '' : `-u${unitBlocks}`}`);
  if (!existsSync(`${base}.bin`)) {
    process.stderr.write(`building a certificate of ${blocks} blocks (cached in ${base}.*) …\n`);
    const { json, blob } = await certificateOf({ srs, msm: backend.msm }, srs, blocks, 5, 5, unitBlocks);
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${base}.json`, json);
    writeFileSync(`${base}.bin.${process.pid}.tmp`, blob);
    renameSync(`${base}.bin.${process.pid}.tmp`, `${base}.bin`);
  }
  return { json: readFileSync(`${base}.json`, 'utf8'), blob: new Uint8Array(readFileSync(`${base}.bin`)) };
}

console.log(`backend ${backend.name}, curve ops ${curveOps().name}, units of up to ${unitBlocks} tiles`);
for (const blocks of counts) {
  const { json, blob } = await certificate(blocks);
  const n = reps > 0 ? reps : blocks >= 1000 ? 3 : 20;
  for (let i = 0; i < (blocks >= 1000 ? 1 : 10); i++) verifyCertificate(srs, decodeCertificate(json, blob));
  let wall = Infinity;
  let cpu = Infinity;
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const v = verifyCertificate(srs, decodeCertificate(json, blob));
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (!v.valid) throw new Error(`certificate of ${blocks} blocks rejected: ${v.reason}`);
    wall = Math.min(wall, ms);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
  }
  console.log(`blocks ${blocks}: verify ${wall.toFixed(1)} ms, CPU ${cpu.toFixed(1)} ms (best of ${n})`);
}
