// SRS files: round trip with digest, structure spot-checks that can fail, size limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { G1 } from '../smdp/field.ts';
import { assembleSrs, checkSrsConsistency, parseSrs, verifierKeyOf } from '../smdp/srs.ts';
import { devSrs, devTau } from '../smdp/srs-insecure-dev.ts';
import { SmdpError } from '../smdp/errors.ts';

describe('SRS', () => {
  const { srs, bytes } = devSrs(5, 'srs-test');

  it('parses its own file to the same id; the dev trapdoor is public and seeded', () => {
    const back = parseSrs(bytes, srs.digest);
    assert.equal(back.id, srs.id);
    assert.equal(back.kind, 'dev');
    assert.deepEqual(devTau(5, 'srs-test'), devTau(5, 'srs-test'));
    assert.notDeepEqual(devTau(5, 'srs-test'), devTau(5, 'other'));
    assert.equal(verifierKeyOf(srs).id, srs.id);
  });

  it('the structure check passes an honest SRS and rejects a tampered basis point', () => {
    const all = (m: number, bound: number) => (m * 5 + 3) % bound;
    assert.equal(checkSrsConsistency(srs, all, 2), true);
    // Replace one basis point by another curve point: the digest is recomputed (an SRS made
    // by a dishonest setup, not a corrupted file), so only the structure check can notice.
    const lagrange = srs.lagrange.map((l) => [...l]);
    const p = G1.BASE.multiply(12345n).toAffine();
    lagrange[3]![2] = { x: p.x, y: p.y };
    const forged = assembleSrs({ ...srs, lagrange }).srs;
    assert.equal(checkSrsConsistency(forged, (_m, bound) => Math.min(1, bound - 1), 1), false);
  });

  it('rejects a wrong expected digest, a flipped byte, truncation and a bad magic', () => {
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        if (e instanceof SmdpError) return e.code;
        throw e;
      }
      return 'accepted';
    };
    assert.equal(code(() => parseSrs(bytes, new Uint8Array(32))), 'DIGEST_MISMATCH');
    const flipped = bytes.slice();
    flipped[200] = flipped[200]! ^ 1;
    assert.equal(code(() => parseSrs(flipped)), 'DIGEST_MISMATCH');
    assert.equal(code(() => parseSrs(bytes.subarray(0, bytes.length - 100))), 'TRUNCATED');
    const magic = bytes.slice();
    magic[0] = 0x41;
    assert.equal(code(() => parseSrs(magic)), 'BAD_MAGIC');
  });
});
