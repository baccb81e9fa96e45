/**
 * Backend selection: the native addon (`native/fti_native.node`, built by `npm run
 * build:native`) when it is built, else the pure-JS code of smdp/. Environment variable
 * `FTI_BACKEND`:
 *   auto   (default) native if the addon loads, otherwise js, with the reason;
 *   native the addon must load: an error that says why (not built, failed to load) if not;
 *   js     the pure-JS backend even when the addon is built.
 * `installBackend` also installs the curve ops into smdp (`useCurveOps`) so the synchronous
 * verifier runs on the same backend, and Node's SHA-256 (`useSha256`; the same function as
 * the pure-JS default, faster) for either choice.
 */
import { hash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { jsCurveOps, useCurveOps, type CurveOps } from '../smdp/curve-ops.ts';
import { useSha256 } from '../smdp/hash.ts';
import { jsMsmBackend, type MsmBackend } from '../smdp/msm.ts';
import { nativeCurveOps, nativeMsmBackend, type NativeAddon } from './backend.ts';

export const ADDON_PATH = fileURLToPath(new URL('./fti_native.node', import.meta.url));

export type BackendChoice = 'auto' | 'native' | 'js';

export interface SelectedBackend {
  readonly name: 'native' | 'js';
  readonly msm: MsmBackend;
  readonly curve: CurveOps;
  /** Why the native backend is not in use (absent when it is, or when js was asked for). */
  readonly reason?: string;
}

let addonResult: { addon: NativeAddon } | { reason: string } | undefined;

/** Loads the addon once per thread; returns it or why it is unavailable. */
export function loadAddon(): { addon: NativeAddon } | { reason: string } {
  if (addonResult !== undefined) return addonResult;
  if (!existsSync(ADDON_PATH)) {
    addonResult = { reason: `native addon not built (${ADDON_PATH} is missing; run \`npm run build:native\`, which needs cargo)` };
    return addonResult;
  }
  try {
    const req = createRequire(import.meta.url);
    addonResult = { addon: req(ADDON_PATH) as NativeAddon };
  } catch (e) {
    addonResult = { reason: `native addon failed to load: ${e instanceof Error ? e.message : String(e)}` };
  }
  return addonResult;
}

/** The choice from `FTI_BACKEND` (unset or empty = auto). */
export function backendChoice(env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const v = (env.FTI_BACKEND ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (v === 'native' || v === 'js') return v;
  throw new Error(`FTI_BACKEND must be auto, native or js, got ${JSON.stringify(env.FTI_BACKEND)}`);
}

let cached: { choice: BackendChoice; backend: SelectedBackend } | undefined;

const JS_BACKEND = (reason?: string): SelectedBackend => ({ name: 'js', msm: jsMsmBackend, curve: jsCurveOps, ...(reason === undefined ? {} : { reason }) });

/**
 * The backend for `choice` (default: from FTI_BACKEND). Throws when native is required and
 * unavailable. The same backend object is returned for the same choice.
 */
export function selectBackend(choice: BackendChoice = backendChoice()): SelectedBackend {
  if (cached?.choice === choice) return cached.backend;
  let backend: SelectedBackend;
  if (choice === 'js') {
    backend = JS_BACKEND();
  } else {
    const loaded = loadAddon();
    if ('addon' in loaded) {
      backend = { name: 'native', msm: nativeMsmBackend(loaded.addon), curve: nativeCurveOps(loaded.addon) };
    } else if (choice === 'native') {
      throw new Error(`FTI_BACKEND=native: ${loaded.reason}`);
    } else {
      backend = JS_BACKEND(loaded.reason);
    }
  }
  cached = { choice, backend };
  return backend;
}

/** `selectBackend` and install its curve ops into smdp (the verifier's seam). */
export function installBackend(choice: BackendChoice = backendChoice()): SelectedBackend {
  const backend = selectBackend(choice);
  useCurveOps(backend.curve);
  useSha256(nodeSha256);
  return backend;
}

/** SHA-256 by Node's OpenSSL (one-shot `crypto.hash`), as a plain 32-byte Uint8Array. */
export function nodeSha256(data: Uint8Array): Uint8Array {
  const b = hash('sha256', data, 'buffer');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
