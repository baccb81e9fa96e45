/**
 * CLI plumbing shared by every `fti` command: exit codes, the one-JSON-document rule for
 * `--json`, human output and progress on stderr, pino logs, and the mapping from typed
 * errors to exit codes (never a stack trace for bad input).
 *
 * Exit codes (DESIGN.md): 0 accepted/valid, 3 policy violation or invalid certificate,
 * 2 bad input or usage, 1 internal error.
 */
import { pino, type Logger } from 'pino';
import { ModelError } from '../model/errors.ts';
import { DriftPolicyViolation, SmdpError } from '../smdp/errors.ts';

export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_REJECTED = 3;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** A usage error: unknown flag, missing argument. Exit 2 with the command's usage hint. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Bad input found by the CLI itself (a path that does not exist, an unreadable file). */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface CommandContext {
  readonly json: boolean;
  readonly log: Logger;
  /** A human-readable line on stderr (stderr stays human with --json too). */
  readonly say: (line: string) => void;
  /** The one JSON document on stdout (only with --json). */
  readonly emit: (doc: unknown) => void;
}

export function makeLogger(level: LogLevel): Logger {
  return pino({ level, base: undefined }, pino.destination(2));
}

export function makeContext(json: boolean, level: LogLevel): CommandContext {
  let emitted = false;
  return {
    json,
    log: makeLogger(level),
    say: (line) => process.stderr.write(line + '\n'),
    emit: (doc) => {
      if (!json) return;
      if (emitted) throw new Error('emit: a command printed two JSON documents');
      emitted = true;
      process.stdout.write(JSON.stringify(doc, jsonReplacer, 2) + '\n');
    },
  };
}

/** bigints as decimal strings, byte arrays as hex. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return value;
}

/** Map any error to an exit code and a one-line message (stack only at debug level). */
export function classifyError(e: unknown): { exit: number; kind: string; message: string; code?: string } {
  if (e instanceof UsageError) return { exit: EXIT_BAD_INPUT, kind: 'usage', message: e.message };
  if (e instanceof InputError) return { exit: EXIT_BAD_INPUT, kind: 'bad-input', message: e.message, code: e.code };
  if (e instanceof SmdpError) return { exit: EXIT_BAD_INPUT, kind: 'bad-input', message: e.message, code: e.code };
  if (e instanceof DriftPolicyViolation) return { exit: EXIT_REJECTED, kind: 'policy-violation', message: e.message };
  if (e instanceof ModelError) return { exit: EXIT_BAD_INPUT, kind: 'bad-input', message: e.message, code: e.code };
  const message = e instanceof Error ? e.message : String(e);
  return { exit: EXIT_INTERNAL, kind: 'internal', message };
}

/** A progress line on stderr: redrawn in place on a terminal, every 10% otherwise. */
export class Progress {
  private lastPct = -1;
  private readonly tty = process.stderr.isTTY === true;
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly enabled = true,
  ) {}

  update(done: number, detail = ''): void {
    if (!this.enabled || this.total <= 0) return;
    const pct = Math.floor((100 * done) / this.total);
    if (this.tty) {
      const width = 30;
      const filled = Math.round((width * done) / this.total);
      process.stderr.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${detail}`.slice(0, 160).padEnd(80));
      if (done >= this.total) process.stderr.write('\n');
    } else if (pct >= this.lastPct + 10 || done >= this.total) {
      this.lastPct = pct;
      process.stderr.write(`${this.label}: ${done}/${this.total} (${pct}%) ${detail}\n`);
    }
  }
}
