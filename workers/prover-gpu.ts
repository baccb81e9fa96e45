/**
 * The GPU prover: would serve task queue fti-prove-gpu with a CUDA MSM backend. It refuses
 * to start unless such a backend is present and finds a usable device, and says why — a GPU
 * pool that silently proved on its CPUs would hide a misconfigured cluster. This build has
 * no CUDA backend yet (docs/gpu.md: the sppark-based plan); the seam is `gpuBackend()`.
 */
import { workerLogger } from './runtime.ts';

/** The CUDA MSM backend, or why there is none. */
export function gpuBackend(): { ok: true } | { ok: false; reason: string } {
  return { ok: false, reason: 'this build has no CUDA MSM backend (see docs/gpu.md for the plan and build steps); run prover-cpu instead' };
}

const g = gpuBackend();
if (!g.ok) {
  workerLogger('prover-gpu').fatal({ reason: g.reason }, 'prover-gpu refuses to start: no usable GPU backend');
  process.exit(1);
}
