/**
 * Where tiles are proven: in this thread (`inlineProver`) or on a pool of worker threads
 * (`startProverPool`, `fti certify --workers N`). Both run the same `proveUnit` and give the
 * same records; the pool only spreads units over cores. Each worker holds its own copy
 * of the SRS (parsed once at start) and takes one request at a time; requests queue here.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { recordOf, type ProofRecord } from '../smdp/aggregate.ts';
import { DriftPolicyViolation } from '../smdp/errors.ts';
import type { G1Point } from '../smdp/field.ts';
import { commitSmall, type ProverContext } from '../smdp/pst.ts';
import { serializeSrs, type Srs } from '../smdp/srs.ts';
import { proveUnit, type TileWork } from './prove-block.ts';
import { fromWire, statementFromWire, tileWorkToWire, type Request, type Response, type WireError } from './prove-wire.ts';

export interface BlockProver {
  /** Threads proving at once (1 for the inline prover). */
  readonly parallelism: number;
  /** Prove one unit: one tile, or several norm/linf/lowrank/hidden-sparse tiles of a tensor (`proveUnit`). */
  prove(unit: readonly TileWork[]): Promise<ProofRecord>;
  /** C(v) for a vector of small integers (base-manifest tiles). */
  commit(values: ArrayLike<number>): Promise<G1Point>;
  close(): Promise<void>;
}

export function inlineProver(ctx: ProverContext): BlockProver {
  return {
    parallelism: 1,
    prove: (unit) => proveUnit(ctx, unit),
    commit: (values) => commitSmall(ctx, values),
    close: () => Promise.resolve(),
  };
}

/** Default worker count: one per core the process may use. */
export function defaultWorkers(): number {
  return availableParallelism();
}

function fromWireError(e: WireError): Error {
  if (e.kind === 'violation') return new DriftPolicyViolation(e.check, e.measured, e.bound, e.detail, e.block);
  const err = new Error(e.message);
  err.name = e.name;
  if (e.code !== undefined) Object.assign(err, { code: e.code });
  if (e.stack !== undefined) err.stack = e.stack;
  return err;
}

interface Pending {
  readonly req: Request;
  resolve(res: Response & { ok: true }): void;
  reject(e: Error): void;
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  busy: Pending | null;
}

/** Young-generation size of a proving thread (MiB; V8 splits it into semi-spaces). */
export const PROVER_YOUNG_GENERATION_MB = 12;

/**
 * Start `size` proving threads over `srs`. Rejects if a worker cannot start (its error). A
 * worker that dies mid-request fails that request and every queued one: a job must not hang.
 */
export async function startProverPool(srs: Srs, size: number): Promise<BlockProver> {
  if (!Number.isSafeInteger(size) || size < 1) throw new Error(`startProverPool: expected at least one worker, got ${size}`);
  const { lagrange, N, kind, label, g2One, g2Tau } = srs;
  const srsBytes = serializeSrs({ lagrange, N, kind, label, g2One, g2Tau });
  // Workers run TypeScript through tsx's loader, registered before the worker module loads
  // (a loader passed in execArgv is not active yet for the worker's entry module on Node 20).
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./prove-worker.ts', import.meta.url).href;
  const boot = new URL('data:text/javascript,' + encodeURIComponent(`import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(entry)});`));
  const queue: Pending[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let failure: Error | null = null;
  let closing = false;

  const fail = (e: Error) => {
    failure ??= e;
    for (const s of slots) {
      if (s.busy) s.busy.reject(e);
      s.busy = null;
    }
    for (const p of queue.splice(0)) p.reject(e);
  };
  const pump = () => {
    for (const s of slots) {
      if (!s.ready || s.busy) continue;
      const p = queue.shift();
      if (!p) return;
      s.busy = p;
      s.worker.postMessage(p.req);
    }
  };

  const readiness: Promise<void>[] = [];
  for (let i = 0; i < size; i++) {
    // A small young generation: a proving thread's garbage is short-lived bigints and typed
    // arrays, and V8's default (up to 3 × 16 MiB per isolate) is resident memory that buys
    // nothing here (measured: peak RSS of `fti certify` ≈ 50 MiB lower, same speed).
    const worker = new Worker(boot, { workerData: { srsBytes }, resourceLimits: { maxYoungGenerationSizeMb: PROVER_YOUNG_GENERATION_MB } });
    const slot: Slot = { worker, ready: false, busy: null };
    slots.push(slot);
    readiness.push(
      new Promise<void>((resolve, reject) => {
        worker.on('message', (m: Response | { ready: true }) => {
          if ('ready' in m) {
            slot.ready = true;
            resolve();
            pump();
            return;
          }
          const p = slot.busy;
          slot.busy = null;
          if (p) {
            if (m.ok) p.resolve(m);
            else p.reject(fromWireError(m.error));
          }
          pump();
        });
        worker.on('error', (e) => {
          reject(e);
          fail(new Error(`proving worker ${i} failed: ${e.message}`));
        });
        worker.on('exit', (code) => {
          if (closing) return;
          const e = new Error(`proving worker ${i} exited (code ${code})`);
          reject(e);
          fail(e);
        });
      }),
    );
  }
  try {
    await Promise.all(readiness);
  } catch (e) {
    closing = true;
    await Promise.all(slots.map((s) => s.worker.terminate()));
    throw e;
  }

  const submit = (make: (id: number) => Request) =>
    new Promise<Response & { ok: true }>((resolve, reject) => {
      if (failure) return reject(failure);
      if (closing) return reject(new Error('the proving pool is closed'));
      queue.push({ req: make(nextId++), resolve, reject });
      pump();
    });

  return {
    parallelism: size,
    async prove(unit) {
      const res = await submit((id) => ({ id, op: 'prove', works: unit.map(tileWorkToWire) }));
      if (!('statements' in res)) throw new Error('proving worker answered a prove request without statements');
      return recordOf(res.statements.map(statementFromWire), res.proofBytes);
    },
    async commit(values) {
      const res = await submit((id) => ({ id, op: 'commit', values: Float64Array.from(values) }));
      if (!('point' in res)) throw new Error('proving worker answered a commit request without a point');
      return fromWire(res.point);
    },
    async close() {
      closing = true;
      for (const p of queue.splice(0)) p.reject(new Error('the proving pool is closed'));
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
