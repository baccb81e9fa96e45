/**
 * SRS selection for the CLI: `--srs FILE` (a ceremony or dev file, checked against its
 * digest), or — when none is given — an INSECURE dev SRS of the needed size, generated once
 * and cached under $FTI_CACHE (default ~/.cache/fti), with a warning.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseSrs, type Srs } from '../smdp/srs.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';
import { writeFileAtomic } from './files.ts';
import { InputError } from './io.ts';

export function cacheDir(): string {
  return process.env.FTI_CACHE ?? join(homedir(), '.cache', 'fti');
}

export async function loadSrsFile(path: string): Promise<Srs> {
  const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => {
    throw new InputError('NOT_FOUND', `${path}: cannot read SRS file (${e.code ?? e.message})`);
  });
  return parseSrs(bytes);
}

/** The dev SRS for N variables, from the cache or generated (with a warning via `say`). */
export async function devSrsCached(N: number, say: (line: string) => void, seed = 'fti-dev'): Promise<Srs> {
  const file = join(cacheDir(), 'srs', `dev-${seed}-N${N}.bin`);
  say(`warning: no --srs given: using an INSECURE dev SRS (N = ${N}); anyone can forge proofs under it`);
  if (existsSync(file)) return parseSrs(await readFile(file));
  say(`generating the dev SRS (N = ${N}) once; cached in ${file}`);
  const { srs, bytes } = devSrs(N, seed);
  await writeFileAtomic(file, bytes);
  return srs;
}
