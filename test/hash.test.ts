import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { installBackend, nodeSha256 } from '../native/loader.ts';
import { sha256, sha256Js, useSha256 } from '../smdp/hash.ts';
import { Transcript } from '../smdp/transcript.ts';

test('Node SHA-256 equals the pure-JS one (random lengths incl. block seams)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (data) => {
      const a = nodeSha256(data);
      assert.ok(a instanceof Uint8Array && a.length === 32);
      assert.deepEqual(Array.from(a), Array.from(sha256Js(data)));
    }),
    { numRuns: 300 },
  );
  for (const n of [0, 55, 56, 63, 64, 65, 119, 120, 128]) assert.deepEqual(Array.from(nodeSha256(new Uint8Array(n).fill(7))), Array.from(sha256Js(new Uint8Array(n).fill(7))));
});

test('installBackend installs Node SHA-256; transcripts are the same under either', () => {
  const run = (): bigint[] => {
    const t = new Transcript('fti/test/hash');
    t.absorb('a', new Uint8Array([1, 2, 3]));
    return [t.challenge('x'), t.absorbU64('n', 5).challenge('y')];
  };
  const prev = useSha256(sha256Js);
  try {
    const js = run();
    installBackend();
    assert.equal(sha256(new Uint8Array([1])).length, 32);
    assert.deepEqual(run(), js);
  } finally {
    useSha256(prev);
  }
});
