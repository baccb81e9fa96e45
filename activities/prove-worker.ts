/**
 * A proving worker thread (prove-pool.ts starts them): loads the SRS once from its
 * serialisation, then answers one request at a time — prove a unit of tiles (proveUnit) or commit a
 * vector of small integers — with the same code the main thread would run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DriftPolicyViolation } from '../smdp/errors.ts';
import { installBackend } from '../native/loader.ts';
import { commitSmall, type ProverContext } from '../smdp/pst.ts';
import { parseSrs } from '../smdp/srs.ts';
import { proveUnit } from './prove-block.ts';
import { recordStatements } from '../smdp/aggregate.ts';
import { statementToWire, tileWorkFromWire, toWire, type Request, type Response, type WireError } from './prove-wire.ts';

const port = parentPort;
if (!port) throw new Error('prove-worker.ts runs as a worker thread (see prove-pool.ts)');
const { srsBytes } = workerData as { srsBytes: Uint8Array };
// The same backend choice as the parent (FTI_BACKEND; native when built): results are identical.
const ctx: ProverContext = { srs: parseSrs(srsBytes), msm: installBackend().msm };

function wireError(e: unknown): WireError {
  if (e instanceof DriftPolicyViolation) return { kind: 'violation', check: e.check, measured: e.measured, bound: e.bound, detail: e.detail, ...(e.block !== undefined ? { block: e.block } : {}) };
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  return { kind: 'error', name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}), ...(err.stack !== undefined ? { stack: err.stack } : {}) };
}

async function answer(req: Request): Promise<Response> {
  try {
    if (req.op === 'prove') {
      const rec = await proveUnit(ctx, req.works.map(tileWorkFromWire));
      return { id: req.id, ok: true, statements: recordStatements(rec).map(statementToWire), proofBytes: rec.proofBytes };
    }
    return { id: req.id, ok: true, point: toWire(await commitSmall(ctx, req.values)) };
  } catch (e) {
    return { id: req.id, ok: false, error: wireError(e) };
  }
}

port.on('message', (req: Request) => {
  void answer(req).then((res) => port.postMessage(res));
});
port.postMessage({ ready: true });
