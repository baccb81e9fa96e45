/**
 * A CPU prover: an activity-only worker on task queue fti-prove-cpu running proveBlock on a
 * pool of FTI_PROVE_THREADS worker threads (default: one per core), with the native MSM
 * backend when built. Settings: workers/config.ts.
 */
import { pipelineActivities } from '../activities/pipeline.ts';
import { PROVE_CPU_QUEUE } from '../workflows/certify.ts';
import { env, envInt } from './config.ts';
import { proveThreads, runMain, startRuntime } from './runtime.ts';
import { runTemporalWorker } from './temporal.ts';

runMain('prover-cpu', async () => {
  const threads = proveThreads();
  const rt = await startRuntime('prover-cpu', { threads });
  const all = pipelineActivities(rt.deps);
  await runTemporalWorker(rt, {
    taskQueue: env('FTI_TASK_QUEUE', PROVE_CPU_QUEUE),
    activities: { proveBlock: (input: { workKey: string }) => all.proveBlock(input) },
    // one tile per thread, plus one being fetched/stored
    maxConcurrentActivityTaskExecutions: envInt('FTI_MAX_CONCURRENT_ACTIVITIES', threads + 1, 1),
  });
});
