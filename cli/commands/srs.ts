/** `fti srs dev --vars N --out FILE` and `fti srs info FILE`. */
import { readFile } from 'node:fs/promises';
import { parseSrs } from '../../smdp/srs.ts';
import { devSrs } from '../../smdp/srs-insecure-dev.ts';
import { EXIT_OK, InputError, UsageError } from '../io.ts';
import { writeFileAtomic } from '../files.ts';
import { str, type Command } from '../command.ts';

export const srsDev: Command = {
  name: 'srs dev',
  summary: 'make an INSECURE development SRS (public trapdoor; tests and demos only)',
  help: `usage: fti srs dev --vars N --out FILE [--seed S] [--json]

Writes a development SRS for blocks of up to 2^N weights. Its trapdoor is derived from a
public seed: anyone can forge proofs under it. Use a ceremony SRS for real certificates.

  --vars N     number of variables (block size 2^N), 1..22 (default 16)
  --out FILE   where to write the SRS (written atomically)
  --seed S     public seed (default fti-dev)`,
  options: { vars: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' } },
  positionals: [0, 0],
  async run(args, ctx) {
    const out = str(args, 'out');
    if (!out) throw new UsageError('srs dev: --out FILE is required');
    const varsRaw = str(args, 'vars') ?? '16';
    const N = Number(varsRaw);
    if (!Number.isInteger(N) || N < 1 || N > 22) throw new UsageError(`srs dev: --vars must be an integer in 1..22, got ${JSON.stringify(varsRaw)}`);
    const seed = str(args, 'seed') ?? 'fti-dev';
    ctx.say(`warning: generating an INSECURE dev SRS (N = ${N}, seed ${JSON.stringify(seed)}): anyone can forge proofs under it`);
    const t0 = performance.now();
    const { srs, bytes } = devSrs(N, seed);
    await writeFileAtomic(out, bytes);
    const info = { file: out, id: srs.id, kind: srs.kind, label: srs.label, N: srs.N, bytes: bytes.length, seconds: (performance.now() - t0) / 1000 };
    ctx.say(`wrote ${out}: SRS ${srs.id} (N = ${N}, ${bytes.length} bytes)`);
    ctx.emit(info);
    return EXIT_OK;
  },
};

export const srsInfo: Command = {
  name: 'srs info',
  summary: 'check an SRS file and print its id, kind and size',
  help: `usage: fti srs info FILE [--expect-digest HEX] [--json]

Parses the SRS, checks its digest (and the expected one if given) and every point's encoding.

  --expect-digest HEX   the ceremony's published SRS digest`,
  options: { 'expect-digest': { type: 'string' } },
  positionals: [1, 1],
  async run(args, ctx) {
    const file = args.positionals[0]!;
    const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
      throw new InputError('NOT_FOUND', `${file}: cannot read SRS file (${e.code ?? e.message})`);
    });
    const expect = str(args, 'expect-digest');
    if (expect !== undefined && !/^[0-9a-f]{64}$/.test(expect)) throw new UsageError('--expect-digest: expected 64 lowercase hex characters');
    const srs = parseSrs(bytes, expect === undefined ? undefined : Buffer.from(expect, 'hex'));
    const info = { file, id: srs.id, kind: srs.kind, label: srs.label, N: srs.N, maxBlockWeights: 2 ** srs.N, bytes: bytes.length, insecure: srs.kind === 'dev' };
    ctx.say(`${file}: SRS ${srs.id}\n  kind ${srs.kind}${srs.kind === 'dev' ? ' (INSECURE: public trapdoor)' : ''}, label ${srs.label}\n  N = ${srs.N} (blocks up to ${2 ** srs.N} weights), ${bytes.length} bytes`);
    ctx.emit(info);
    return EXIT_OK;
  },
};
