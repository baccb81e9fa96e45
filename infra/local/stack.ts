/**
 * Bring the local stack up, down, and report on it. `up` is idempotent: a server of ours that
 * is running and ready is left alone; a compatible server already answering on the configured
 * endpoint (docker compose, a shared cluster, or an endpoint variable pointing elsewhere) is
 * used as is ("external"); otherwise the native server is installed if needed, started
 * detached, waited for, and provisioned (bucket, topic). A lock file serialises concurrent
 * `up`s (test files running in parallel both ensuring the stack).
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SERVICE_NAMES, servicePaths, stackConfig, type ServiceName, type StackConfig } from './config.ts';
import { installServices, isInstalled, type InstallResult } from './install.ts';
import { isAlive, portOpen, runningPid, startDetached, stopPid, waitReady } from './process.ts';
import { SERVICES } from './services.ts';

export type ServiceState = 'running' | 'started' | 'external' | 'stopped' | 'not-installed' | 'unhealthy';

export interface ServiceStatus {
  readonly name: ServiceName;
  readonly state: ServiceState;
  readonly endpoint: string;
  readonly pid: number | null;
  readonly log: string;
  readonly installed: boolean;
}

/** Environment variables that point a service at a server we do not manage. */
const EXTERNAL_VARS: Readonly<Record<ServiceName, string>> = {
  temporal: 'FTI_TEMPORAL_ADDRESS',
  kafka: 'FTI_KAFKA_BROKERS',
  s3: 'FTI_S3_ENDPOINT',
};

function pointsElsewhere(name: ServiceName): boolean {
  const v = process.env[EXTERNAL_VARS[name]];
  return v !== undefined && v !== '';
}

async function answers(cfg: StackConfig, name: ServiceName): Promise<boolean> {
  return SERVICES[name].ready(cfg).catch(() => false);
}

// ---------------------------------------------------------------- lock

/** Hold an exclusive lock file (owner pid inside) around `fn`; a lock whose owner died is taken over. */
export async function withStackLock<T>(cfg: StackConfig, fn: () => Promise<T>, timeoutMs = 20 * 60_000): Promise<T> {
  const dir = join(cfg.dir, 'run');
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, 'stack.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(readFileSync(lock, 'utf8').trim());
      if (!Number.isInteger(owner) || owner <= 0 || !isAlive(owner)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`stack: another process (pid ${owner}) holds ${lock} for over ${timeoutMs / 1000} s`);
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

// ---------------------------------------------------------------- status

export async function stackStatus(names: readonly ServiceName[] = SERVICE_NAMES, cfg = stackConfig()): Promise<ServiceStatus[]> {
  return Promise.all(names.map(async (name): Promise<ServiceStatus> => {
    const def = SERVICES[name];
    const paths = servicePaths(cfg, name);
    const installed = isInstalled(cfg, name);
    const pid = runningPid(paths.pid, def.marker(cfg));
    const ok = await answers(cfg, name);
    let state: ServiceState;
    if (pid !== null) state = ok ? 'running' : 'unhealthy';
    else if (ok) state = 'external';
    else state = installed || pointsElsewhere(name) ? 'stopped' : 'not-installed';
    return { name, state, endpoint: def.endpoint(cfg), pid, log: paths.log, installed };
  }));
}

// ---------------------------------------------------------------- up

export interface UpOptions {
  /** Install missing servers (default true); false makes a missing install an error. */
  readonly install?: boolean;
  readonly log?: (line: string) => void;
}

export interface UpResult {
  readonly services: ServiceStatus[];
  readonly installs: InstallResult[];
  readonly seconds: number;
}

export async function stackUp(names: readonly ServiceName[] = SERVICE_NAMES, opts: UpOptions = {}, cfg = stackConfig()): Promise<UpResult> {
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  return withStackLock(cfg, async () => {
    const states = new Map<ServiceName, ServiceState>();
    const toStart: ServiceName[] = [];
    for (const name of names) {
      const def = SERVICES[name];
      const paths = servicePaths(cfg, name);
      const pid = runningPid(paths.pid, def.marker(cfg));
      if (pid !== null) {
        // Ours and alive: ready now, or still starting (a previous `up` was interrupted) — wait for it below.
        states.set(name, 'running');
        continue;
      }
      if (pointsElsewhere(name) || (await answers(cfg, name))) {
        states.set(name, 'external');
        continue;
      }
      for (const port of def.ports(cfg)) {
        if (await portOpen(cfg.host, port)) {
          throw new Error(`${name}: port ${cfg.host}:${port} is in use by a process that is not a ${name} server of this stack; stop it or move ${name} to other ports (infra/README.md, environment variables)`);
        }
      }
      toStart.push(name);
    }
    const missing = toStart.filter((n) => !isInstalled(cfg, n));
    let installs: InstallResult[] = [];
    if (missing.length > 0) {
      if (opts.install === false) throw new Error(`not installed: ${missing.join(', ')}; run \`npm run stack:install\` first`);
      log(`installing ${missing.join(', ')} into ${cfg.dir} (first run: a few minutes)`);
      installs = await installServices(cfg, missing);
      for (const r of installs) log(`  ${r.name}: ${r.status} in ${r.seconds.toFixed(1)} s (${r.path})`);
    }
    const pids = new Map<ServiceName, number>();
    for (const name of toStart) {
      const spec = SERVICES[name].prepare(cfg);
      pids.set(name, startDetached(spec));
      states.set(name, 'started');
      log(`${name}: started pid ${pids.get(name)} (log ${spec.logFile})`);
    }
    await Promise.all(names.map(async (name) => {
      const def = SERVICES[name];
      const paths = servicePaths(cfg, name);
      const pid = pids.get(name) ?? runningPid(paths.pid, def.marker(cfg));
      const logFile = states.get(name) === 'external' ? `(external server at ${def.endpoint(cfg)}; not managed here)` : paths.log;
      await waitReady(name, () => def.ready(cfg), { timeoutMs: def.startupSeconds * 1000, pid, logFile });
      await def.provision(cfg);
      log(`${name}: ready at ${def.endpoint(cfg)}`);
    }));
    const services = names.map((name): ServiceStatus => {
      const def = SERVICES[name];
      const paths = servicePaths(cfg, name);
      return { name, state: states.get(name) ?? 'running', endpoint: def.endpoint(cfg), pid: runningPid(paths.pid, def.marker(cfg)), log: paths.log, installed: isInstalled(cfg, name) };
    });
    return { services, installs, seconds: (Date.now() - t0) / 1000 };
  });
}

// ---------------------------------------------------------------- down

export interface DownResult {
  readonly name: ServiceName;
  readonly outcome: 'stopped' | 'killed' | 'not-running';
  readonly purged: boolean;
}

/** Stop our servers by pid (never by name); `purge` also deletes their data dirs (installs stay). */
export async function stackDown(names: readonly ServiceName[] = SERVICE_NAMES, opts: { purge?: boolean } = {}, cfg = stackConfig()): Promise<DownResult[]> {
  return withStackLock(cfg, () => Promise.all(names.map(async (name): Promise<DownResult> => {
    const def = SERVICES[name];
    const paths = servicePaths(cfg, name);
    const pid = runningPid(paths.pid, def.marker(cfg));
    const outcome = pid === null ? 'not-running' : await stopPid(pid, paths.pid);
    const purged = opts.purge === true && existsSync(paths.data);
    if (purged) rmSync(paths.data, { recursive: true, force: true });
    return { name, outcome, purged };
  })));
}
