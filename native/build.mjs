#!/usr/bin/env node
// Builds the native BLS12-381 backend (native/src, a Rust napi-rs addon over blst) and copies
// it to native/fti_native.node, where native/loader.ts looks for it.
//
//   npm run build:native            cargo build --release --locked, then copy
//   FTI_NATIVE_REQUIRED=1 npm run build:native
//                                   fail (exit 1) instead of skipping when cargo is absent
//
// Without cargo this prints why and exits 0: fti then runs on its pure-JS backend. Plain Node,
// no dependencies: it runs before anything else is built.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const required = process.env.FTI_NATIVE_REQUIRED === '1';

function log(msg) {
  process.stderr.write(`build:native: ${msg}\n`);
}

const probe = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  log('cargo not found: the native backend is not built; fti uses its pure-JS backend.');
  log('install Rust (https://rustup.rs) and run `npm run build:native` again for the native backend.');
  process.exit(required ? 1 : 0);
}
log(probe.stdout.trim());

const build = spawnSync('cargo', ['build', '--release', '--locked'], { cwd: here, stdio: 'inherit' });
if (build.error || build.status !== 0) {
  log(`cargo build failed (${build.error ? build.error.message : `exit ${build.status}`})`);
  process.exit(1);
}

const libName = { linux: 'libfti_native.so', darwin: 'libfti_native.dylib', win32: 'fti_native.dll' }[process.platform];
const targetDir = process.env.CARGO_TARGET_DIR ?? join(here, 'target');
const lib = libName === undefined ? undefined : join(targetDir, 'release', libName);
if (lib === undefined || !existsSync(lib)) {
  log(`built library not found (${lib ?? `no library name known for platform ${process.platform}`})`);
  process.exit(1);
}
// Copy then rename: a process loading the addon meanwhile never sees a half-written file.
const dest = join(here, 'fti_native.node');
const tmp = `${dest}.${process.pid}.tmp`;
copyFileSync(lib, tmp);
renameSync(tmp, dest);
log(`wrote ${dest}`);
