// The `fti` command as users run it: spawned processes, exit codes, the one JSON document on
// stdout with --json, clear one-line errors on stderr (never a stack trace).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'fti-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fti(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { encoding: 'utf8', env: { ...process.env, FTI_CACHE: join(dir, 'cache') } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function noStack(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at .+\(.+:\d+:\d+\)/, 'no stack trace on stderr');
}

describe('fti (top level)', () => {
  it('--help lists every command and the exit codes', () => {
    const r = fti('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /srs dev/);
    assert.match(r.stdout, /exit codes: 0 accepted\/valid, 3 policy violation/);
  });

  it('an unknown command is a usage error (exit 2), also as JSON', () => {
    const r = fti('frobnicate', '--json');
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.stdout) as { error: { kind: string; message: string } };
    assert.equal(doc.error.kind, 'usage');
    assert.match(doc.error.message, /unknown command/);
    noStack(r.stderr);
  });
});

describe('fti srs', () => {
  const file = join(dir, 'dev4.bin');

  it('srs dev writes an SRS and warns that it is insecure; --json is one document', () => {
    const r = fti('srs', 'dev', '--vars', '4', '--out', file, '--json');
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { id: string; N: number; kind: string };
    assert.equal(doc.N, 4);
    assert.equal(doc.kind, 'dev');
    assert.match(doc.id, /^[0-9a-f]{64}$/);
    assert.match(r.stderr, /INSECURE/);
  });

  it('srs info reads it back with the same id', () => {
    const made = JSON.parse(fti('srs', 'dev', '--vars', '3', '--out', join(dir, 'dev3.bin'), '--json').stdout) as { id: string };
    const r = fti('srs', 'info', join(dir, 'dev3.bin'), '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { id: string }).id, made.id);
    const wrong = fti('srs', 'info', join(dir, 'dev3.bin'), '--expect-digest', '0'.repeat(64));
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /DIGEST|expected SRS/i);
  });

  it('a corrupted SRS file is bad input naming the field, exit 2, no stack', () => {
    const bytes = readFileSync(file);
    bytes[bytes.length - 40] = bytes[bytes.length - 40]! ^ 1;
    const bad = join(dir, 'bad.bin');
    writeFileSync(bad, bytes);
    const r = fti('srs', 'info', bad, '--json');
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    assert.equal(doc.error.code, 'DIGEST_MISMATCH');
    assert.match(doc.error.message, /srs\.digest/);
    noStack(r.stderr);
  });

  it('usage errors: missing --out, bad --vars, unknown flag, missing file', () => {
    assert.equal(fti('srs', 'dev', '--vars', '4').code, 2);
    const v = fti('srs', 'dev', '--vars', '99', '--out', join(dir, 'x.bin'));
    assert.equal(v.code, 2);
    assert.match(v.stderr, /--vars must be an integer in 1\.\.22/);
    assert.equal(fti('srs', 'dev', '--bogus').code, 2);
    for (const bad of ['0', '1025', '2.5', 'x']) {
      const u = fti('certify', '--base', 'b', '--ft', 'f', '--policy', 'bounded-full', '--out', join(dir, 'o'), '--unit-blocks', bad);
      assert.equal(u.code, 2, `--unit-blocks ${bad}`);
      assert.match(u.stderr, /--unit-blocks must be a whole number in 1\.\.1024/);
      noStack(u.stderr);
    }
    const m = fti('srs', 'info', join(dir, 'missing.bin'));
    assert.equal(m.code, 2);
    assert.match(m.stderr, /missing\.bin: cannot read SRS file/);
    noStack(m.stderr);
  });

  it('every command answers --help', () => {
    for (const cmd of [['srs', 'dev'], ['srs', 'info']]) {
      const r = fti(...cmd, '--help');
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^usage: fti /);
    }
  });
});
