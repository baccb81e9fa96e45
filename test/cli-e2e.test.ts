// `fti certify` / `fti verify` / `fti commit` / `fti demo` as spawned processes: exit codes,
// the JSON document, files written (or not), tampered certificates, bad inputs.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeFloats, writeSafetensors } from '../model/safetensors.ts';
import { ftiWith, vals } from './cli-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fti-e2e-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, FTI_CACHE: join(dir, 'cache') };

const fti = ftiWith(env);

async function model(path: string, t: Record<string, [number[], Float64Array]>): Promise<void> {
  await writeSafetensors(path, new Map(Object.entries(t).map(([k, [shape, v]]) => [k, { dtype: 'F32', shape, data: encodeFloats(v, 'F32') }])));
}

const policy = {
  version: 1,
  fractionalBits: 24,
  default: { class: 'frozen' },
  rules: [
    { match: '*.up.weight', class: 'norm', maxL2: 0.01 },
    { match: '*.bias', class: 'sparse', maxNonzeros: 1, reveal: true },
    { match: 'head.weight', class: 'free' },
  ],
};

before(async () => {
  const base = { 'l.up.weight': [[16, 16], vals(256, 1)], 'l.bias': [[16], vals(16, 2)], 'l.frozen.weight': [[8, 8], vals(64, 3)], 'head.weight': [[4, 16], vals(64, 4)] } as Record<string, [number[], Float64Array]>;
  await model(join(dir, 'base.safetensors'), base);
  const ft = structuredClone(base);
  ft['l.up.weight']![1].forEach((x, i, a) => (a[i] = x + 1e-4 * Math.sin(i)));
  ft['l.bias']![1][3] = 0.5;
  ft['head.weight']![1].fill(0.25);
  await model(join(dir, 'ft.safetensors'), ft);
  const bad = structuredClone(ft);
  bad['l.frozen.weight']![1][10] = 1;
  await model(join(dir, 'bad.safetensors'), bad);
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
  writeFileSync(join(dir, 'policy.yaml'), 'version: 1\nrules:\n  - match: "*.up.weight"\n    class: norm\n    maxL2: 0.01\n  - match: "*.bias"\n    class: sparse\n    maxNonzeros: 1\n  - match: head.weight\n    class: free\n');
});

