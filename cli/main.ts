#!/usr/bin/env node
/**
 * `fti` — Fine-Tuning Integrity. Dispatches to subcommands; every command has --help,
 * --json (exactly one JSON document on stdout; human output and progress on stderr) and
 * --log-level. Exit codes: 0 accepted/valid, 3 policy violation or invalid certificate,
 * 2 bad input or usage, 1 internal error.
 */
import { parseArgs } from 'node:util';
import type { Command } from './command.ts';
import { certify, commit, verify } from './commands/certify.ts';
import { checkWeights } from './commands/check-weights.ts';
import { replay, replayHistory, status, submit } from './commands/cluster.ts';
import { demo } from './commands/demo.ts';
import { policyShow, profile } from './commands/profile.ts';
import { srsDev, srsInfo } from './commands/srs.ts';
import { EXIT_BAD_INPUT, EXIT_OK, classifyError, jsonReplacer, makeContext, type LogLevel } from './io.ts';

const COMMANDS: Command[] = [demo, certify, verify, commit, checkWeights, profile, policyShow, srsDev, srsInfo, submit, status, replay, replayHistory];

const COMMON = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  'log-level': { type: 'string', default: 'warn' },
} as const;

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `fti — certify that a fine-tuned model differs from its base only as a policy allows

usage: fti <command> [options]     (fti <command> --help for details)

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

common options: --json (one JSON document on stdout), --log-level LEVEL, --help
exit codes: 0 accepted/valid, 3 policy violation or invalid certificate, 2 bad input or usage, 1 internal error
`;
}

function findCommand(argv: readonly string[]): { cmd: Command; rest: string[] } | undefined {
  for (const cmd of [...COMMANDS].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)) {
    const words = cmd.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { cmd, rest: argv.slice(words.length) };
  }
  return undefined;
}

export async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(topHelp());
    return argv.length === 0 ? EXIT_BAD_INPUT : EXIT_OK;
  }
  const found = findCommand(argv);
  const wantsJson = argv.includes('--json');
  if (!found) {
    const msg = `unknown command ${JSON.stringify(argv.slice(0, 2).join(' '))}; run fti --help for the list`;
    return report(wantsJson, { exit: EXIT_BAD_INPUT, kind: 'usage', message: msg });
  }
  const { cmd, rest } = found;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...cmd.options, ...COMMON }, allowPositionals: true, strict: true });
  } catch (e) {
    return report(wantsJson, { exit: EXIT_BAD_INPUT, kind: 'usage', message: `${cmd.name}: ${(e as Error).message}\n${cmd.help.split('\n')[0]}` });
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help === true) {
    process.stdout.write(cmd.help + '\n\ncommon options: --json, --log-level LEVEL (default warn), --help\n');
    return EXIT_OK;
  }
  const json = values.json === true;
  const level = values['log-level'] as LogLevel;
  if (!LEVELS.includes(level)) return report(json, { exit: EXIT_BAD_INPUT, kind: 'usage', message: `--log-level: expected one of ${LEVELS.join(', ')}` });
  const [min, max] = cmd.positionals;
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    return report(json, { exit: EXIT_BAD_INPUT, kind: 'usage', message: `${cmd.name}: expected ${min === max ? min : `${min}..${max}`} argument(s), got ${parsed.positionals.length}\n${cmd.help.split('\n')[0]}` });
  }
  const ctx = makeContext(json, level);
  try {
    return await cmd.run({ values: parsed.values, positionals: parsed.positionals }, ctx);
  } catch (e) {
    const c = classifyError(e);
    if (c.kind === 'internal') ctx.log.error({ err: e }, 'internal error');
    else ctx.log.debug({ err: e }, c.kind);
    return report(json, c);
  }
}

function report(json: boolean, c: { exit: number; kind: string; message: string; code?: string }): number {
  process.stderr.write(`fti: ${c.kind === 'internal' ? 'internal error: ' : ''}${c.message}\n`);
  if (json) process.stdout.write(JSON.stringify({ error: { kind: c.kind, code: c.code, message: c.message }, exit: c.exit }, jsonReplacer, 2) + '\n');
  return c.exit;
}

// Entry point (not when imported by tests).
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/cli\//, '/cli/'))) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`fti: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}


