// `fti certify --adapter` and `fti profile --adapter` as spawned processes: a PEFT LoRA
// adapter supplies the factors of low-rank tensors; a wrong or mismatched adapter falls back
// to SVD (still certifying the weights) or is a clear bad-input error.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeFloats, writeSafetensors } from '../model/safetensors.ts';
import { ftiWith, vals } from './cli-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fti-adapter-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, FTI_CACHE: join(dir, 'cache') };

const fti = ftiWith(env);

type Tensors = Record<string, [number[], Float64Array]>;
async function save(path: string, t: Tensors): Promise<void> {
  await writeSafetensors(path, new Map(Object.entries(t).map(([k, [shape, v]]) => [k, { dtype: 'F32', shape, data: encodeFloats(v, 'F32') }])));
}

const OUT = 32;
const IN = 16;
const R = 2;
const ALPHA = 4; // scaling α / r = 2
const Q = 'model.layers.0.self_attn.q_proj.weight';
const policy = {
  version: 1,
  fractionalBits: 24,
  default: { class: 'frozen' },
  rules: [{ match: '*.q_proj.weight', class: 'lowrank', rank: 4, residualMaxLinf: 0.0001 }],
};

before(async () => {
  const base: Tensors = { [Q]: [[OUT, IN], vals(OUT * IN, 1)], 'model.layers.0.mlp.up_proj.weight': [[IN, IN], vals(IN * IN, 2)] };
  await save(join(dir, 'base.safetensors'), base);
  // PEFT layout: lora_A r × in, lora_B out × r; ΔW = (α/r)·B·A.
  const A = vals(R * IN, 3, 0.02);
  const B = vals(OUT * R, 4, 0.02);
  const ft = structuredClone(base);
  const w = ft[Q]![1];
  for (let i = 0; i < OUT; i++) for (let j = 0; j < IN; j++) for (let l = 0; l < R; l++) w[i * IN + j]! += (ALPHA / R) * B[i * R + l]! * A[l * IN + j]!;
  await save(join(dir, 'ft.safetensors'), ft);
  const adapter = join(dir, 'adapter');
  mkdirSync(adapter);
  await save(join(adapter, 'adapter_model.safetensors'), {
    'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight': [[R, IN], A],
    'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight': [[OUT, R], B],
  });
  writeFileSync(join(adapter, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: R, lora_alpha: ALPHA, target_modules: ['q_proj'] }));
  // The same factors with a different scaling: their product is not the fine-tune's Δ.
  const wrong = join(dir, 'wrong-scale');
  mkdirSync(wrong);
  await save(join(wrong, 'adapter_model.safetensors'), {
    'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight': [[R, IN], A],
    'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight': [[OUT, R], B],
  });
  writeFileSync(join(wrong, 'adapter_config.json'), JSON.stringify({ r: R, lora_alpha: 3 * ALPHA }));
  // An adapter for a module the base does not have.
  const stray = join(dir, 'stray');
  mkdirSync(stray);
  await save(join(stray, 'adapter_model.safetensors'), {
    'base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight': [[R, IN], A],
    'base_model.model.model.layers.9.self_attn.q_proj.lora_B.weight': [[OUT, R], B],
  });
  writeFileSync(join(stray, 'adapter_config.json'), JSON.stringify({ r: R, lora_alpha: ALPHA }));
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
});

function tensorOf(doc: Record<string, unknown>, name: string): { verdict: string; measured?: Record<string, unknown> } {
  const t = (doc.tensors as { name: string; verdict: string; measured?: Record<string, unknown> }[]).find((x) => x.name === name);
  assert.ok(t, `no report for ${name}`);
  return t;
}

describe('fti certify --adapter (spawned)', () => {
  it('uses the adapter factors for a low-rank tensor, and the certificate verifies', () => {
    const out = join(dir, 'ok');
    const r = fti('certify', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--policy', join(dir, 'policy.json'), '--adapter', join(dir, 'adapter'), '--out', out, '--json');
    assert.equal(r.code, 0, r.stderr);
    const doc = r.json();
    assert.equal(doc.verdict, 'accepted');
    assert.equal(tensorOf(doc, Q).measured?.factors, 'adapter');
    assert.match(r.stderr, /LoRA factors for 1 tensor/);
    const v = fti('verify', join(out, 'certificate.json'), '--base', join(dir, 'base.safetensors'), '--json');
    assert.equal(v.code, 0, v.stderr);
  });

  it('without --adapter the same tensor is factored by SVD', () => {
    const r = fti('certify', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--policy', join(dir, 'policy.json'), '--out', join(dir, 'svd'), '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(tensorOf(r.json(), Q).measured?.factors, 'svd');
  });

  it('an adapter whose product is not the fine-tune Δ falls back to SVD and says why', () => {
    const r = fti('certify', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--policy', join(dir, 'policy.json'), '--adapter', join(dir, 'wrong-scale'), '--out', join(dir, 'fallback'), '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.match(String(tensorOf(r.json(), Q).measured?.factors), /^svd \(the adapter's factors leave max \|E\| = \d+ > \d+\)$/);
  });

  it('an adapter for a module the base lacks is exit 2 naming the file and tensor', () => {
    const out = join(dir, 'stray-out');
    const r = fti('certify', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--policy', join(dir, 'policy.json'), '--adapter', join(dir, 'stray'), '--out', out);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /adapter_model\.safetensors, tensor "base_model\.model\.model\.layers\.9\.self_attn\.q_proj\.lora_A\.weight": no base tensor/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('a missing adapter config is exit 2 saying what is missing', () => {
    const lone = join(dir, 'lone');
    mkdirSync(lone);
    writeFileSync(join(lone, 'adapter_model.safetensors'), '');
    const r = fti('certify', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--policy', join(dir, 'policy.json'), '--adapter', join(lone, 'adapter_model.safetensors'), '--out', join(dir, 'lone-out'));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no adapter_config\.json beside it/);
  });

  it('profile --adapter measures the tensor against the adapter rank', () => {
    const r = fti('profile', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--adapter', join(dir, 'adapter'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const row = (r.json().tensors as { name: string; rank?: { source: string; rank: number } }[]).find((t) => t.name === Q);
    assert.equal(row?.rank?.source, 'adapter');
    assert.equal(row?.rank?.rank, R);
  });
});
