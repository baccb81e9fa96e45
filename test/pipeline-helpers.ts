// Shared by the workflow tests: the pipeline's activities over a test store, proving in this
// process on the backend the suite runs on (test/backend.ts).
import pino from 'pino';
import { inlineProver } from '../activities/prove-pool.ts';
import { pipelineActivities, type PipelineEvent, type PipelineStore } from '../activities/pipeline.ts';
import { openModelReader } from '../activities/safetensors-reader.ts';
import { loadPolicy } from '../cli/engine.ts';
import type { Srs } from '../smdp/srs.ts';
import { testMsm } from './backend.ts';

export function testActivities(store: PipelineStore, srs: Srs, publish: (event: PipelineEvent, key: string) => Promise<void> = () => Promise.resolve()) {
  return pipelineActivities({
    store,
    publisher: { publish },
    log: pino({ level: 'silent' }),
    srs,
    ctx: { srs, msm: testMsm },
    prover: inlineProver({ srs, msm: testMsm }),
    openModel: openModelReader,
    loadPolicy: async (spec, model) => (await loadPolicy(spec, model)).policy,
  });
}
