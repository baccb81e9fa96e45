// Where the `temporal` CLI is for tests: $FTI_TEMPORAL_BIN, else the local stack's install
// (infra/local: .cache/stack/temporal/<version>/temporal), else none (the Temporal tests then
// skip, saying how to install it).
import { existsSync } from 'node:fs';
import { stackConfig } from '../infra/local/config.ts';

export function temporalBinary(): string | null {
  const bin = stackConfig().temporal.bin;
  return existsSync(bin) ? bin : null;
}
