// The kustomize overlays render, and what they render is consistent with the code: every
// ConfigMap/Secret key a container references exists, the GPU pool asks for a GPU on GPU
// nodes, task queues and images agree with the workflows' names, KEDA scales each prover on
// its own queue, every Deployment/StatefulSet has probes and a PodDisruptionBudget, worker
// entry files exist, and only documented FTI_* settings are used.
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call -- rendered YAML is untyped */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ORCHESTRATOR_QUEUE, PROVE_CPU_QUEUE, PROVE_GPU_QUEUE } from '../workflows/certify.ts';
import { ENV_VARS } from '../workers/config.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const local = `${ROOT}.cache/tools/bin/kustomize`;
const kustomize = process.env.FTI_KUSTOMIZE ?? (existsSync(local) ? local : spawnSync('kustomize', ['version']).status === 0 ? 'kustomize' : null);
const skip = kustomize === null ? 'kustomize not installed (bash scripts/install-kustomize.sh)' : false;

type Obj = { kind: string; metadata: { name: string; namespace?: string }; spec?: any; data?: Record<string, string>; stringData?: Record<string, string> };

function render(overlay: string): Obj[] {
  const r = spawnSync(kustomize!, ['build', `${ROOT}k8s/overlays/${overlay}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
}

describe('k8s overlays (kustomize build)', { skip }, () => {
  for (const overlay of ['dev', 'prod']) {
    describe(overlay, () => {
      const objs = skip ? [] : render(overlay);
      const workloads = objs.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
      const byName = (kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
      const containers = (w: Obj): any[] => w.spec.template.spec.containers;
      const envOf = (w: Obj, name: string): string | undefined => containers(w)[0].env?.find((e: { name: string }) => e.name === name)?.value;

      it('renders the four workloads in one namespace', () => {
        assert.deepEqual(workloads.map((w) => w.metadata.name).sort(), ['orchestrator', 'prover-cpu', 'prover-gpu', 'registry-consumer']);
        assert.equal(new Set(objs.map((o) => o.metadata.namespace)).size, 1);
      });

      it('every referenced ConfigMap/Secret and key exists', () => {
        for (const w of workloads) {
          for (const c of containers(w)) {
            for (const from of c.envFrom ?? []) {
              if (from.configMapRef) assert.ok(byName('ConfigMap', from.configMapRef.name), `${w.metadata.name}: ConfigMap ${from.configMapRef.name}`);
              if (from.secretRef) assert.ok(byName('Secret', from.secretRef.name), `${w.metadata.name}: Secret ${from.secretRef.name}`);
            }
            for (const e of c.env ?? []) {
              const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
              if (!ref) continue;
              const kind = e.valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap';
              const o = byName(kind, ref.name);
              assert.ok(o, `${w.metadata.name}: ${kind} ${ref.name}`);
              assert.ok(ref.key in { ...o.data, ...o.stringData }, `${w.metadata.name}: ${kind} ${ref.name} has no key ${ref.key}`);
            }
          }
        }
      });

      it('the GPU pool requests a GPU on GPU nodes; the CPU pools do not', () => {
        const gpu = byName('Deployment', 'prover-gpu')!;
        assert.ok(Number(containers(gpu)[0].resources.limits['nvidia.com/gpu']) >= 1);
        assert.ok(gpu.spec.template.spec.nodeSelector, 'nodeSelector');
        assert.ok(gpu.spec.template.spec.tolerations.some((t: { key: string }) => t.key === 'nvidia.com/gpu'));
        for (const name of ['orchestrator', 'prover-cpu']) assert.equal(containers(byName('Deployment', name)!)[0].resources.limits['nvidia.com/gpu'], undefined, name);
      });

      it('task queues and images agree with the code', () => {
        assert.equal(envOf(byName('Deployment', 'orchestrator')!, 'FTI_TASK_QUEUE'), ORCHESTRATOR_QUEUE);
        assert.equal(envOf(byName('Deployment', 'prover-cpu')!, 'FTI_TASK_QUEUE'), PROVE_CPU_QUEUE);
        assert.equal(envOf(byName('Deployment', 'prover-gpu')!, 'FTI_TASK_QUEUE'), PROVE_GPU_QUEUE);
        assert.match(containers(byName('Deployment', 'prover-gpu')!)[0].image, /\/fti-gpu:/);
        for (const w of workloads.filter((x) => x.metadata.name !== 'prover-gpu')) assert.match(containers(w)[0].image, /\/fti-cpu:/, w.metadata.name);
      });

      it('KEDA scales each prover pool on its own task queue', () => {
        const scaled = objs.filter((o) => o.kind === 'ScaledObject');
        assert.equal(scaled.length, 2);
        for (const s of scaled) {
          const target = byName('Deployment', s.spec.scaleTargetRef.name)!;
          assert.ok(target, s.metadata.name);
          const trig = s.spec.triggers[0];
          assert.equal(trig.type, 'temporal');
          assert.equal(trig.metadata.taskQueue, envOf(target, 'FTI_TASK_QUEUE'));
        }
      });

      it('probes, PodDisruptionBudgets, entry files, documented settings', () => {
        const pdbs = objs.filter((o) => o.kind === 'PodDisruptionBudget');
        const documented = new Set(ENV_VARS.map((v) => v.name));
        for (const w of workloads) {
          const c = containers(w)[0];
          assert.ok(c.livenessProbe && c.readinessProbe, `${w.metadata.name}: probes`);
          const labels = w.spec.template.metadata.labels;
          assert.ok(
            pdbs.some((p) => Object.entries(p.spec.selector.matchLabels).every(([k, v]) => labels[k] === v)),
            `${w.metadata.name}: PodDisruptionBudget`,
          );
          assert.ok(existsSync(`${ROOT}${c.args[0]}`), `${w.metadata.name}: entry ${c.args[0]}`);
          for (const e of c.env ?? []) assert.ok(documented.has(e.name), `${w.metadata.name}: ${e.name} is not in workers/config.ts`);
        }
        for (const cm of objs.filter((o) => o.kind === 'ConfigMap')) for (const k of Object.keys(cm.data ?? {})) assert.ok(documented.has(k), `ConfigMap key ${k} is not in workers/config.ts`);
      });
    });
  }
});
