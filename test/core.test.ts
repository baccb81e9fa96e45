/**
 * Core tests of the SMDP algebra (PROTOCOLS.md §1–§4, §9; ../../shared/PROTOCOLS.md).
 *
 * (a) Independent known-answer data for PST (`../shared/vectors-pst.json`, a toy setup with a
 *     public τ, N = 6): this code, given that τ, must reproduce every commitment, value and
 *     quotient byte for byte, which pins the variable order (index bit 0 ↔ X_1 ↔ τ_{N−μ+1})
 *     and the suffix-Lagrange basis convention, and every [τ_j]_2.
 * (b) Canonical encodings: round trips, and every rejection code of the decoders.
 * (c) The Fiat–Shamir transcript: determinism; sensitivity to labels, order and framing;
 *     challenges in [0, r); forks continue independently.
 * (d) fast-check properties: commitment homomorphism, MLE identities, PST openings (valid
 *     ones verify, a wrong value does not), all-ones ↦ g1, sumcheck completeness and the
 *     rejection of a claim off by one.
 * Everything here is deterministic: fast-check runs with fixed seeds.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { ByteReader, ByteWriter } from '../smdp/bytes.ts';
import {
  G1_BYTES,
  G2_BYTES,
  SCALAR_BYTES,
  bigintToBytes,
  bytesToBigint,
  decodeG1,
  decodeG2,
  decodeScalar,
  encodeG1,
  encodeG2,
  encodeScalar,
} from '../smdp/encoding.ts';
import { SmdpError, type SmdpErrorCode } from '../smdp/errors.ts';
import { Fp, Fr, G1, G2, R, bls, fr, type G1Point } from '../smdp/field.ts';
import { eqEval, eqTable, evaluateMle, foldLowest } from '../smdp/mle.ts';
import { testMsm } from './backend.ts';
import { commitField, commitSmall, openAt, verifyOpening, type ProverContext } from '../smdp/pst.ts';
import { devSrs, devTau, srsFromTau } from '../smdp/srs-insecure-dev.ts';
import { interpolateAt, proveSumcheck, verifySumcheck } from '../smdp/sumcheck.ts';
import { Transcript } from '../smdp/transcript.ts';

const P = Fp.ORDER;
const FC_SEED = 0x5eed;

/** Run `fn` and require an SmdpError with exactly `code` (the stable bad-input contract). */
function assertBadInput(fn: () => unknown, code: SmdpErrorCode, what: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SmdpError, `${what}: expected SmdpError(${code}), got ${String(e)}`);
    assert.equal(e.code, code, `${what}: expected code ${code}, got ${e.code} (${e.message})`);
    return true;
  });
}

function pointHex(p: G1Point): string {
  return bytesToHex(encodeG1(p));
}

// ---------------------------------------------------------------------------------------------
// (a) the shared, independently computed PST vectors
// ---------------------------------------------------------------------------------------------

interface SharedCase {
  readonly name: string;
  readonly mu: number;
  readonly values: readonly string[];
  readonly commitment: string;
  readonly point: readonly string[];
  readonly value: string;
  readonly quotients: readonly string[];
}

interface SharedVectors {
  readonly N: number;
  readonly tau: readonly string[];
  readonly g2_tau: readonly string[];
  readonly cases: readonly SharedCase[];
}

const SHARED_URL = new URL('../../shared/vectors-pst.json', import.meta.url);
const sharedSkip = existsSync(SHARED_URL) ? false : `shared PST vectors not found at ${SHARED_URL.pathname}`;

/** Decimal strings; a negative one means r − |v| (the file's stated convention). */
function decField(s: string): bigint {
  return fr(BigInt(s));
}

