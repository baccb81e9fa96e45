// Where the `temporal` CLI is for tests: $FTI_TEMPORAL_BIN, else the local stack's install
// (.cache/stack), else none (the Temporal tests then skip, saying how to install it).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function temporalBinary(): string | null {
  const fromEnv = process.env.FTI_TEMPORAL_BIN;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  const root = new URL('../.cache/stack', import.meta.url).pathname;
  const found = existsSync(root) ? findFile(root, 'temporal', 4) : null;
  return found;
}

function findFile(dir: string, name: string, depth: number): string | null {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isFile() && e.name === name) return p;
    if (e.isDirectory() && depth > 0) {
      const f = findFile(p, name, depth - 1);
      if (f) return f;
    }
  }
  return null;
}
