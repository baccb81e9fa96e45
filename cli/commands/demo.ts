/**
 * `fti demo`: the whole story on one machine in a few minutes. Builds a small
 * transformer-shaped base model (Llama naming, BF16) and a LoRA fine-tune of it (rank 4 on
 * q_proj and v_proj, merged), certifies it under the `lora-attention` template (accepted),
 * verifies the certificate against the base manifest, then tampers with one frozen MLP weight
 * and certifies again (rejected, with the reason).
 */
import { join, resolve } from 'node:path';
import { llamaBase, loraMerge, writeModel as writeSynthetic, type Tensors } from '../../model/synthetic.ts';
import { str, type Command } from '../command.ts';
import { runCertify, runVerify } from '../engine.ts';
import { EXIT_INTERNAL, EXIT_OK } from '../io.ts';

const DIM = 128;
const MLP = 512;
const VOCAB = 8192;
const LAYERS = 2;
const RANK = 4;
const ALPHA = 8;

const SHAPE = { dim: DIM, mlp: MLP, vocab: VOCAB, layers: LAYERS };
const LORA = { rank: RANK, alpha: ALPHA, targets: ['q_proj', 'v_proj'] };

function writeModel(path: string, t: Tensors): Promise<void> {
  return writeSynthetic(path, t, 'BF16', 'fti demo');
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
    const baseT = llamaBase(SHAPE);
    const ftT = loraMerge(baseT, LORA).ft;
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

    const tampered = loraMerge(baseT, LORA).ft;
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
