/**
 * The curve backend the tests run on, chosen by FTI_BACKEND (native/loader.ts): `auto`
 * (default: native when the addon is built), `native` (required; fails if not built) or `js`.
 * Importing this module also installs the backend's curve ops into smdp, so the verifier in
 * the importing test file runs on the same backend as its prover: the whole suite runs once
 * per backend (CI: once as built, once with FTI_BACKEND=js).
 */
import { installBackend } from '../native/loader.ts';
import type { MsmBackend } from '../smdp/msm.ts';

export const backend = installBackend();

/** The MSM backend for prover contexts in tests. */
export const testMsm: MsmBackend = backend.msm;
