// `fti demo` — the README's main job — succeeds end to end: accepted, verified, tampered
// variant rejected with its reason.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'fti-demo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('fti demo: accept, verify, reject the tampered fine-tune', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'demo', '--out', join(dir, 'demo'), '--json'], {
    encoding: 'utf8',
    env: { ...process.env, FTI_CACHE: join(dir, 'cache') },
  });
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { ok: boolean; parameters: number; certified: { verdict: string }; verified: boolean; tampered: { verdict: string; reasons: string[] } };
  assert.equal(doc.ok, true);
  assert.ok(doc.parameters > 2_000_000, `a few million parameters, got ${doc.parameters}`);
  assert.equal(doc.certified.verdict, 'accepted');
  assert.equal(doc.verified, true);
  assert.equal(doc.tampered.verdict, 'rejected');
  assert.match(doc.tampered.reasons[0]!, /frozen tensor model\.layers\.1\.mlp\.down_proj\.weight changed/);
});
