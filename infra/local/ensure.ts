/**
 * `ensureStack(services)`: what integration tests call first. Whatever already answers on the
 * configured endpoints is used (a running native stack, docker compose, an external cluster);
 * for the rest, when a Docker engine works (`docker info`) and FTI_STACK_MODE is not `native`,
 * infra/docker-compose.yml is started through testcontainers; otherwise the native stack is
 * installed if needed and started (`stackUp`). Either way the bucket and topic are created.
 * Servers started here keep running after the tests (the next test file reuses them);
 * `npm run stack:down` stops native ones.
 *
 * FTI_STACK_MODE: `auto` (default), `native` (never Docker), `docker` (require Docker).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, SERVICE_NAMES, stackConfig, type ServiceName, type StackConfig } from './config.ts';
import { waitReady } from './process.ts';
import { SERVICES } from './services.ts';
import { stackUp, withStackLock } from './stack.ts';

export type StackMode = 'auto' | 'native' | 'docker';

function stackMode(): StackMode {
  const m = process.env.FTI_STACK_MODE ?? 'auto';
  if (m !== 'auto' && m !== 'native' && m !== 'docker') throw new Error(`FTI_STACK_MODE: expected auto, native or docker, got ${JSON.stringify(m)}`);
  return m;
}

/** Whether a Docker engine answers (the CLI alone is not enough). */
export function dockerWorks(): boolean {
  const r = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 15_000 });
  return r.status === 0 && r.stdout.trim() !== '';
}

async function composeUp(cfg: StackConfig, names: readonly ServiceName[]): Promise<void> {
  // Imported lazily: testcontainers is a dev dependency, and the native path must not need it.
  const { DockerComposeEnvironment } = await import('testcontainers');
  await withStackLock(cfg, async () => {
    const env = new DockerComposeEnvironment(join(REPO_ROOT, 'infra'), 'docker-compose.yml')
      .withProjectName('fti-stack')
      .withEnvironment(Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('FTI_') && e[1] !== undefined)))
      // Later test files reuse the containers (fixed ports); stop them with `docker compose -p fti-stack down`.
      .withAutoCleanup(false)
      .withNoRecreate();
    await env.up([...names]);
  });
}

export async function ensureStack(names: readonly ServiceName[] = SERVICE_NAMES, opts: { log?: (line: string) => void } = {}): Promise<StackConfig> {
  const cfg = stackConfig();
  const log = opts.log ?? ((line: string) => process.stderr.write(`[stack] ${line}\n`));
  const answering = await Promise.all(names.map((n) => SERVICES[n].ready(cfg).catch(() => false)));
  const missing = names.filter((_, i) => answering[i] !== true);
  if (missing.length > 0) {
    const mode = stackMode();
    const docker = mode === 'docker' || (mode === 'auto' && dockerWorks());
    if (mode === 'docker' && !dockerWorks()) throw new Error('FTI_STACK_MODE=docker but `docker info` fails: no Docker engine');
    if (docker) {
      log(`starting ${missing.join(', ')} with docker compose (testcontainers)`);
      await composeUp(cfg, missing);
      await Promise.all(missing.map((n) => waitReady(n, () => SERVICES[n].ready(cfg), { timeoutMs: SERVICES[n].startupSeconds * 1000, pid: null, logFile: `docker compose -p fti-stack logs ${n}` })));
    } else {
      await stackUp(missing, { install: true, log });
    }
  }
  for (const n of names) await SERVICES[n].provision(cfg);
  return cfg;
}
