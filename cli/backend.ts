/**
 * The curve backend the CLI runs on: native (blst addon) when built, else pure JavaScript;
 * FTI_BACKEND=native|js forces one (native/loader.ts). Installed once per process — the
 * verifier's curve operations and the prover's MSMs then use the same backend — and named in
 * the output of the commands that prove or verify.
 */
import { installBackend, type SelectedBackend } from '../native/loader.ts';
import { InputError } from './io.ts';

let selected: SelectedBackend | undefined;

export function activeBackend(): SelectedBackend {
  if (selected) return selected;
  try {
    selected = installBackend();
  } catch (e) {
    throw new InputError('BAD_BACKEND', e instanceof Error ? e.message : String(e));
  }
  return selected;
}

/** One line for humans: which backend, and why not native when it is not. */
export function describeBackend(b: SelectedBackend = activeBackend()): string {
  return b.name === 'native' ? 'curve backend: native (blst)' : `curve backend: JavaScript${b.reason ? ` (${b.reason})` : ''}`;
}