describe('shared PST known-answer vectors (../shared/vectors-pst.json)', { skip: sharedSkip }, () => {
  const load = (): { data: SharedVectors; ctx: ProverContext } => {
    const data = JSON.parse(readFileSync(SHARED_URL, 'utf8')) as SharedVectors;
    const { srs } = srsFromTau(data.tau.map(decField));
    return { data, ctx: { srs, msm: testMsm } };
  };
  let cached: ReturnType<typeof load> | undefined;
  const get = (): ReturnType<typeof load> => (cached ??= load());

  it('has the expected shape (N = 6, cases μ = 0..4)', () => {
    const { data } = get();
    assert.equal(data.N, 6);
    assert.equal(data.tau.length, data.N);
    assert.equal(data.g2_tau.length, data.N);
    assert.ok(data.cases.length >= 5, `expected at least 5 cases, got ${data.cases.length}`);
    assert.deepEqual([...new Set(data.cases.map((c) => c.mu))].sort(), [0, 1, 2, 3, 4]);
  });

  it('reproduces [τ_j]_2 for every j', () => {
    const { data, ctx } = get();
    data.g2_tau.forEach((hex, j) => assert.equal(bytesToHex(encodeG2(ctx.srs.g2Tau[j]!)), hex, `g2_tau[${j}]`));
  });

  it('reproduces every commitment, value and quotient byte for byte', async () => {
    const { data, ctx } = get();
    for (const c of data.cases) {
      const values = c.values.map(decField);
      assert.equal(values.length, 1 << c.mu, `${c.name}: values`);
      const C = await commitField(ctx, values);
      assert.equal(pointHex(C), c.commitment, `${c.name}: commitment (commitField)`);
      // The small-scalar MSM path must agree (all values here are < 2^53 in magnitude).
      const small = c.values.map((v) => Number(BigInt(v)));
      if (small.every((v) => Number.isSafeInteger(v))) {
        assert.equal(pointHex(await commitSmall(ctx, small)), c.commitment, `${c.name}: commitment (commitSmall)`);
      }
      const point = c.point.map(decField);
      const opening = await openAt(ctx, values, point);
      assert.equal(opening.value, decField(c.value), `${c.name}: value`);
      assert.equal(opening.quotients.length, c.quotients.length, `${c.name}: number of quotients`);
      opening.quotients.forEach((q, i) => assert.equal(pointHex(q), c.quotients[i], `${c.name}: quotient ${i}`));
      // The published data itself verifies under our verifier, and a wrong value does not.
      const pub = decodeG1(hexToBytes(c.commitment));
      const pubQ = c.quotients.map((h) => decodeG1(hexToBytes(h)));
      assert.equal(verifyOpening(ctx.srs, pub, decField(c.value), point, pubQ), true, `${c.name}: verifies`);
      assert.equal(verifyOpening(ctx.srs, pub, Fr.add(decField(c.value), 1n), point, pubQ), false, `${c.name}: value + 1 must fail`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// (b) encodings
// ---------------------------------------------------------------------------------------------

const frArb = fc.bigInt({ min: 0n, max: R - 1n });
const nonZeroFr = fc.bigInt({ min: 1n, max: R - 1n });

/** The 48-byte compressed form of an arbitrary x < 2^381 with the given flag bits. */
function g1Bytes(x: bigint, flags = 0x80): Uint8Array {
  const b = bigintToBytes(x, G1_BYTES);
  b[0] = b[0]! | flags;
  return b;
}

/** The 96-byte compressed form of x = c0 + c1·u (c1 first) with the given flag bits. */
function g2Bytes(c0: bigint, c1: bigint, flags = 0x80): Uint8Array {
  const b = new Uint8Array(G2_BYTES);
  b.set(bigintToBytes(c1, 48), 0);
  b.set(bigintToBytes(c0, 48), 48);
  b[0] = b[0]! | flags;
  return b;
}

function fpHasSqrt(y2: bigint): boolean {
  try {
    return Fp.sqr(Fp.sqrt(y2)) === y2;
  } catch {
    return false;
  }
}

const Fp2 = bls.fields.Fp2;
const G2_B = Fp2.create({ c0: 4n, c1: 4n }); // E'(Fp2): y² = x³ + 4(1 + u)

function fp2HasSqrt(y2: ReturnType<typeof Fp2.create>): boolean {
  try {
    return Fp2.eql(Fp2.sqr(Fp2.sqrt(y2)), y2);
  } catch {
    return false;
  }
}

/** Smallest x ≥ 0 with x³ + 4 a square (or not), and, for on-curve x, not in G1. */
function findG1X(onCurve: boolean): bigint {
  for (let x = 0n; x < 1000n; x++) {
    const y2 = Fp.add(Fp.mul(Fp.sqr(x), x), 4n);
    const has = fpHasSqrt(y2);
    if (has !== onCurve) continue;
    if (!onCurve) return x;
    // h₁ ≈ 2^126, so a random point of E(Fp) is torsion-free with probability ≈ 2^-126.
    if (!G1.fromAffine({ x, y: Fp.sqrt(y2) }).isTorsionFree()) return x;
  }
  throw new Error('findG1X: no suitable x below 1000');
}

/** Smallest (c0, c1) with x³ + 4(1+u) a square in Fp2 (onCurve) or not. */
function findG2X(onCurve: boolean): { c0: bigint; c1: bigint } {
  for (let c1 = 0n; c1 < 16n; c1++) {
    for (let c0 = 0n; c0 < 16n; c0++) {
      const x = Fp2.create({ c0, c1 });
      if (fp2HasSqrt(Fp2.add(Fp2.mul(Fp2.sqr(x), x), G2_B)) === onCurve) return { c0, c1 };
    }
  }
  throw new Error('findG2X: no suitable x');
}

describe('encodings', () => {
  it('bytesToBigint and bigintToBytes agree with the hex reference (any length, offset views)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 72 }), fc.integer({ min: 0, max: 7 }), (raw, off) => {
        const backing = new Uint8Array(raw.length + off);
        backing.set(raw, off);
        const view = backing.subarray(off);
        const want = raw.length === 0 ? 0n : BigInt('0x' + bytesToHex(raw));
        assert.equal(bytesToBigint(view), want);
        if (raw.length > 0) assert.deepEqual(bigintToBytes(want, raw.length), Uint8Array.from(raw));
        assert.deepEqual(bigintToBytes(want, raw.length + 3), Uint8Array.from([0, 0, 0, ...raw]));
      }),
      { seed: FC_SEED, numRuns: 300 },
    );
    assert.throws(() => bigintToBytes(256n, 1), /does not fit in 1 bytes/);
    assert.throws(() => bigintToBytes(-1n, 4), /non-negative/);
    // The 32-byte word path, at its seams.
    for (const x of [0n, 1n, (1n << 64n) - 1n, 1n << 64n, (1n << 192n) + 5n, (1n << 256n) - 1n]) {
      assert.deepEqual(bigintToBytes(x, 32), hexToBytes(x.toString(16).padStart(64, '0')), `x = ${x}`);
    }
    assert.throws(() => bigintToBytes(1n << 256n, 32), /does not fit in 32 bytes/);
  });

  it('scalars round-trip (fast-check) and the extremes 0, r − 1', () => {
    fc.assert(
      fc.property(frArb, (x) => {
        const b = encodeScalar(x);
        assert.equal(b.length, SCALAR_BYTES);
        assert.equal(decodeScalar(b), x);
      }),
      { seed: FC_SEED, numRuns: 200 },
    );
    assert.equal(decodeScalar(encodeScalar(0n)), 0n);
    assert.equal(decodeScalar(encodeScalar(R - 1n)), R - 1n);
  });

  it('G1 points round-trip (fast-check), incl. the identity; the sort bit selects −P', () => {
    fc.assert(
      fc.property(nonZeroFr, (k) => {
        const p = G1.BASE.multiply(k);
        const b = encodeG1(p);
        assert.equal(b.length, G1_BYTES);
        assert.ok(decodeG1(b).equals(p));
        // Flipping the y-sort flag gives the other root: −P (also canonical, also in G1).
        const flipped = b.slice();
        flipped[0] = flipped[0]! ^ 0x20;
        assert.ok(decodeG1(flipped).equals(p.negate()));
      }),
      { seed: FC_SEED, numRuns: 30 },
    );
    const zero = encodeG1(G1.ZERO);
    assert.equal(bytesToHex(zero), 'c0' + '00'.repeat(47));
    assert.ok(decodeG1(zero).is0());
  });

  it('G2 points round-trip (fast-check), incl. the identity', () => {
    fc.assert(
      fc.property(nonZeroFr, (k) => {
        const p = G2.BASE.multiply(k);
        const b = encodeG2(p);
        assert.equal(b.length, G2_BYTES);
        assert.ok(decodeG2(b).equals(p));
      }),
      { seed: FC_SEED, numRuns: 8 },
    );
    assert.ok(decodeG2(encodeG2(G2.ZERO)).is0());
  });

  it('scalar rejections: BAD_LENGTH, SCALAR_OUT_OF_RANGE', () => {
    assertBadInput(() => decodeScalar(new Uint8Array(31)), 'BAD_LENGTH', '31 bytes');
    assertBadInput(() => decodeScalar(new Uint8Array(33)), 'BAD_LENGTH', '33 bytes');
    assertBadInput(() => decodeScalar(new Uint8Array(0)), 'BAD_LENGTH', 'empty');
    assertBadInput(() => decodeScalar(bigintToBytes(R, 32)), 'SCALAR_OUT_OF_RANGE', 'x = r');
    assertBadInput(() => decodeScalar(bigintToBytes(R + 1n, 32)), 'SCALAR_OUT_OF_RANGE', 'x = r + 1');
    assertBadInput(() => decodeScalar(new Uint8Array(32).fill(0xff)), 'SCALAR_OUT_OF_RANGE', 'x = 2^256 − 1');
  });

  it('G1 rejections: length, flags, identity padding, x ≥ p, off curve, off subgroup', () => {
    const good = encodeG1(G1.BASE.multiply(12345n));
    assertBadInput(() => decodeG1(good.subarray(0, 47)), 'BAD_LENGTH', '47 bytes');
    assertBadInput(() => decodeG1(new Uint8Array([...good, 0])), 'BAD_LENGTH', '49 bytes');
    assertBadInput(() => decodeG1(G1.BASE.toBytes(false)), 'BAD_LENGTH', 'uncompressed 96 bytes');
    const noFlag = good.slice();
    noFlag[0] = noFlag[0]! & 0x7f;
    assertBadInput(() => decodeG1(noFlag), 'NON_CANONICAL', 'compression flag unset');
    // The identity is 0xc0 ‖ 0^47 and nothing else.
    const inf = encodeG1(G1.ZERO);
    const infSort = inf.slice();
    infSort[0] = 0xe0;
    assertBadInput(() => decodeG1(infSort), 'NON_CANONICAL', 'identity with the sort bit');
    const infLow = inf.slice();
    infLow[0] = 0xc1;
    assertBadInput(() => decodeG1(infLow), 'NON_CANONICAL', 'identity with low bits in byte 0');
    const infTail = inf.slice();
    infTail[47] = 1;
    assertBadInput(() => decodeG1(infTail), 'NON_CANONICAL', 'identity with a non-zero tail');
    const infX = good.slice();
    infX[0] = infX[0]! | 0x40;
    assertBadInput(() => decodeG1(infX), 'NON_CANONICAL', 'infinity flag on a real x');
    assertBadInput(() => decodeG1(g1Bytes(P)), 'NON_CANONICAL', 'x = p');
    assertBadInput(() => decodeG1(g1Bytes((1n << 381n) - 1n)), 'NON_CANONICAL', 'x = 2^381 − 1');
    const offCurve = findG1X(false);
    assertBadInput(() => decodeG1(g1Bytes(offCurve)), 'NOT_ON_CURVE', `x = ${offCurve}`);
    const offSubgroup = findG1X(true);
    // x + p (< 2^381, so no flag bit is touched) is rejected, not reduced to the curve point x.
    assertBadInput(() => decodeG1(g1Bytes(offSubgroup + P)), 'NON_CANONICAL', `x = ${offSubgroup} + p`);
    assertBadInput(() => decodeG1(g1Bytes(offSubgroup)), 'NOT_IN_SUBGROUP', `x = ${offSubgroup}`);
    assertBadInput(() => decodeG1(g1Bytes(offSubgroup, 0xa0)), 'NOT_IN_SUBGROUP', `x = ${offSubgroup}, other root`);
  });

  it('G2 rejections: length, flags, identity padding, x ≥ p, off curve, off subgroup', () => {
    const good = encodeG2(G2.BASE.multiply(777n));
    assertBadInput(() => decodeG2(good.subarray(0, 95)), 'BAD_LENGTH', '95 bytes');
    assertBadInput(() => decodeG2(new Uint8Array([...good, 0])), 'BAD_LENGTH', '97 bytes');
    const noFlag = good.slice();
    noFlag[0] = noFlag[0]! & 0x7f;
    assertBadInput(() => decodeG2(noFlag), 'NON_CANONICAL', 'compression flag unset');
    const inf = encodeG2(G2.ZERO);
    const infSort = inf.slice();
    infSort[0] = 0xe0;
    assertBadInput(() => decodeG2(infSort), 'NON_CANONICAL', 'identity with the sort bit');
    const infTail = inf.slice();
    infTail[95] = 1;
    assertBadInput(() => decodeG2(infTail), 'NON_CANONICAL', 'identity with a non-zero c0');
    assertBadInput(() => decodeG2(g2Bytes(0n, P)), 'NON_CANONICAL', 'c1 = p');
    assertBadInput(() => decodeG2(g2Bytes(P, 0n)), 'NON_CANONICAL', 'c0 = p');
    const off = findG2X(false);
    assertBadInput(() => decodeG2(g2Bytes(off.c0, off.c1)), 'NOT_ON_CURVE', `x = ${off.c0} + ${off.c1}u`);
    // h₂ ≈ 2^508: a point of E'(Fp2) with a small x is outside G2 with overwhelming probability.
    const on = findG2X(true);
    assertBadInput(() => decodeG2(g2Bytes(on.c0, on.c1)), 'NOT_IN_SUBGROUP', `x = ${on.c0} + ${on.c1}u`);
  });

  it('ByteReader rejections: TRUNCATED, TRAILING_BYTES, LIMIT_EXCEEDED, NON_CANONICAL UTF-8', () => {
    assertBadInput(() => new ByteReader(new Uint8Array(3), 't').u32('n'), 'TRUNCATED', 'u32 from 3 bytes');
    const trailing = new ByteReader(new Uint8Array(5), 't');
    trailing.u32('n');
    assertBadInput(() => trailing.end(), 'TRAILING_BYTES', 'one byte left');
    const big = new ByteWriter().u32(1000).finish();
    assertBadInput(() => new ByteReader(big, 't').count('n', 999), 'LIMIT_EXCEEDED', 'count above the cap');
    const badUtf8 = new ByteWriter().bytes(new Uint8Array([0xc3, 0x28])).finish();
    assertBadInput(() => new ByteReader(badUtf8, 't').string('s'), 'NON_CANONICAL', 'invalid UTF-8');
    // Errors name the field they are about.
    assert.throws(() => new ByteReader(new Uint8Array(0), 'proof').g1('quotients[2]'), (e: unknown) => e instanceof SmdpError && e.field === 'proof.quotients[2]');
  });
});

// ---------------------------------------------------------------------------------------------
// (c) transcript
// ---------------------------------------------------------------------------------------------

const bytes = (...xs: number[]): Uint8Array => new Uint8Array(xs);

describe('transcript', () => {
  const script = (t: Transcript): bigint[] => {
    t.absorb('a', bytes(1, 2, 3)).absorbScalar('x', 42n).absorbG1('p', G1.BASE);
    return [t.challenge('c1'), t.challenge('c2'), ...t.challenges('v', 3)];
  };

  it('is deterministic', () => {
    assert.deepEqual(script(new Transcript('proto')), script(new Transcript('proto')));
    assert.deepEqual(new Transcript('p').digest(), new Transcript('p').digest());
  });

  it('challenges are in [0, r) and successive challenges differ', () => {
    const t = new Transcript('range');
    const seen = new Set<bigint>();
    for (let i = 0; i < 200; i++) {
      const c = t.challenge('c');
      assert.ok(c >= 0n && c < R, `challenge ${i} = ${c} not below r`);
      seen.add(c);
    }
    assert.equal(seen.size, 200, 'repeated label must still give fresh challenges');
  });

  it('depends on the protocol label, absorb labels, order, and framing', () => {
    const ch = (f: (t: Transcript) => void, proto = 'p'): bigint => {
      const t = new Transcript(proto);
      f(t);
      return t.challenge('c');
    };
    const base = ch((t) => t.absorb('a', bytes(1)).absorb('b', bytes(2)));
    const variants: [string, bigint][] = [
      ['protocol label', ch((t) => t.absorb('a', bytes(1)).absorb('b', bytes(2)), 'q')],
      ['absorb label', ch((t) => t.absorb('a', bytes(1)).absorb('B', bytes(2)))],
      ['order', ch((t) => t.absorb('b', bytes(2)).absorb('a', bytes(1)))],
      ['bytes', ch((t) => t.absorb('a', bytes(1)).absorb('b', bytes(3)))],
      // Length prefixes: moving a byte between label and data, or between messages, changes it.
      ['label/data boundary', ch((t) => t.absorb('a', bytes(1)).absorb('', bytes(98, 2)))],
      ['message boundary', ch((t) => t.absorb('a', bytes(1, 2)).absorb('b', bytes()))],
      ['extra empty message', ch((t) => t.absorb('a', bytes(1)).absorb('b', bytes(2)).absorb('', bytes()))],
    ];
    for (const [what, c] of variants) assert.notEqual(c, base, `changing the ${what} must change the challenge`);
    // Same concatenated bytes, different split: [1,2]+[3] vs [1]+[2,3].
    assert.notEqual(
      ch((t) => t.absorb('x', bytes(1, 2)).absorb('x', bytes(3))),
      ch((t) => t.absorb('x', bytes(1)).absorb('x', bytes(2, 3))),
    );
    // The challenge label matters too.
    const a = new Transcript('p');
    const b = a.fork();
    assert.notEqual(a.challenge('c'), b.challenge('d'));
    // absorbScalars carries a count: [x] ‖ [y] ≠ [x, y].
    assert.notEqual(
      ch((t) => t.absorbScalars('s', [1n]).absorbScalars('s', [2n])),
      ch((t) => t.absorbScalars('s', [1n, 2n])),
    );
  });

  it('forks continue independently and start from the same state', () => {
    const t = new Transcript('fork').absorb('m', bytes(9));
    const f = t.fork();
    assert.deepEqual(f.digest(), t.digest());
    assert.equal(f.fork().challenge('c'), t.fork().challenge('c'), 'same state ⇒ same challenge');
    f.absorb('only-in-fork', bytes(1));
    const afterFork = t.fork().challenge('c');
    const reference = new Transcript('fork').absorb('m', bytes(9)).challenge('c');
    assert.equal(afterFork, reference, 'absorbing into the fork must not touch the original');
    assert.notEqual(f.challenge('c'), reference);
    // Squeezing from the original does not move the fork either.
    const g = t.fork();
    t.challenge('c');
    assert.equal(g.challenge('c'), reference);
  });
});

// ---------------------------------------------------------------------------------------------
// (d) properties
// ---------------------------------------------------------------------------------------------

const N = 6;
const TAU = devTau(N, 'fti-dev');
const { srs } = devSrs(N);
const ctx: ProverContext = { srs, msm: testMsm };

const smallInt = fc.integer({ min: -(2 ** 30), max: 2 ** 30 });
/** A vector of 2^μ entries, μ drawn from [0, maxMu]. */
function vecArb<T>(elem: fc.Arbitrary<T>, maxMu: number): fc.Arbitrary<T[]> {
  return fc.integer({ min: 0, max: maxMu }).chain((mu) => fc.array(elem, { minLength: 1 << mu, maxLength: 1 << mu }));
}
const muOf = (n: number): number => 31 - Math.clz32(n);

/** ṽ at a point by the definition Σ_b v_b·Π_i (b_i x_i + (1−b_i)(1−x_i)) — no folding. */
function mleByDefinition(v: readonly bigint[], x: readonly bigint[]): bigint {
  let acc = 0n;
  v.forEach((vb, b) => {
    let e = 1n;
    x.forEach((xi, i) => (e = Fr.mul(e, (b >> i) & 1 ? xi : Fr.sub(1n, xi))));
    acc = Fr.add(acc, Fr.mul(vb, e));
  });
  return acc;
}

describe('commitment properties', () => {
  it('C(a) + C(b) = C(a + b) (small signed and full field values)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 }).chain((mu) => fc.tuple(fc.array(smallInt, { minLength: 1 << mu, maxLength: 1 << mu }), fc.array(smallInt, { minLength: 1 << mu, maxLength: 1 << mu }))),
        async ([a, b]) => {
          const sum = a.map((x, i) => x + b[i]!);
          const lhs = (await commitSmall(ctx, a)).add(await commitSmall(ctx, b));
          assert.ok(lhs.equals(await commitSmall(ctx, sum)));
          const fa = a.map((x) => fr(BigInt(x)));
          const fb = b.map((x) => fr(BigInt(x)));
          assert.ok(lhs.equals(await commitField(ctx, fa.map((x, i) => Fr.add(x, fb[i]!)))));
        },
      ),
      { seed: FC_SEED, numRuns: 20 },
    );
  });

  it('C(k·a) = k·C(a)', async () => {
    await fc.assert(
      fc.asyncProperty(vecArb(frArb, 4), nonZeroFr, async (a, k) => {
        const Ca = await commitField(ctx, a);
        const Cka = await commitField(ctx, a.map((x) => Fr.mul(k, x)));
        assert.ok(Cka.equals(Ca.is0() ? Ca : Ca.multiply(k)));
      }),
      { seed: FC_SEED, numRuns: 15 },
    );
  });

  it('C(v) = [ṽ(τ_{N−μ+1..N})]_1 (the commitment is the MLE at the suffix of τ)', async () => {
    await fc.assert(
      fc.asyncProperty(vecArb(smallInt, 5), async (v) => {
        const mu = muOf(v.length);
        const y = mleByDefinition(v.map((x) => fr(BigInt(x))), TAU.slice(N - mu));
        const expected = y === 0n ? G1.ZERO : G1.BASE.multiply(y);
        assert.ok((await commitSmall(ctx, v)).equals(expected));
      }),
      { seed: FC_SEED, numRuns: 15 },
    );
  });

  it('the all-ones vector commits to g1 for every μ ≤ N (Σ_b eq(b, τ) = 1)', async () => {
    for (let mu = 0; mu <= N; mu++) {
      const ones = new Array<number>(1 << mu).fill(1);
      assert.ok((await commitSmall(ctx, ones)).equals(G1.BASE), `μ = ${mu} (commitSmall)`);
      assert.ok((await commitField(ctx, ones.map(() => 1n))).equals(G1.BASE), `μ = ${mu} (commitField)`);
    }
  });
});

