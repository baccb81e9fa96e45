/** The shape of one `fti` subcommand: options for node:util parseArgs, help text, run. */
import type { ParseArgsConfig } from 'node:util';
import type { CommandContext } from './io.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  readonly positionals: readonly string[];
}

export interface Command {
  /** e.g. `srs dev` */
  readonly name: string;
  readonly summary: string;
  /** Usage line(s) and option descriptions, printed by --help. */
  readonly help: string;
  readonly options: OptionSpec;
  /** Positional arguments accepted: [min, max]. */
  readonly positionals: readonly [number, number];
  run(args: ParsedArgs, ctx: CommandContext): Promise<number>;
}

export function str(args: ParsedArgs, key: string): string | undefined {
  const v = args.values[key];
  return typeof v === 'string' ? v : undefined;
}
