/** `fti profile` (measure a fine-tune, recommend classes, write a policy) and `fti policy show`. */
import { openModelReader } from '../../activities/safetensors-reader.ts';
import { readAdapter } from '../../model/adapter.ts';
import { profileModel, type ProfileInput } from '../../model/profiler.ts';
import { serializePolicy, validatePolicy } from '../../model/policy.ts';
import { describeResolution, formatResolution } from '../../model/templates.ts';
import { str, type Command } from '../command.ts';
import { loadPolicy } from '../engine.ts';
import { peakRssBytes } from './certify.ts';
import { writeFileAtomic } from '../files.ts';
import { EXIT_OK, UsageError } from '../io.ts';
import { FLOAT_DTYPES } from '../../model/planner.ts';

export const profile: Command = {
  name: 'profile',
  summary: 'measure how a fine-tune differs from its base and recommend a policy',
  help: `usage: fti profile --base PATH --ft PATH [--adapter PATH] [--write-policy FILE] [--json]

Per tensor: exact nonzero count of the quantized Δ, ‖Δ‖₂, ‖Δ‖∞, relative L2, an estimated
rank (randomized SVD) with the residual at that rank, and the tightest class that fits.
--write-policy writes the recommendation as a ready policy file (YAML if FILE ends in
.yaml/.yml, else JSON). --adapter PATH (a PEFT LoRA adapter directory, or its .safetensors
with adapter_config.json beside it) measures each adapted tensor against the adapter's own
factors instead of estimating its rank.`,
  options: { base: { type: 'string' }, ft: { type: 'string' }, adapter: { type: 'string' }, 'write-policy': { type: 'string' } },
  positionals: [0, 0],
  async run(args, ctx) {
    const basePath = str(args, 'base');
    const ftPath = str(args, 'ft');
    if (!basePath || !ftPath) throw new UsageError('profile: --base PATH and --ft PATH are required');
    const base = await openModelReader(basePath);
    const ft = await openModelReader(ftPath);
    try {
      const baseNames = new Set(base.tensors.map((t) => t.name));
      const adapterPath = str(args, 'adapter');
      const adapter = adapterPath !== undefined ? await readAdapter(adapterPath, base.tensors) : undefined;
      async function* inputs(): AsyncGenerator<ProfileInput> {
        for (const t of ft.tensors) {
          if (!FLOAT_DTYPES.includes(t.dtype)) continue;
          const has = baseNames.has(t.name);
          const rawEqual = has && (await base.tensorSha256(t.name)) === (await ft.tensorSha256(t.name));
          const update = adapter?.updates.get(t.name);
          yield { name: t.name, shape: t.shape, base: has ? await base.readValues(t.name) : null, ft: await ft.readValues(t.name), rawEqual, ...(update ? { adapter: update.factors } : {}) };
        }
      }
      const t0 = performance.now();
      const result = await profileModel(inputs(), { onTensor: (r) => ctx.log.info({ tensor: r.name, class: r.recommendation.class }, 'profiled') });
      const seconds = (performance.now() - t0) / 1000;
      for (const r of result.rows) {
        ctx.say(`${r.recommendation.class.padEnd(8)} ${r.name}  nonzeros ${r.nonzeros}/${r.entries}  ‖Δ‖₂ ${r.l2.toPrecision(4)}  ‖Δ‖∞ ${r.linf.toPrecision(4)}${r.rank ? `  rank≈${r.rank.rank ?? '>' + r.rank.searchedUpTo}` : ''}  — ${r.reason}`);
      }
      for (const w of result.warnings) ctx.say(`warning: ${w}`);
      const out = str(args, 'write-policy');
      if (out) {
        const policy = validatePolicy(JSON.parse(JSON.stringify(result.policy)) as unknown, out);
        await writeFileAtomic(out, serializePolicy(policy, /\.ya?ml$/i.test(out) ? 'yaml' : 'json'));
        ctx.say(`wrote the recommended policy to ${out}`);
      }
      ctx.emit({ seconds, peakRssBytes: peakRssBytes(), tensors: result.rows, policy: result.policy, warnings: result.warnings, ...(out ? { policyFile: out } : {}) });
      return EXIT_OK;
    } finally {
      await base.close();
      await ft.close();
    }
  },
};

export const policyShow: Command = {
  name: 'policy show',
  summary: 'print the per-tensor classes a policy file or template resolves to for a model',
  help: `usage: fti policy show FILE|TEMPLATE --model PATH [--json]

Templates: lora-attention, lora-all-linear, bitfit, head-only, bounded-full.`,
  options: { model: { type: 'string' } },
  positionals: [1, 1],
  async run(args, ctx) {
    const modelPath = str(args, 'model');
    if (!modelPath) throw new UsageError('policy show: --model PATH is required');
    const model = await openModelReader(modelPath);
    try {
      const { policy, source } = await loadPolicy(args.positionals[0]!, model);
      const rows = describeResolution(policy, model.tensors);
      ctx.say(`policy ${source} on ${modelPath}:\n${formatResolution(rows)}`);
      ctx.emit({ policy: source, tensors: rows });
      return EXIT_OK;
    } finally {
      await model.close();
    }
  },
};