describe('MLE identities', () => {
  it('ṽ at boolean points equals the table entries (index bit i ↔ X_{i+1})', () => {
    fc.assert(
      fc.property(vecArb(frArb, 5), (v) => {
        const mu = muOf(v.length);
        v.forEach((vb, b) => {
          const point = Array.from({ length: mu }, (_, i) => BigInt((b >> i) & 1));
          assert.equal(evaluateMle(v, point), vb);
        });
      }),
      { seed: FC_SEED, numRuns: 50 },
    );
  });

  it('Σ_b eq(r, b) = 1, and eqTable(r)[b] = eq(bits(b), r)', () => {
    fc.assert(
      fc.property(fc.array(frArb, { minLength: 0, maxLength: 6 }), (r) => {
        const table = eqTable(r);
        assert.equal(table.length, 1 << r.length);
        assert.equal(table.reduce((a, b) => Fr.add(a, b), 0n), 1n);
        table.forEach((e, b) => {
          const bits = r.map((_, i) => BigInt((b >> i) & 1));
          assert.equal(e, eqEval(bits, r));
        });
      }),
      { seed: FC_SEED, numRuns: 50 },
    );
  });

  it('evaluateMle(v, ρ) = Σ_b v_b·eq(b, ρ)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }).chain((mu) => fc.tuple(fc.array(frArb, { minLength: 1 << mu, maxLength: 1 << mu }), fc.array(frArb, { minLength: mu, maxLength: mu }))),
        ([v, rho]) => {
          const eq = eqTable(rho);
          const viaTable = v.reduce((acc, vb, b) => Fr.add(acc, Fr.mul(vb, eq[b]!)), 0n);
          assert.equal(evaluateMle(v, rho), viaTable);
          assert.equal(evaluateMle(v, rho), mleByDefinition(v, rho));
        },
      ),
      { seed: FC_SEED, numRuns: 50 },
    );
  });

  it('foldLowest fixes X_1: ṽ(x, ρ\') = (fold(v, x))~(ρ\')', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((mu) => fc.tuple(fc.array(frArb, { minLength: 1 << mu, maxLength: 1 << mu }), fc.array(frArb, { minLength: mu, maxLength: mu }))),
        ([v, rho]) => {
          const folded = foldLowest(v, rho[0]!);
          assert.equal(folded.length, v.length / 2);
          assert.equal(evaluateMle(folded, rho.slice(1)), evaluateMle(v, rho));
          // Folding at 0 / 1 selects the even / odd entries.
          assert.deepEqual(foldLowest(v, 0n), v.filter((_, i) => i % 2 === 0));
          assert.deepEqual(foldLowest(v, 1n), v.filter((_, i) => i % 2 === 1));
        },
      ),
      { seed: FC_SEED, numRuns: 50 },
    );
  });
});

