/** Connecting a worker to Temporal and running it until SIGTERM/SIGINT. */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { WorkerRuntime } from './runtime.ts';
import { env } from './config.ts';

export async function runTemporalWorker(rt: WorkerRuntime, options: Omit<WorkerOptions, 'connection' | 'namespace'>): Promise<void> {
  const address = env('FTI_TEMPORAL_ADDRESS');
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({ ...options, connection, namespace: env('FTI_TEMPORAL_NAMESPACE') });
  const stop = (signal: string) => {
    rt.log.info({ signal }, 'shutting down: finishing running activities');
    worker.shutdown();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  rt.log.info({ address, taskQueue: options.taskQueue }, 'worker started');
  rt.ready();
  try {
    await worker.run();
  } finally {
    await connection.close();
    await rt.close();
  }
}
