/**
 * End-to-end `fti` on synthetic Llama-shaped BF16 models (dim 256, MLP 688, vocab 512; the
 * layer count sets the size, so tensors — and blocks — are the same size at every scale):
 *   commit   `fti commit` of the base (the manifest a registry trusts; once per base model)
 *   certify  `fti certify --base-manifest` under `lora-attention` (merged rank-4 LoRA on
 *            q_proj/v_proj) and `bounded-full` (every tensor moved by 0.5 % relative L2)
 *   profile  `fti profile` of the LoRA fine-tune
 * Each run is a separate process (its JSON reports seconds and peak RSS), with the CLI's
 * default worker count. Records: certify.<template>.seconds|weights_per_s|weights_per_s_per_core
 * .<size>, certify.<template>.peak_rss_mib.<size>, certify.commit.seconds|peak_rss_mib.<size>,
 * profile.seconds.<size>, and certify.<template>.peak_rss_ratio.<big>_vs_<small> (memory
 * must not grow with the model: the reader holds one tensor at a time).
 * Sizes: --smoke 0.04M; --quick 1M (lora-attention only); default 1M; --large 1M, 10M, 50M;
 * FTI_BENCH_CERTIFY_SIZES=1M,10M picks sizes explicitly.
 * The headline `certify.bounded_full_weights_per_s_per_core` is the largest size's figure.
 * FTI_BENCH_CERTIFY_JS=1M (sizes) also certifies those sizes forced to the JS backend
 * (FTI_BACKEND=js): records certify.<template>.js_seconds.<size> and
 * certify.<template>.native_speedup_vs_js.<size>; the certificates must be byte-identical.
 * (JS at 50M would take many hours on this machine; 1M is the comparison that fits.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { denseDrift, llamaBase, llamaParameters, loraMerge, writeModel, type LlamaShape } from '../model/synthetic.ts';
import type { Reporter, BenchOptions } from './harness.ts';

const OUT = join(import.meta.dirname, 'out', 'certify');

interface Size {
  readonly label: string;
  readonly shape: LlamaShape;
}

const SIZES: Record<string, Size> = {
  '0.04M': { label: '0.04M', shape: { dim: 32, mlp: 88, vocab: 256, layers: 2 } },
  '1M': { label: '1M', shape: { dim: 256, mlp: 688, vocab: 512, layers: 1 } },
  '10M': { label: '10M', shape: { dim: 256, mlp: 688, vocab: 512, layers: 12 } },
  '50M': { label: '50M', shape: { dim: 256, mlp: 688, vocab: 512, layers: 63 } },
};

interface CliRun {
  readonly code: number;
  readonly doc: Record<string, unknown>;
  readonly stderr: string;
}

function fti(args: string[], env: NodeJS.ProcessEnv = process.env): CliRun {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'cli', 'main.ts'), ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28, env });
  let doc: Record<string, unknown> = {};
  try {
    doc = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    // reported below with stderr
  }
  return { code: r.status ?? -1, doc, stderr: r.stderr };
}

function need(run: CliRun, what: string, code = 0): CliRun {
  if (run.code !== code) throw new Error(`${what}: exit ${run.code}, expected ${code}\n${run.stderr.slice(-2000)}`);
  return run;
}

async function models(size: Size): Promise<{ dir: string; params: number }> {
  const dir = join(OUT, size.label);
  const params = llamaParameters(size.shape);
  if (!existsSync(join(dir, 'ready'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const base = llamaBase(size.shape);
    await writeModel(join(dir, 'base', 'model.safetensors'), base, 'BF16', 'fti bench');
    await writeModel(join(dir, 'lora', 'model.safetensors'), loraMerge(base, { rank: 4, alpha: 8, targets: ['q_proj', 'v_proj'] }).ft, 'BF16', 'fti bench');
    await writeModel(join(dir, 'dense', 'model.safetensors'), denseDrift(base, 0.005), 'BF16', 'fti bench');
    mkdirSync(join(dir, 'ready'));
  }
  return { dir, params };
}

const mib = (doc: Record<string, unknown>) => Number(doc.peakRssBytes) / 2 ** 20;

export async function run(opts: BenchOptions & { smoke?: boolean }, report: Reporter): Promise<void> {
  const fromEnv = process.env.FTI_BENCH_CERTIFY_SIZES?.split(',').filter((x) => x in SIZES);
  const labels = fromEnv && fromEnv.length > 0 ? fromEnv : opts.smoke ? ['0.04M'] : opts.large ? ['1M', '10M', '50M'] : ['1M'];
  const templates = opts.quick && !opts.smoke ? ['lora-attention'] : ['lora-attention', 'bounded-full'];
  const cores = availableParallelism();
  const jsSizes = new Set(process.env.FTI_BENCH_CERTIFY_JS?.split(',').filter((x) => x in SIZES) ?? []);
  let headline: number | undefined;
  const rows: (string | number)[][] = [];
  const rss = new Map<string, number>();
  for (const label of labels) {
    const size = SIZES[label]!;
    const { dir, params } = await models(size);
    process.stderr.write(`[certify] ${label}: ${params} parameters in ${dir}\n`);
    const manifest = join(dir, 'base-manifest.json');
    const commit = need(fti(['commit', '--model', join(dir, 'base'), '--out', manifest]), `commit ${label}`).doc;
    report.record(`certify.commit.seconds.${label}`, 's', Number(commit.seconds));
    report.record(`certify.commit.peak_rss_mib.${label}`, 'MiB', mib(commit));
    rows.push([label, params, 'commit base', Number(commit.seconds), params / Number(commit.seconds), mib(commit), '—']);
    for (const template of templates) {
      const ft = join(dir, template === 'lora-attention' ? 'lora' : 'dense');
      const out = join(dir, `out-${template}`);
      rmSync(out, { recursive: true, force: true });
      const doc = need(fti(['certify', '--base', join(dir, 'base'), '--ft', ft, '--policy', template, '--base-manifest', manifest, '--out', out]), `certify ${label} ${template}`).doc;
      const seconds = Number(doc.seconds);
      const key = template.replace('-', '_');
      const proven = (doc.tensors as { blocks: number }[]).reduce((a, t) => a + t.blocks, 0);
      report.record(`certify.${key}.seconds.${label}`, 's', seconds);
      report.record(`certify.${key}.weights_per_s.${label}`, 'weights/s', params / seconds);
      report.record(`certify.${key}.weights_per_s_per_core.${label}`, 'weights/s', params / seconds / cores);
      report.record(`certify.${key}.peak_rss_mib.${label}`, 'MiB', mib(doc));
      rss.set(`${key}/${label}`, mib(doc));
      if (template === 'bounded-full') headline = params / seconds / cores;
      rows.push([label, params, `certify ${template} (${proven} blocks)`, seconds, params / seconds, mib(doc), String(doc.verdict)]);
      if (jsSizes.has(label)) {
        const jsOut = join(dir, `out-${template}-js`);
        rmSync(jsOut, { recursive: true, force: true });
        const js = need(fti(['certify', '--base', join(dir, 'base'), '--ft', ft, '--policy', template, '--base-manifest', manifest, '--out', jsOut], { ...process.env, FTI_BACKEND: 'js' }), `certify ${label} ${template} (JS)`).doc;
        const same = readFileSync(join(out, 'certificate.bin')).equals(readFileSync(join(jsOut, 'certificate.bin')));
        if (!same) throw new Error(`certify ${label} ${template}: the JS backend's certificate differs from the native one`);
        const jsSeconds = Number(js.seconds);
        report.record(`certify.${key}.js_seconds.${label}`, 's', jsSeconds);
        report.record(`certify.${key}.native_speedup_vs_js.${label}`, 'x', jsSeconds / seconds);
        rows.push([label, params, `  same, JS backend (identical certificate; native ${(jsSeconds / seconds).toFixed(1)}× faster)`, jsSeconds, params / jsSeconds, mib(js), String(js.verdict)]);
      }
    }
    const prof = need(fti(['profile', '--base', join(dir, 'base'), '--ft', join(dir, 'lora')]), `profile ${label}`).doc;
    report.record(`profile.seconds.${label}`, 's', Number(prof.seconds));
    rows.push([label, params, 'profile', Number(prof.seconds), params / Number(prof.seconds), mib(prof), '—']);
  }
  if (headline !== undefined) report.record('certify.bounded_full_weights_per_s_per_core', 'weights/s/core', headline);
  report.table(`End-to-end fti on synthetic Llama-shaped BF16 models (${cores} cores, default workers)`, ['model', 'parameters', 'step', 's', 'weights/s', 'peak RSS MiB', 'verdict'], rows);
  if (labels.length > 1) {
    const small = labels[0]!;
    for (const template of templates) {
      const key = template.replace('-', '_');
      for (const big of labels.slice(1)) {
        const ratio = rss.get(`${key}/${big}`)! / rss.get(`${key}/${small}`)!;
        report.record(`certify.${key}.peak_rss_ratio.${big}_vs_${small}`, 'x', ratio);
        process.stdout.write(`peak RSS of certify ${template}: ${big} / ${small} = ${ratio.toFixed(2)}×\n`);
      }
    }
  }
}