describe('PST openings', () => {
  it('an honest opening verifies; a wrong value, point or quotient order does not', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 }).chain((mu) => fc.tuple(fc.array(frArb, { minLength: 1 << mu, maxLength: 1 << mu }), fc.array(frArb, { minLength: mu, maxLength: mu }))),
        async ([v, rho]) => {
          const C = await commitField(ctx, v);
          const { value, quotients } = await openAt(ctx, v, rho);
          assert.equal(value, evaluateMle(v, rho));
          assert.equal(verifyOpening(srs, C, value, rho, quotients), true, 'honest opening');
          assert.equal(verifyOpening(srs, C, Fr.add(value, 1n), rho, quotients), false, 'value + 1');
          if (rho.length > 0) {
            // A wrong point only fails if ṽ actually depends on X_1 (q_1 ≠ 0).
            const moved = [Fr.add(rho[0]!, 1n), ...rho.slice(1)];
            if (!quotients[0]!.is0()) assert.equal(verifyOpening(srs, C, value, moved, quotients), false, 'ρ_1 + 1');
          }
          if (rho.length >= 2 && !quotients[0]!.equals(quotients[1]!)) {
            const swapped = [quotients[1]!, quotients[0]!, ...quotients.slice(2)];
            assert.equal(verifyOpening(srs, C, value, rho, swapped), false, 'swapped quotients');
          }
        },
      ),
      { seed: FC_SEED, numRuns: 8 },
    );
  });
});

