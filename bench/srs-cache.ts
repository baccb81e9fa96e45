/**
 * Dev SRS for benchmarks, cached on disk under .cache/srs (smdp/ itself never does I/O).
 * INSECURE by construction (public seed): benchmarks only.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseSrs, type Srs } from '../smdp/srs.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';

export function cachedDevSrs(N: number, dir = '.cache/srs'): Srs {
  const file = join(dir, `dev-N${N}.bin`);
  if (existsSync(file)) return parseSrs(readFileSync(file));
  process.stderr.write(`generating INSECURE dev SRS for N = ${N} (cached in ${file}) …\n`);
  const { srs, bytes } = devSrs(N);
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file); // atomic: a concurrent reader never sees a half-written file
  return srs;
}
