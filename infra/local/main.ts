/**
 * `node --import tsx infra/local/main.ts <command> [service…] [options]` — the local stack's
 * command line (npm run stack:install | stack:up | stack:down | stack:status | stack:env).
 *
 *   install            install every server into the cache (idempotent; skips what is present)
 *   up [--no-install]  start what is not running, wait until ready, create the bucket and topic
 *   down [--purge]     stop our servers by pid; --purge also deletes their data dirs
 *   status [--json]    installed? running? answering? (exit 1 when any service is not ready)
 *   env                print the environment variables that point clients at the stack
 *
 * Services default to all three: temporal, kafka, s3.
 */
import { parseArgs } from 'node:util';
import { SERVICE_NAMES, VERSIONS, stackConfig, type ServiceName } from './config.ts';
import { installServices } from './install.ts';
import { stackDown, stackStatus, stackUp } from './stack.ts';

// The stack targets Node >= 20.19 (package.json engines); the SDK's notice about future Node 22 releases is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = 'usage: node --import tsx infra/local/main.ts install|up|down|status|env [temporal|kafka|s3 …] [--no-install] [--purge] [--json]';

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'no-install': { type: 'boolean' }, purge: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...rest] = positionals;
  if (values.help === true || command === undefined) {
    say(USAGE);
    return command === undefined && values.help !== true ? 2 : 0;
  }
  const unknown = rest.filter((s) => !(SERVICE_NAMES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    process.stderr.write(`unknown service(s): ${unknown.join(', ')} (expected ${SERVICE_NAMES.join(', ')})\n`);
    return 2;
  }
  const names: readonly ServiceName[] = rest.length > 0 ? (rest as ServiceName[]) : SERVICE_NAMES;
  const cfg = stackConfig();
  switch (command) {
    case 'install': {
      const t0 = Date.now();
      say(`installing ${names.join(', ')} into ${cfg.dir} (temporal ${VERSIONS.temporal}, versitygw ${VERSIONS.versitygw}, kafka ${VERSIONS.kafka})`);
      const results = await installServices(cfg, names);
      for (const r of results) say(`  ${r.name.padEnd(9)} ${r.status.padEnd(9)} ${r.seconds.toFixed(1).padStart(6)} s  ${r.path}`);
      say(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return 0;
    }
    case 'up': {
      const r = await stackUp(names, { install: values['no-install'] !== true, log: say });
      if (values.json === true) say(JSON.stringify(r, null, 2));
      else for (const s of r.services) say(`  ${s.name.padEnd(9)} ${s.state.padEnd(9)} ${s.endpoint}`);
      say(`stack up in ${r.seconds.toFixed(1)} s`);
      return 0;
    }
    case 'down': {
      const results = await stackDown(names, { purge: values.purge === true });
      for (const r of results) say(`  ${r.name.padEnd(9)} ${r.outcome}${r.purged ? ', data deleted' : ''}`);
      return 0;
    }
    case 'status': {
      const list = await stackStatus(names, cfg);
      if (values.json === true) say(JSON.stringify(list, null, 2));
      else for (const s of list) say(`  ${s.name.padEnd(9)} ${s.state.padEnd(13)} ${s.endpoint.padEnd(24)} ${s.pid !== null ? `pid ${s.pid}  ` : ''}${s.installed ? '' : '(not installed) '}log ${s.log}`);
      return list.every((s) => s.state === 'running' || s.state === 'external') ? 0 : 1;
    }
    case 'env': {
      say(`export FTI_TEMPORAL_ADDRESS=${cfg.temporal.address}`);
      say(`export FTI_TEMPORAL_NAMESPACE=${cfg.temporal.namespace}`);
      say(`export FTI_TEMPORAL_BIN=${cfg.temporal.bin}`);
      say(`export FTI_KAFKA_BROKERS=${cfg.kafka.brokers.join(',')}`);
      say(`export FTI_KAFKA_TOPIC=${cfg.kafka.topic}`);
      say(`export FTI_S3_ENDPOINT=${cfg.s3.endpoint}`);
      say(`export FTI_S3_REGION=${cfg.s3.region}`);
      say(`export FTI_S3_BUCKET=${cfg.s3.bucket}`);
      say(`export FTI_S3_ACCESS_KEY_ID=${cfg.s3.accessKeyId}`);
      say(`export FTI_S3_SECRET_ACCESS_KEY=${cfg.s3.secretAccessKey}`);
      return 0;
    }
    default:
      process.stderr.write(`unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`stack: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
