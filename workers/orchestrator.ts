/**
 * The orchestrator: runs the workflows (workflows/certify.ts) and the pipeline's
 * non-proving activities (commitBase, plan, frozen checks, shard, aggregate, finalize,
 * publish) on task queue fti-orchestrator. Settings: workers/config.ts.
 */
import { pipelineActivities } from '../activities/pipeline.ts';
import { ORCHESTRATOR_QUEUE } from '../workflows/certify.ts';
import { env, envInt } from './config.ts';
import { proveThreads, runMain, startRuntime } from './runtime.ts';
import { runTemporalWorker } from './temporal.ts';

runMain('orchestrator', async () => {
  // Base commitments are MSMs too: the orchestrator keeps a proving pool for commitBase.
  const rt = await startRuntime('orchestrator', { threads: proveThreads() });
  // Every activity but proveBlock (that one runs on the prover pools' queues).
  const activities: Partial<ReturnType<typeof pipelineActivities>> = { ...pipelineActivities(rt.deps) };
  delete activities.proveBlock;
  await runTemporalWorker(rt, {
    taskQueue: env('FTI_TASK_QUEUE', ORCHESTRATOR_QUEUE),
    workflowsPath: new URL('../workflows/certify.ts', import.meta.url).pathname,
    activities,
    maxConcurrentActivityTaskExecutions: envInt('FTI_MAX_CONCURRENT_ACTIVITIES', 8, 1),
  });
});
