/**
 * A proving worker thread (prove-pool.ts starts them): loads the SRS once from its
 * serialisation, then answers one request at a time — prove a tile (proveBlock) or commit a
 * vector of small integers — with the same code the main thread would run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DriftPolicyViolation } from '../smdp/errors.ts';
import { installBackend } from '../native/loader.ts';
import { commitSmall, type ProverContext } from '../smdp/pst.ts';
import { parseSrs } from '../smdp/srs.ts';
import { proveBlock } from './prove-block.ts';
import { statementToWire, tileWorkFromWire, toWire, type Request, type Response, type WireError } from './prove-wire.ts';

const port = parentPort;
if (!port) throw new Error('prove-worker.ts runs as a worker thread (see prove-pool.ts)');
const { srsBytes } = workerData as { srsBytes: Uint8Array };
// The same backend choice as the parent (FTI_BACKEND; native when built): results are identical.
const ctx: ProverContext = { srs: parseSrs(srsBytes), msm: installBackend().msm };

function wireError(e: unknown): WireError {
  if (e instanceof DriftPolicyViolation) return { kind: 'violation', check: e.check, measured: e.measured, bound: e.bound, detail: e.detail };
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  return { kind: 'error', name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}), ...(err.stack !== undefined ? { stack: err.stack } : {}) };
}

async function answer(req: Request): Promise<Response> {
  try {
    if (req.op === 'prove') {
      const { statement, proofBytes } = await proveBlock(ctx, tileWorkFromWire(req.work));
      return { id: req.id, ok: true, statement: statementToWire(statement), proofBytes };
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