describe('fti certify / verify (spawned)', () => {
  it('certifies an in-policy fine-tune (exit 0, JSON, certificate files, event), and verify accepts it', () => {
    const out = join(dir, 'ok');
    const r = fti('certify', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--policy', join(dir, 'policy.json'), '--out', out, '--json');
    assert.equal(r.code, 0, r.stderr);
    const doc = r.json();
    assert.equal(doc.verdict, 'accepted');
    assert.ok(existsSync(join(out, 'certificate.json')) && existsSync(join(out, 'certificate.bin')) && existsSync(join(out, 'base-manifest.json')));
    assert.ok(!existsSync(join(out, 'rejection.json')));
    const ev = JSON.parse(readFileSync(join(out, 'events.jsonl'), 'utf8').trim()) as { type: string; id: string; specversion: string };
    assert.equal(ev.type, 'dev.fti.certificate.issued.v1');
    assert.equal(ev.specversion, '1.0');
    assert.equal(ev.id, doc.certificateDigest);
    const v = fti('verify', join(out, 'certificate.json'), '--base-manifest', join(out, 'base-manifest.json'), '--json');
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.json().valid, true);
    const vb = fti('verify', join(out, 'certificate.json'), '--base', join(dir, 'base.safetensors'));
    assert.equal(vb.code, 0, vb.stderr);
  });

  it('a YAML policy gives the same verdict', () => {
    const r = fti('certify', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--policy', join(dir, 'policy.yaml'), '--out', join(dir, 'yaml'), '--json');
    assert.equal(r.code, 0, r.stderr);
  });

  it('rejects a changed frozen tensor: exit 3, rejection.json with the reason, no certificate', () => {
    const out = join(dir, 'bad');
    const r = fti('certify', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'bad.safetensors'), '--policy', join(dir, 'policy.json'), '--out', out, '--json');
    assert.equal(r.code, 3, r.stderr);
    const doc = r.json() as { verdict: string; violations: { check: string; detail: string }[] };
    assert.equal(doc.verdict, 'rejected');
    assert.match(doc.violations[0]!.detail, /frozen tensor l\.frozen\.weight changed: 1 of 64 entries differ, first at flat index 10/);
    assert.ok(existsSync(join(out, 'rejection.json')));
    assert.ok(!existsSync(join(out, 'certificate.json')));
    assert.match(readFileSync(join(out, 'events.jsonl'), 'utf8'), /dev\.fti\.certificate\.rejected\.v1/);
  });

  it('tampered certificates: flipped blob byte, edited bound, swapped base manifest → exit 2 or 3', () => {
    const out = join(dir, 'ok');
    const cert = join(out, 'certificate.json');
    const copy = (name: string, edit: (json: string, blob: Buffer) => [string, Buffer]): string => {
      const [j, b] = edit(readFileSync(cert, 'utf8'), readFileSync(join(out, 'certificate.bin')));
      writeFileSync(join(dir, `${name}.json`), j);
      writeFileSync(join(dir, `${name}.bin`), b);
      return join(dir, `${name}.json`);
    };
    const flipped = copy('flipped', (j, b) => {
      b[b.length - 100] = b[b.length - 100]! ^ 1;
      return [j, b];
    });
    const r1 = fti('verify', flipped, '--base-manifest', join(out, 'base-manifest.json'));
    assert.ok(r1.code === 2 || r1.code === 3, `${r1.code} ${r1.stderr}`);
    const edited = copy('edited', (j, b) => [j.replace(/"maxSquaredNorm": "(\d+)"/, (_m, n: string) => `"maxSquaredNorm": "${BigInt(n) * 2n}"`), b]);
    const r2 = fti('verify', edited, '--base-manifest', join(out, 'base-manifest.json'));
    assert.ok(r2.code === 2 || r2.code === 3, `${r2.code} ${r2.stderr}`);
    // another base: commit the fine-tune as if it were the base
    const other = join(dir, 'other-manifest.json');
    assert.equal(fti('commit', '--model', join(dir, 'ft.safetensors'), '--out', other).code, 0);
    const r3 = fti('verify', cert, '--base-manifest', other, '--json');
    assert.equal(r3.code, 3, r3.stderr);
    assert.match(String(r3.json().reason), /base manifest/i);
  });

  it('bad inputs are exit 2 with one clear line and no stack trace', () => {
    const truncated = join(dir, 'trunc.safetensors');
    writeFileSync(truncated, readFileSync(join(dir, 'ft.safetensors')).subarray(0, 100));
    const cases: [string[], RegExp][] = [
      [['certify', '--base', join(dir, 'base.safetensors'), '--ft', truncated, '--policy', join(dir, 'policy.json'), '--out', join(dir, 'x')], /trunc\.safetensors/],
      [['certify', '--base', join(dir, 'nope.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--policy', join(dir, 'policy.json'), '--out', join(dir, 'x')], /nope\.safetensors/],
      [['certify', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--policy', 'no-such-template', '--out', join(dir, 'x')], /no such policy file, and not a template/],
      [['certify', '--base', join(dir, 'base.safetensors')], /--ft is required/],
      [['verify', join(dir, 'missing.json'), '--base-manifest', join(dir, 'ok', 'base-manifest.json')], /missing\.json/],
    ];
    for (const [args, msg] of cases) {
      const r = fti(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/);
    }
    assert.ok(!existsSync(join(dir, 'x', 'certificate.json')));
  });

  it('check-weights: the certified weights match; other weights do not (exit 3, listed)', () => {
    const cert = join(dir, 'ok', 'certificate.json');
    const ok = fti('check-weights', '--ft', join(dir, 'ft.safetensors'), '--cert', cert, '--json');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.json().match, true);
    const bad = fti('check-weights', '--ft', join(dir, 'bad.safetensors'), '--cert', cert, '--json');
    assert.equal(bad.code, 3, bad.stderr);
    const mism = bad.json().mismatches as string[];
    assert.ok(mism.some((m) => /tensor l\.frozen\.weight: SHA-256/.test(m)), mism.join('\n'));
    const base = fti('check-weights', '--ft', join(dir, 'base.safetensors'), '--cert', cert, '--json');
    assert.equal(base.code, 3);
    assert.ok((base.json().mismatches as string[]).some((m) => /block 0: the weights' commitment differs/.test(m)));
  });

  it('profile recommends classes and writes a policy that certify accepts', () => {
    const pol = join(dir, 'recommended.json');
    const r = fti('profile', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--write-policy', pol, '--json');
    assert.equal(r.code, 0, r.stderr);
    const doc = r.json() as { tensors: { name: string; recommendation: { class: string } }[] };
    const byName = Object.fromEntries(doc.tensors.map((t) => [t.name, t.recommendation.class]));
    assert.equal(byName['l.frozen.weight'], 'frozen');
    assert.ok(['sparse', 'norm', 'linf'].includes(byName['l.bias']!), byName['l.bias']);
    const c = fti('certify', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--policy', pol, '--out', join(dir, 'recommended'));
    assert.equal(c.code, 0, c.stderr);
  });

  it('policy show prints the resolved class of every tensor', () => {
    const r = fti('policy', 'show', join(dir, 'policy.json'), '--model', join(dir, 'base.safetensors'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const rows = (r.json() as { tensors: { tensor: string; class: string }[] }).tensors;
    assert.deepEqual(Object.fromEntries(rows.map((x) => [x.tensor, x.class])), { 'l.up.weight': 'norm', 'l.bias': 'sparse', 'l.frozen.weight': 'frozen', 'head.weight': 'free' });
  });

  it('every command answers --help', () => {
    for (const cmd of ['demo', 'certify', 'verify', 'commit', 'check-weights', 'profile', 'policy show']) {
      const r = fti(...cmd.split(' '), '--help');
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^usage: fti ${cmd}`));
    }
  });
});
