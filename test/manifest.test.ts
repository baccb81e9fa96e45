// The base manifest format: canonical digest, round trip, and every malformation rejected
// with the file and field named.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { G1 } from '../smdp/field.ts';
import { ModelError } from '../model/errors.ts';
import { encodeManifest, manifestDigest, manifestExpectations, parseManifest, type BaseManifest } from '../model/manifest.ts';
// Decodes and verifies on the backend FTI_BACKEND selects (see test/backend.ts).
import './backend.ts';

const m: BaseManifest = {
  fractionalBits: 24,
  srs: { id: 'ab'.repeat(32), kind: 'dev', N: 6 },
  files: [{ name: 'model.safetensors', sha256: 'cd'.repeat(32) }],
  tensors: [
    { name: 'w', dtype: 'BF16', shape: [4, 8], sha256: 'ef'.repeat(32), l2: 1.2345678901234567, tiles: [{ rowOffset: 0, colOffset: 0, muRows: 2, muCols: 3, commitment: G1.BASE.multiply(7n) }] },
    { name: 'ids', dtype: 'I64', shape: [3], sha256: '01'.repeat(32), l2: 0, tiles: [] },
  ],
};

function rejects(text: string, field: RegExp): void {
  assert.throws(
    () => parseManifest(text, 'base.json'),
    (e: unknown) => e instanceof ModelError && /^base\.json: base manifest /.test(e.message) && field.test(e.message),
  );
}

describe('base manifest', () => {
  it('round-trips with its digest; the digest covers every field', () => {
    const text = encodeManifest(m);
    const { manifest, digest } = parseManifest(text, 'base.json');
    assert.equal(digest, manifestDigest(m));
    assert.equal(manifest.tensors[0]!.l2, m.tensors[0]!.l2);
    assert.ok(manifest.tensors[0]!.tiles[0]!.commitment.equals(m.tensors[0]!.tiles[0]!.commitment));
    const expect = manifestExpectations(manifest);
    assert.equal(expect.get('w')!.sha256, 'ef'.repeat(32));
    assert.equal(expect.get('w')!.blockCommitments!.length, 1);
    const edits: ((o: Record<string, unknown>) => void)[] = [
      (o) => (o.fractionalBits = 23),
      (o) => ((o.srs as Record<string, unknown>).N = 7),
      (o) => ((o.tensors as Record<string, unknown>[])[0]!.sha256 = '00'.repeat(32)),
      (o) => ((o.tensors as Record<string, unknown>[])[0]!.l2 = '1.5'),
      (o) => ((o.tensors as Record<string, unknown>[])[1]!.shape = [4]),
    ];
    for (const edit of edits) {
      const o = JSON.parse(text) as Record<string, unknown>;
      edit(o);
      rejects(JSON.stringify(o), /digest: does not match/);
    }
  });

  it('rejects malformed manifests naming the field', () => {
    rejects('{', /\(json\): not valid JSON/);
    rejects(JSON.stringify({ ...JSON.parse(encodeManifest(m)), format: 'other' }), /format/);
    rejects(JSON.stringify({ ...JSON.parse(encodeManifest(m)), version: 2 }), /version/);
    const o = JSON.parse(encodeManifest(m)) as { tensors: { tiles: { commitment: string }[] }[] };
    o.tensors[0]!.tiles[0]!.commitment = 'zz';
    rejects(JSON.stringify(o), /tensors\[0\]\.tiles\[0\]\.commitment/);
    const p = JSON.parse(encodeManifest(m)) as { tensors: { shape: unknown[] }[] };
    p.tensors[0]!.shape = [-1, 8];
    rejects(JSON.stringify(p), /tensors\[0\]\.shape\[0\]/);
  });
});