describe('sumcheck', () => {
  it('interpolateAt is the Lagrange interpolation through 0 … d (degrees 0 … 6, at the nodes too)', () => {
    const naive = (e: readonly bigint[], x: bigint): bigint => {
      let acc = 0n;
      for (let i = 0; i < e.length; i++) {
        let num = 1n;
        let den = 1n;
        for (let j = 0; j < e.length; j++) {
          if (j === i) continue;
          num = Fr.mul(num, Fr.sub(x, BigInt(j)));
          den = Fr.mul(den, Fr.create(BigInt(i - j)));
        }
        acc = Fr.add(acc, Fr.mul(e[i]!, Fr.mul(num, Fr.inv(den))));
      }
      return acc;
    };
    fc.assert(
      fc.property(fc.array(frArb, { minLength: 1, maxLength: 7 }), frArb, (e, x) => {
        assert.equal(interpolateAt(e, x), naive(e, x));
        for (let k = 0; k < e.length; k++) assert.equal(interpolateAt(e, BigInt(k)), e[k], `at node ${k}`);
      }),
      { seed: FC_SEED, numRuns: 100 },
    );
  });

  const product = (vals: readonly bigint[]): bigint => vals.reduce((a, b) => Fr.mul(a, b), 1n);
  const claimOf = (tables: readonly (readonly bigint[])[]): bigint => {
    let s = 0n;
    for (let b = 0; b < tables[0]!.length; b++) s = Fr.add(s, product(tables.map((t) => t[b]!)));
    return s;
  };
  const tablesArb = fc
    .tuple(fc.integer({ min: 2, max: 3 }), fc.integer({ min: 0, max: 4 }))
    .chain(([k, mu]) => fc.array(fc.array(frArb, { minLength: 1 << mu, maxLength: 1 << mu }), { minLength: k, maxLength: k }));

  it('accepts honest product claims (degree 2 and 3); final claim = Π f_k(ρ)', () => {
    fc.assert(
      fc.property(tablesArb, (tables) => {
        const d = tables.length;
        const mu = muOf(tables[0]!.length);
        const H = claimOf(tables);
        const pt = new Transcript('test/sumcheck').absorbScalar('claim', H);
        const proved = proveSumcheck(pt, 'sc', tables, d, product);
        const vt = new Transcript('test/sumcheck').absorbScalar('claim', H);
        const res = verifySumcheck(vt, 'sc', proved.proof, mu, d, H);
        assert.ok(res.ok, res.ok ? '' : res.reason);
        assert.deepEqual(res.point, proved.point);
        tables.forEach((t, k) => assert.equal(proved.finalValues[k], evaluateMle(t, res.point)));
        assert.equal(res.finalClaim, product(proved.finalValues));
        assert.deepEqual(vt.digest(), pt.digest(), 'prover and verifier transcripts agree');
      }),
      { seed: FC_SEED, numRuns: 40 },
    );
  });

  it('rejects a claim off by one, a tampered round, and a wrong number of rounds', () => {
    fc.assert(
      fc.property(tablesArb, (tables) => {
        const d = tables.length;
        const mu = muOf(tables[0]!.length);
        const H = claimOf(tables);
        const proof = proveSumcheck(new Transcript('t'), 'sc', tables, d, product).proof;
        const off = Fr.add(H, 1n);
        const r1 = verifySumcheck(new Transcript('t'), 'sc', proof, mu, d, off);
        if (mu > 0) {
          assert.equal(r1.ok, false, 'claim + 1 must fail the first round');
          // g_0(2) + 1 keeps g_0(0) + g_0(1) but moves the running claim: caught at the end.
          const tampered = proof.rounds.map((g, i) => (i === 0 ? g.map((e, x) => (x === 2 ? Fr.add(e, 1n) : e)) : g));
          const r2 = verifySumcheck(new Transcript('t'), 'sc', { rounds: tampered }, mu, d, H);
          const caught = !r2.ok || r2.finalClaim !== product(tables.map((t) => evaluateMle(t, r2.point)));
          assert.ok(caught, 'a tampered round must be caught');
          assert.equal(verifySumcheck(new Transcript('t'), 'sc', { rounds: proof.rounds.slice(1) }, mu, d, H).ok, false, 'missing round');
        } else {
          // μ = 0: no rounds; the final check P(f(·)) = claim is the whole protocol.
          assert.ok(r1.ok);
          assert.notEqual(r1.finalClaim, product(tables.map((t) => t[0]!)));
        }
      }),
      { seed: FC_SEED, numRuns: 30 },
    );
  });
});
