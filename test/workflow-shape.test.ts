// Workflow structure with mocked activities on a Temporal dev server: the fold calls form
// exactly smdp's aggregation tree (levels, global node indices, children), every block is
// proven once, and histories stay far below Temporal's limits for 5,000 blocks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { aggregationLevels, nodeChildRange } from '../smdp/aggregate.ts';
import type { PipelineActivities } from '../activities/pipeline.ts';
import { certifyFineTuneWorkflow } from '../workflows/certify.ts';
import { batchShape, childRange, treeLevels } from '../workflows/tree.ts';
import { temporalBinary } from './temporal-binary.ts';

const bin = temporalBinary();
const skip = bin === null ? 'no temporal CLI (run `npm run stack:install`, or set FTI_TEMPORAL_BIN)' : false;

describe('workflows/tree.ts agrees with smdp/aggregate.ts', () => {
  it('levels and child ranges', () => {
    for (const f of [2, 3, 16]) {
      for (const n of [0, 1, 2, 15, 16, 17, 255, 256, 257, 5000]) {
        assert.deepEqual(treeLevels(n, f), aggregationLevels(n, f), `n=${n} F=${f}`);
        for (const i of [0, 1, 7]) assert.deepEqual(childRange(i, f, n), nodeChildRange(i, f, n));
      }
    }
  });
  it('batch shape is the largest F^k ≤ max', () => {
    assert.deepEqual(batchShape(16, 512), { size: 256, levels: 2 });
    assert.deepEqual(batchShape(2, 512), { size: 512, levels: 9 });
    assert.deepEqual(batchShape(8, 512), { size: 512, levels: 3 });
    assert.deepEqual(batchShape(600, 512), { size: 600, levels: 1 });
  });
});

describe('certifyFineTuneWorkflow with mocked activities', { skip }, () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: bin! }, extraArgs: ['--headless'] } });
  });
  after(async () => {
    await env?.teardown();
  });

  function mocks(tensors: number, tilesPer: number, calls: { level: number; index: number; children: number }[], proved: Set<string>): Partial<PipelineActivities> {
    return {
      commitBase: () => Promise.resolve({ manifestKey: 'm', digest: 'd', reused: true }),
      planJob: () =>
        Promise.resolve({ jobKey: 'j', manifestKey: 'm', manifestDigest: 'd', policyDigest: 'p', proven: Array.from({ length: tensors }, (_, i) => ({ name: `t${i}`, class: 'norm', tiles: tilesPer })), frozen: [], violations: [] }),
      checkFrozen: () => Promise.resolve({ violations: [] }),
      shardTensor: (input) => Promise.resolve({ blocks: Array.from({ length: tilesPer }, (_, k) => ({ key: `${input.tensor}/${k}`, tensor: input.tensor, index: k })), measured: {} }),
      proveBlock: (input) => {
        proved.add(input.workKey);
        return Promise.resolve({ recordKey: `rec:${input.workKey}`, digest: 'x' });
      },
      aggregateNode: (input) => {
        calls.push({ level: input.level, index: input.index, children: input.children.length });
        return Promise.resolve({ nodeKey: `node:${input.level}:${input.index}`, digest: 'y' });
      },
      finalize: () => Promise.resolve({ certificateKey: 'c', certificateDigest: 'cd', certificateSha256: 's', tensors: [] }),
      publish: () => Promise.resolve({ eventId: 'e' }),
      reject: () => Promise.resolve({ rejectionKey: 'r', digest: 'rd' }),
    };
  }

  async function run(id: string, tensors: number, tilesPer: number, fanIn: number) {
    const calls: { level: number; index: number; children: number }[] = [];
    const proved = new Set<string>();
    const activities = mocks(tensors, tilesPer, calls, proved);
    const workflowsPath = new URL('../workflows/certify.ts', import.meta.url).pathname;
    const w1 = await Worker.create({ connection: env.nativeConnection, taskQueue: 'fti-orchestrator', workflowsPath, activities });
    const w2 = await Worker.create({ connection: env.nativeConnection, taskQueue: 'fti-prove-cpu', activities });
    const result = await w1.runUntil(
      w2.runUntil(() =>
        env.client.workflow.execute(certifyFineTuneWorkflow, { taskQueue: 'fti-orchestrator', workflowId: id, args: [{ spec: { job: id, base: 'b', ft: 'f', policy: 'p', fanIn } }] }),
      ),
    );
    return { result, calls, proved };
  }

  async function historyLength(workflowId: string): Promise<number> {
    const h = await env.client.workflow.getHandle(workflowId).fetchHistory();
    return h.events?.length ?? 0;
  }

  it('fold calls are exactly the nodes of smdp’s tree (600 blocks, F = 16)', async () => {
    const { result, calls, proved } = await run('shape-600', 6, 100, 16);
    assert.equal(result.verdict, 'accepted');
    assert.equal(proved.size, 600);
    const levels = aggregationLevels(600, 16);
    const expected: string[] = [];
    for (let l = 1; l < levels.length; l++) for (let i = 0; i < levels[l]!; i++) expected.push(`${l}:${i}:${nodeChildRange(i, 16, levels[l - 1]!).end - nodeChildRange(i, 16, levels[l - 1]!).start}`);
    assert.deepEqual(calls.map((c) => `${c.level}:${c.index}:${c.children}`).sort(), expected.sort());
  });

  it("5,000 blocks: parent and batch histories stay below 5,000 events (measured: parent ≈ 460, batches ≈ 930)", async () => {
    const { result, proved } = await run('big-5000', 50, 100, 16);
    assert.equal(result.verdict, 'accepted');
    assert.equal(proved.size, 5000);
    const parent = await historyLength('big-5000');
    assert.ok(parent < 5000, `parent history has ${parent} events`);
    const children: number[] = [];
    for (let b = 0; b < Math.ceil(5000 / 256); b++) {
      const listed = env.client.workflow.list({ query: `WorkflowId STARTS_WITH "big-5000/batch-${b}-"` });
      for await (const wf of listed) children.push(await historyLength(wf.workflowId));
    }
    assert.equal(children.length, 20);
    for (const n of children) assert.ok(n < 5000, `a batch history has ${n} events`);
  });
});
