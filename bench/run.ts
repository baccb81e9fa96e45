/**
 * `npm run bench [-- --quick | --large | --smoke] [--json FILE] [--only msm,classes,…] [--backend auto|native|js]`
 * Prints tables on stdout; with --json writes `[{ name, unit, value }]` records. The backend
 * (default: FTI_BACKEND, else auto = native when built) runs the provers and the verifier's
 * curve ops of the class, aggregate and certify benchmarks; `msm` always measures the JS MSM
 * and `native` always compares the two.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { installBackend } from '../native/loader.ts';
import { Reporter, type BenchOptions } from './harness.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    quick: { type: 'boolean', default: false },
    large: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    backend: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(`usage: npm run bench -- [--quick] [--large] [--smoke] [--json FILE] [--only msm,native,classes,aggregate,certify] [--backend auto|native|js]
  --quick   sizes that finish within a minute or two
  --large   add 2^17 … 2^20 where meaningful
  --smoke   tiny sizes only (CI: checks the benchmarks run, figures not meaningful)
  --json    also write the records as a JSON array of { name, unit, value }
  --backend curve backend of the prover and verifier benchmarks (default: FTI_BACKEND, else auto)
`);
  process.exit(0);
}

const opts: BenchOptions & { smoke: boolean } = { quick: values.quick || values.smoke, large: values.large, smoke: values.smoke };
const modules: Record<string, () => Promise<{ run: (o: typeof opts, r: Reporter) => Promise<void> }>> = {
  msm: () => import('./msm.ts'),
  native: () => import('./native.ts'),
  classes: () => import('./classes.ts'),
  aggregate: () => import('./aggregate.ts'),
  certify: () => import('./certify.ts'),
};
if (values.backend !== undefined) process.env.FTI_BACKEND = values.backend;
const backend = installBackend();
const selected = values.only ? values.only.split(',') : Object.keys(modules);
const report = new Reporter();
process.stdout.write(`# fti benchmarks (${opts.smoke ? 'smoke' : opts.quick ? 'quick' : opts.large ? 'large' : 'default'}) — node ${process.version}, ${backend.name} backend${backend.reason ? ` (${backend.reason})` : ''}\n`);
for (const name of selected) {
  const load = modules[name];
  if (!load) {
    process.stderr.write(`unknown benchmark module ${name}; known: ${Object.keys(modules).join(', ')}\n`);
    process.exit(2);
  }
  const t0 = performance.now();
  const mod = await load();
  await mod.run(opts, report);
  process.stderr.write(`[${name}] ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
if (values.json) {
  writeFileSync(values.json, JSON.stringify(report.records, null, 2) + '\n');
  process.stderr.write(`wrote ${report.records.length} records to ${values.json}\n`);
}
