/**
 * `fti demo`: the whole story on one machine in a few minutes. Builds a small
 * transformer-shaped base model (Llama naming, BF16) and a LoRA fine-tune of it (rank 4 on
 * q_proj and v_proj, merged), certifies it under the `lora-attention` template (accepted),
 * verifies the certificate against the base manifest, then tampers with one frozen MLP weight
 * and certifies again (rejected, with the reason).
 */
import { join, resolve } from 'node:path';
import { encodeFloats, writeSafetensors, type TensorToWrite } from '../../model/safetensors.ts';
import { str, type Command } from '../command.ts';
import { runCertify, runVerify } from '../engine.ts';
import { EXIT_INTERNAL, EXIT_OK } from '../io.ts';

const DIM = 128;
const MLP = 512;
const VOCAB = 8192;
const LAYERS = 2;
const RANK = 4;
const ALPHA = 8;

/** Seeded normal-ish values (sum of uniforms), deterministic across runs and machines. */
function gaussian(seed: number, n: number, std: number): Float64Array {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() + next() + next() + next() - 2) * std * 1.7320508;
  return out;
}

function bf16(shape: number[], values: Float64Array): TensorToWrite {
  return { dtype: 'BF16', shape, data: encodeFloats(values, 'BF16') };
}

export function demoBaseTensors(): Map<string, { shape: number[]; values: Float64Array }> {
  const t = new Map<string, { shape: number[]; values: Float64Array }>();
  let seed = 1;
  const add = (name: string, shape: number[], std: number, mean = 0): void => {
    const v = gaussian(seed++, shape.reduce((a, b) => a * b, 1), std);
    if (mean !== 0) v.forEach((x, i) => (v[i] = x + mean));
    t.set(name, { shape, values: v });
  };
  add('model.embed_tokens.weight', [VOCAB, DIM], 0.02);
  for (let l = 0; l < LAYERS; l++) {
    const p = `model.layers.${l}`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) add(`${p}.self_attn.${proj}.weight`, [DIM, DIM], 0.02);
    add(`${p}.mlp.gate_proj.weight`, [MLP, DIM], 0.02);
    add(`${p}.mlp.up_proj.weight`, [MLP, DIM], 0.02);
    add(`${p}.mlp.down_proj.weight`, [DIM, MLP], 0.02);
    add(`${p}.input_layernorm.weight`, [DIM], 0.01, 1);
    add(`${p}.post_attention_layernorm.weight`, [DIM], 0.01, 1);
  }
  add('model.norm.weight', [DIM], 0.01, 1);
  add('lm_head.weight', [VOCAB, DIM], 0.02);
  return t;
}

/** W + (alpha/r)·B·A on q_proj and v_proj, as a merged LoRA fine-tune stores it. */
export function demoLoraMerge(base: Map<string, { shape: number[]; values: Float64Array }>): Map<string, { shape: number[]; values: Float64Array }> {
  const ft = new Map([...base].map(([k, v]) => [k, { shape: v.shape, values: v.values.slice() }]));
  let seed = 1000;
  for (let l = 0; l < LAYERS; l++) {
    for (const proj of ['q_proj', 'v_proj']) {
      const w = ft.get(`model.layers.${l}.self_attn.${proj}.weight`)!.values;
      const A = gaussian(seed++, RANK * DIM, 0.02); // r × in
      const B = gaussian(seed++, DIM * RANK, 0.02); // out × r
      for (let o = 0; o < DIM; o++) {
        for (let i = 0; i < DIM; i++) {
          let d = 0;
          for (let k = 0; k < RANK; k++) d += B[o * RANK + k]! * A[k * DIM + i]!;
          w[o * DIM + i] = w[o * DIM + i]! + (ALPHA / RANK) * d;
        }
      }
    }
  }
  return ft;
}

async function writeModel(path: string, t: Map<string, { shape: number[]; values: Float64Array }>): Promise<void> {
  await writeSafetensors(path, new Map([...t].map(([k, v]) => [k, bf16(v.shape, v.values)])), { format: 'pt', producer: 'fti demo' });
}

export const demo: Command = {
  name: 'demo',
  summary: 'certify a LoRA fine-tune of a small model end to end, then show a tampered one rejected',
  help: `usage: fti demo [--out DIR] [--json]

Builds a small Llama-shaped BF16 model (${LAYERS} layers, dim ${DIM}) and a merged LoRA fine-tune
(rank ${RANK} on q_proj and v_proj), certifies it under the lora-attention template, verifies the
certificate, then changes one frozen MLP weight and shows the rejection. Uses an INSECURE dev
SRS (cached). Files go to DIR (default ./fti-demo).`,
  options: { out: { type: 'string' } },
  positionals: [0, 0],
  async run(args, ctx) {
    const out = resolve(str(args, 'out') ?? 'fti-demo');
    const baseT = demoBaseTensors();
    const ftT = demoLoraMerge(baseT);
    const params = [...baseT.values()].reduce((a, t) => a + t.values.length, 0);
    await writeModel(join(out, 'base', 'model.safetensors'), baseT);
    await writeModel(join(out, 'fine-tuned', 'model.safetensors'), ftT);
    ctx.say(`1. wrote a ${params}-parameter BF16 base model and its LoRA fine-tune (rank ${RANK}, q_proj + v_proj) under ${out}`);

    ctx.say('2. certifying the fine-tune under the lora-attention template …');
    const good = await runCertify({ base: join(out, 'base'), ft: join(out, 'fine-tuned'), policy: 'lora-attention', out: join(out, 'certified'), say: ctx.say, progress: !ctx.json });
    if (good.outcome.verdict !== 'accepted') {
      ctx.say(`   unexpected rejection: ${good.outcome.violations.map((v) => v.detail).join('; ')}`);
      return EXIT_INTERNAL;
    }
    ctx.say(`   accepted → ${good.files[0]}`);

    ctx.say('3. verifying the certificate against the base manifest …');
    const v = await runVerify({ cert: join(out, 'certified', 'certificate.json'), baseManifest: join(out, 'certified', 'base-manifest.json'), say: ctx.say });
    ctx.say(v.verdict.valid ? '   valid' : `   INVALID: ${v.verdict.reason}`);

    const tampered = demoLoraMerge(baseT);
    const down = tampered.get('model.layers.1.mlp.down_proj.weight')!.values;
    down[123] = down[123]! + 0.0625;
    await writeModel(join(out, 'tampered', 'model.safetensors'), tampered);
    ctx.say('4. certifying a tampered fine-tune (one frozen MLP weight changed) …');
    const bad = await runCertify({ base: join(out, 'base'), ft: join(out, 'tampered'), policy: 'lora-attention', out: join(out, 'tampered-result'), baseManifest: join(out, 'certified', 'base-manifest.json'), say: ctx.say, progress: !ctx.json });
    const reasons = bad.outcome.verdict === 'rejected' ? bad.outcome.violations.map((x) => x.detail) : [];
    ctx.say(bad.outcome.verdict === 'rejected' ? `   rejected: ${reasons.join('; ')}` : '   UNEXPECTEDLY ACCEPTED');

    const ok = v.verdict.valid && bad.outcome.verdict === 'rejected';
    ctx.emit({
      ok,
      out,
      parameters: params,
      certified: { verdict: good.outcome.verdict, certificate: good.files[0], digest: good.outcome.certificate.digest },
      verified: v.verdict.valid,
      tampered: { verdict: bad.outcome.verdict, reasons },
    });
    return ok ? EXIT_OK : EXIT_INTERNAL;
  },
};
