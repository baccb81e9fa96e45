// Shared by the spawned-CLI tests: run `fti` as a child process, and seeded test weights.
import { spawnSync } from 'node:child_process';

export interface FtiRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  json(): Record<string, unknown>;
}

/** `fti` with the given environment (e.g. a private FTI_CACHE), synchronously. */
export function ftiWith(env: NodeJS.ProcessEnv): (...args: string[]) => FtiRun {
  return (...args) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { encoding: 'utf8', env });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) as Record<string, unknown> };
  };
}

/** Seeded values in (−scale/2, scale/2) (Park–Miller), the same on every machine. */
export function vals(n: number, seed: number, scale = 0.05): Float64Array {
  let s = seed;
  return Float64Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647), (s / 2147483647 - 0.5) * scale));
}
