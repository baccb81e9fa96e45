/**
 * Native server processes of the local stack: start detached with output appended to a log
 * file and the pid in a pid file, check that a recorded pid is still our server (not a reused
 * pid), wait for readiness with a deadline whose error names the log, and stop by pid
 * (SIGTERM to the process group, SIGKILL after a grace period).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface StartSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly pidFile: string;
  readonly logFile: string;
}

/** Start a detached server; returns its pid once the pid file is written. */
export function startDetached(spec: StartSpec): number {
  mkdirSync(dirname(spec.pidFile), { recursive: true });
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const fd = openSync(spec.logFile, 'a');
  try {
    writeFileSync(fd, `\n=== ${new Date().toISOString()} start: ${spec.command} ${spec.args.join(' ')}\n`);
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command} (see ${spec.logFile})`);
    child.unref();
    writeFileSync(spec.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function readPid(pidFile: string): number | null {
  if (!existsSync(pidFile)) return null;
  const n = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(n) && n > 0 ? n : null;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped) still answers signal 0; /proc says otherwise.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

/**
 * Whether `pid` is alive and its command line contains `marker` (the binary path or main
 * class), so a pid file left by a crash never makes us signal an unrelated process. Without
 * /proc the marker cannot be checked and liveness alone decides.
 */
export function isOurs(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(marker);
  } catch {
    return true;
  }
}

/** The live pid recorded for a service, or null (a stale pid file is removed). */
export function runningPid(pidFile: string, marker: string): number | null {
  const pid = readPid(pidFile);
  if (pid === null) return null;
  if (isOurs(pid, marker)) return pid;
  rmSync(pidFile, { force: true });
  return null;
}

/** SIGTERM the server's process group, wait up to `graceMs`, then SIGKILL; removes the pid file. */
export async function stopPid(pid: number, pidFile: string, graceMs = 15_000): Promise<'stopped' | 'killed'> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig); // detached start made it a group leader
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      rmSync(pidFile, { force: true });
      return 'stopped';
    }
    await sleep(100);
  }
  signal('SIGKILL');
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  rmSync(pidFile, { force: true });
  return 'killed';
}

/** Whether something accepts TCP connections on host:port (within `timeoutMs`). */
export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The last `n` lines of a log file, for error messages. */
export function logTail(logFile: string, n = 15): string {
  if (!existsSync(logFile)) return '(no log yet)';
  const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}

/**
 * Poll `ready` until it returns true, the process dies, or `timeoutMs` passes; the error names
 * the service, the log file and its last lines.
 */
export async function waitReady(name: string, ready: () => Promise<boolean>, opts: { timeoutMs: number; pid: number | null; logFile: string }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await ready().catch(() => false)) return;
    if (opts.pid !== null && !isAlive(opts.pid)) {
      throw new Error(`${name} exited during startup; see ${opts.logFile}:\n${logTail(opts.logFile)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${name} not ready after ${Math.round(opts.timeoutMs / 1000)} s; see ${opts.logFile}:\n${logTail(opts.logFile)}`);
    }
    await sleep(250);
  }
}
