// Proving units (classes/norm-unit.ts): several norm/linf blocks of a tensor proven with one
// lockstep range sumcheck and one batched opening. Honest units verify (pairing included) and
// match the JS reference byte for byte; the prover refuses out-of-class blocks naming them;
// forged units are rejected: a block's S under-reported (alone, or compensated by another
// block's), non-boolean bits in one block, statements reordered, moved to another job or
// tensor, a block dropped, parts swapped, flipped bytes; certificates carry units (blob
// version 2) and reject malformed unit records.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { pairingCheck } from '../smdp/accumulator.ts';
import { aggregateBlocks, blockCount, recordStatements, type ProofRecord } from '../smdp/aggregate.ts';
import { verifyRecordProof } from '../smdp/blocks.ts';
import { CERT_BLOB_VERSION, CERT_BLOB_VERSION_UNITS, decodeCertificate, encodeCertificate, encodeCertificateBlob, sealCertificate, provenTensorResult } from '../smdp/certificate.ts';
import type { BlockInput } from '../smdp/classes/norm.ts';
import { NORM_UNIT_PROTOCOL, decodeNormUnitProof, encodeNormUnitProof, proveNormUnit, verifyNormUnit, type NormUnitProof, type UnitCheck } from '../smdp/classes/norm-unit.ts';
import { decomposeInRange, impliedCommitment, rangeWeights } from '../smdp/classes/range.ts';
import { DriftPolicyViolation, SmdpError } from '../smdp/errors.ts';
import { Fr, type G1Point } from '../smdp/field.ts';
import { eqTable } from '../smdp/mle.ts';
import { combineVectors, commitField, commitSmall, openAt, type ProverContext } from '../smdp/pst.ts';
import type { Srs } from '../smdp/srs.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';
import { jsMsmBackend as jsMsm } from '../smdp/msm.ts';
import { unitTranscript, type BlockStatement, type DriftSpec } from '../smdp/statement.ts';
import { proveSumcheck } from '../smdp/sumcheck.ts';
import { testMsm } from './backend.ts';
import { assertFlippedBytesRejected, unitAccepted } from './unit-checks.ts';

let srs: Srs;
let ctx: ProverContext;
before(() => {
  srs = devSrs(6).srs;
  ctx = { srs, msm: testMsm };
});

const MU = 4;
const T = 3;
const TENSOR = 'layers.0.mlp.up.weight';
const l2: DriftSpec = { class: 'norm', maxSquaredNorm: 300n };
const linf: DriftSpec = { class: 'linf', maxAbs: 6n };
/** Block t's Δ: |Δ| ≤ 6, Σ Δ² ≤ 300. */
const deltaOf = (t: number): bigint[] => Array.from({ length: 1 << MU }, (_, i) => BigInt((((i + 5 * t) * 37) % 13) - 6));
const baseOf = (t: number): number[] => Array.from({ length: 1 << MU }, (_, i) => ((i * 7919 + t * 104729) % 2001) - 1000);

/** T blocks of a 4 × 12 tensor (tiles 4 × 4 side by side). */
async function inputs(drift: DriftSpec, count = T, over: Partial<BlockInput> = {}): Promise<BlockInput[]> {
  const out: BlockInput[] = [];
  for (let t = 0; t < count; t++) {
    out.push({
      srsId: srs.id,
      job: 'job-1',
      tensor: TENSOR,
      blockIndex: t,
      tensorShape: [4, 4 * count],
      tile: { rowOffset: 0, colOffset: 4 * t, muRows: 2, muCols: 2 },
      fractionalBits: 24,
      drift,
      cBase: await commitSmall(ctx, baseOf(t)),
      ...over,
    });
  }
  return out;
}

const accepts = (chk: UnitCheck): boolean => unitAccepted(srs, chk);

describe('norm/linf proving units', () => {
  for (const drift of [l2, linf]) {
    it(`${drift.class}: an honest unit verifies, C_ft,t = C(base_t + Δ_t), summaries per block, round-trips`, async () => {
      const { statements, proof } = await proveNormUnit(ctx, await inputs(drift), [0, 1, 2].map(deltaOf));
      const chk = verifyNormUnit(srs.N, statements, proof);
      assert.ok(accepts(chk));
      for (let t = 0; t < T; t++) {
        const ft = baseOf(t).map((b, i) => b + Number(deltaOf(t)[i]!));
        assert.ok(statements[t]!.cFt.equals(await commitSmall(ctx, ft)), `block ${t}: C_ft`);
      }
      if (chk.valid && drift.class === 'norm') {
        assert.deepEqual(
          chk.summaries.map((s) => s.squaredNorm),
          [0, 1, 2].map((t) => deltaOf(t).reduce((a, x) => a + x * x, 0n)),
        );
      }
      // One opening of one block's size: μ quotients for the whole unit.
      assert.equal(proof.quotients.length, MU);
      const bytes = encodeNormUnitProof(proof);
      assert.deepEqual(encodeNormUnitProof(decodeNormUnitProof(bytes)), bytes);
      assert.ok(accepts(verifyNormUnit(srs.N, statements, decodeNormUnitProof(bytes))), 'the decoded proof verifies');
    });

    it(`${drift.class}: the backend's unit proof is byte-identical to the JavaScript reference`, async () => {
      const ins = await inputs(drift);
      const a = await proveNormUnit(ctx, ins, [0, 1, 2].map(deltaOf));
      const b = await proveNormUnit({ srs, msm: jsMsm }, ins, [0, 1, 2].map(deltaOf));
      assert.deepEqual(encodeNormUnitProof(a.proof), encodeNormUnitProof(b.proof));
    });

    it(`${drift.class}: statements reordered, moved to another job or tensor, a block dropped or parts swapped are rejected`, async () => {
      const { statements, proof } = await proveNormUnit(ctx, await inputs(drift), [0, 1, 2].map(deltaOf));
      const rej = (sts: readonly BlockStatement[], p: NormUnitProof = proof): void => assert.ok(!accepts(verifyNormUnit(srs.N, sts, p)));
      rej([statements[1]!, statements[0]!, statements[2]!]);
      rej(statements.map((s) => ({ ...s, job: 'job-2' })));
      rej(statements.map((s) => ({ ...s, tensor: 'other.weight' })));
      rej(statements.slice(0, 2), { ...proof, tiles: proof.tiles.slice(0, 2) });
      rej(statements, { ...proof, tiles: [proof.tiles[1]!, proof.tiles[0]!, proof.tiles[2]!] });
      rej(statements.map((s, t) => (t === 1 ? { ...s, blockIndex: 7 } : s)));
    });

    it(`${drift.class}: flipped bytes anywhere in a unit proof are rejected`, async () => {
      const { statements, proof } = await proveNormUnit(ctx, await inputs(drift), [0, 1, 2].map(deltaOf));
      assertFlippedBytesRejected(encodeNormUnitProof(proof), 97, (b) => accepts(verifyNormUnit(srs.N, statements, decodeNormUnitProof(b))));
    });
  }

  it('the prover refuses a unit with one out-of-class block, naming the block', async () => {
    const ds = [0, 1, 2].map(deltaOf);
    ds[2] = ds[2]!.slice();
    ds[2][5] = 7n; // linf bound 6
    await assert.rejects(proveNormUnit(ctx, await inputs(linf), ds), (e: unknown) => e instanceof DriftPolicyViolation && /block 2 of/.test(e.message) && e.measured.includes('7'));
    const big = [0, 1, 2].map(deltaOf);
    big[1] = big[1]!.map(() => 5n); // Σ Δ² = 400 > 300
    await assert.rejects(proveNormUnit(ctx, await inputs(l2), big), (e: unknown) => e instanceof DriftPolicyViolation && /block 1 of/.test(e.message));
  });

  it('units of one block, of mixed tensors, classes or block sizes are refused by the prover and rejected by the verifier', async () => {
    const ins = await inputs(l2);
    await assert.rejects(proveNormUnit(ctx, ins.slice(0, 1), [deltaOf(0)]), /a unit has 2\.\./);
    await assert.rejects(proveNormUnit(ctx, [ins[0]!, { ...ins[1]!, tensor: 'other' }], [deltaOf(0), deltaOf(1)]), /tensor/);
    await assert.rejects(proveNormUnit(ctx, [ins[0]!, { ...ins[1]!, drift: linf }], [deltaOf(0), deltaOf(1)]), /drift spec differs/);
    const { statements, proof } = await proveNormUnit(ctx, ins, [0, 1, 2].map(deltaOf));
    const chk = verifyNormUnit(srs.N, statements.map((s, t) => (t === 2 ? { ...s, tile: { ...s.tile, muCols: 3 } } : s)), proof);
    assert.ok(!chk.valid && /2\^5 entries/.test(chk.reason));
  });

  /**
   * A hand-run unit prover: bit vectors as field values (so non-boolean "bits" are possible)
   * and claimed S per block. With honest inputs it reproduces the prover's proof.
   */
  async function forge(drift: DriftSpec, bitVectors: bigint[][][], claimedS: (bigint | null)[]): Promise<{ statements: BlockStatement[]; proof: NormUnitProof }> {
    const B = drift.class === 'norm' ? 17n : 6n;
    const w = rangeWeights(B);
    const ins = await inputs(drift, bitVectors.length);
    const cs: G1Point[][] = [];
    for (const tile of bitVectors) cs.push(await Promise.all(tile.map((v) => commitField(ctx, v.map((x) => Fr.create(x))))));
    const statements = ins.map((inp, t) => ({ ...inp, cFt: inp.cBase.add(impliedCommitment(cs[t]!, w, B)) }));
    const tr = unitTranscript(NORM_UNIT_PROTOCOL, statements);
    cs.forEach((c, t) => {
      tr.absorbG1s('norm.bits', c);
      if (claimedS[t] !== null) tr.absorbScalar('norm.squaredNorm', Fr.create(claimedS[t]!));
    });
    const sq = claimedS[0] !== null;
    const r = tr.challenges('norm.r', MU);
    const alpha = tr.challenge('norm.alpha');
    const c = sq ? tr.challenge('norm.c') : 0n;
    const theta = tr.challenge('norm.theta');
    const tables = bitVectors.flat().map((v) => v.map((x) => Fr.create(x)));
    const ell = w.length;
    const combine = (v: readonly bigint[]): bigint => {
      let out = 0n;
      for (let t = 0; t < bitVectors.length; t++) {
        const th = Fr.pow(theta, BigInt(t));
        let bool = 0n;
        let d = Fr.neg(B);
        for (let j = 0; j < ell; j++) {
          const b = v[1 + t * ell + j]!;
          bool = Fr.add(bool, Fr.mul(Fr.pow(alpha, BigInt(j)), Fr.mul(b, Fr.sub(b, 1n))));
          d = Fr.add(d, Fr.mul(Fr.create(w[j]!), b));
        }
        out = Fr.add(out, Fr.mul(th, Fr.add(Fr.mul(v[0]!, bool), sq ? Fr.mul(c, Fr.sqr(d)) : 0n)));
      }
      return out;
    };
    const sc = proveSumcheck(tr, 'norm.sumcheck', [eqTable(r), ...tables], 3, combine);
    const evals = sc.finalValues.slice(1);
    const tiles = cs.map((bitCommitments, t) => {
      const bitEvals = evals.slice(t * ell, (t + 1) * ell);
      tr.absorbScalars('norm.bitEvals', bitEvals);
      return { bitCommitments, squaredNorm: claimedS[t] === null ? null : Fr.create(claimedS[t]!), bitEvals };
    });
    const eta = tr.challenge('norm.eta');
    const opening = await openAt(ctx, combineVectors(tables, eta), sc.point);
    return { statements, proof: { tiles, sumcheck: sc.proof, quotients: opening.quotients } };
  }

  function honestBits(B: bigint, d: readonly bigint[]): bigint[][] {
    const w = rangeWeights(B);
    const out = w.map(() => new Array<bigint>(d.length).fill(0n));
    d.forEach((x, i) => decomposeInRange(x + B, w).forEach((b, j) => (out[j]![i] = BigInt(b))));
    return out;
  }
  const S = (t: number): bigint => deltaOf(t).reduce((a, x) => a + x * x, 0n);

  it('the hand-run unit forger reproduces honest proofs (so its rejections are the checks at work)', async () => {
    const f = await forge(l2, [0, 1, 2].map((t) => honestBits(17n, deltaOf(t))), [S(0), S(1), S(2)]);
    assert.ok(accepts(verifyNormUnit(srs.N, f.statements, f.proof)));
    const ins = await inputs(l2);
    const honest = await proveNormUnit(ctx, ins, [0, 1, 2].map(deltaOf));
    // Same statements (bits determine C_ft) — the honest prover's bytes equal the forger's.
    assert.ok(honest.statements.every((s, t) => s.cFt.equals(f.statements[t]!.cFt)));
    assert.deepEqual(encodeNormUnitProof(honest.proof), encodeNormUnitProof(f.proof));
  });

  it("one block's S under-reported, alone or compensated by another block's, is rejected", async () => {
    const bits = [0, 1, 2].map((t) => honestBits(17n, deltaOf(t)));
    for (const claimed of [
      [S(0), S(1) - 50n, S(2)],
      [S(0) + 50n, S(1) - 50n, S(2)], // Σ S unchanged: θ keeps the blocks apart
    ]) {
      const f = await forge(l2, bits, claimed);
      const chk = verifyNormUnit(srs.N, f.statements, f.proof);
      assert.equal(chk.valid, false, `claimed ${claimed.join(', ')}`);
    }
  });

  it('non-boolean bits in one block that satisfy its linear check are rejected (linf and norm)', async () => {
    for (const [drift, B] of [
      [linf, 6n],
      [l2, 17n],
    ] as const) {
      const bits = [0, 1, 2].map((t) => honestBits(B, deltaOf(t)));
      // Block 1, entry 0: Δ = 100 ≫ B, written as 100 + B in the lowest "bit".
      bits[1]!.forEach((v) => (v[0] = 0n));
      bits[1]![0]![0] = 100n + B;
      const claimed = drift.class === 'norm' ? [S(0), S(1) - deltaOf(1)[0]! ** 2n + 10000n, S(2)] : [null, null, null];
      const f = await forge(drift, bits, claimed);
      const chk = verifyNormUnit(srs.N, f.statements, f.proof);
      assert.equal(chk.valid, false, drift.class);
      assert.match(chk.valid ? '' : chk.reason, /final claim|claim/);
    }
  });
});

describe('certificates with proving units', () => {
  async function records(): Promise<ProofRecord[]> {
    // Tensor of 5 blocks: a unit of 3, a unit of 2 — and a second tensor of one block.
    const ins = await inputs({ class: 'norm', maxSquaredNorm: 2000n }, 5); // the tensor's budget covers 5 blocks
    const u1 = await proveNormUnit(ctx, ins.slice(0, 3), [0, 1, 2].map(deltaOf));
    const u2 = await proveNormUnit(ctx, ins.slice(3), [3, 4].map(deltaOf));
    const one = await inputs(linf, 2, { tensor: 'layers.1.mlp.up.weight' });
    const u3 = await proveNormUnit(ctx, one, [0, 1].map(deltaOf));
    return [
      { statements: u1.statements, proofBytes: encodeNormUnitProof(u1.proof) },
      { statements: u2.statements, proofBytes: encodeNormUnitProof(u2.proof) },
      { statements: u3.statements, proofBytes: encodeNormUnitProof(u3.proof) },
    ];
  }

  it('aggregate, seal, encode, decode and verify a certificate of units (blob version 2)', async () => {
    const recs = await records();
    assert.equal(blockCount(recs), 7);
    const agg = aggregateBlocks(srs, recs);
    assert.ok(agg.ok, agg.ok ? '' : agg.failing.reason);
    if (!agg.ok) return;
    assert.ok(pairingCheck(srs, agg.accumulator));
    assert.deepEqual(
      agg.tensors.map((t) => [t.tensor, t.blocks]),
      [
        [TENSOR, 5],
        ['layers.1.mlp.up.weight', 2],
      ],
    );
    const cert = sealCertificate({
      version: 1,
      job: 'job-1',
      baseManifestDigest: '11'.repeat(32),
      policyDigest: '22'.repeat(32),
      fineTunedFiles: [],
      srs: { id: srs.id, kind: 'dev', N: srs.N },
      fractionalBits: 24,
      tensors: agg.tensors.map(provenTensorResult),
      fanIn: 16,
      blocks: recs,
      accumulator: agg.accumulator,
      root: agg.root,
    });
    const files = encodeCertificate(cert);
    const blob = files.blob;
    assert.equal(new DataView(blob.buffer, blob.byteOffset).getUint32(8), CERT_BLOB_VERSION_UNITS);
    const back = decodeCertificate(files.json, blob);
    assert.deepEqual(back.blocks.map((b) => recordStatements(b).length), [3, 2, 2]);
    assert.deepEqual(encodeCertificateBlob(back), blob);
    const { verifyCertificate } = await import('../smdp/verifier.ts');
    assert.equal(verifyCertificate(srs, back).valid, true);
  });

  it('a blob of single blocks stays version 1; a version-2 blob without units is not canonical', async () => {
    const recs = await records();
    const agg = aggregateBlocks(srs, recs);
    assert.ok(agg.ok);
    const body = { version: 1 as const, job: 'job-1', baseManifestDigest: '11'.repeat(32), policyDigest: '22'.repeat(32), fineTunedFiles: [], srs: { id: srs.id, kind: 'dev' as const, N: srs.N }, fractionalBits: 24, tensors: [], fanIn: 16, accumulator: agg.accumulator, root: agg.root };
    const single = encodeCertificateBlob({ ...body, blocks: [] });
    assert.equal(new DataView(single.buffer, single.byteOffset).getUint32(8), CERT_BLOB_VERSION);
    const v2 = single.slice();
    new DataView(v2.buffer).setUint32(8, CERT_BLOB_VERSION_UNITS);
    const { decodeCertificateBlob } = await import('../smdp/certificate.ts');
    assert.throws(() => decodeCertificateBlob(v2), (e: unknown) => e instanceof SmdpError && e.code === 'NON_CANONICAL');
    const zero = encodeCertificateBlob({ ...body, blocks: recs }).slice();
    // The first record's block count (offset 24) set to 0: BAD_VALUE naming the record.
    new DataView(zero.buffer).setUint32(24, 0);
    assert.throws(() => decodeCertificateBlob(zero), (e: unknown) => e instanceof SmdpError && e.code === 'BAD_VALUE' && /blocks\[0\]\.blockCount/.test(e.message));
  });

  it('aggregation names a failing unit by its first block; a unit over two tensors is rejected', async () => {
    const recs = await records();
    const bad = recs.slice();
    // The unit's second block's first bit evaluation off by one: its sumcheck's final claim fails.
    const proof = decodeNormUnitProof(recs[1]!.proofBytes);
    const tiles = proof.tiles.map((tp, t) => (t === 1 ? { ...tp, bitEvals: tp.bitEvals.map((e, j) => (j === 0 ? Fr.add(e, 1n) : e)) } : tp));
    bad[1] = { statements: recordStatements(recs[1]!), proofBytes: encodeNormUnitProof({ ...proof, tiles }) };
    const agg = aggregateBlocks(srs, bad);
    assert.ok(!agg.ok);
    if (!agg.ok) {
      assert.equal(agg.failing.index, 3);
      assert.equal(agg.failing.blockIndex, 3);
    }
    const mixed = recordStatements(recs[2]!).map((s) => ({ ...s, tensor: TENSOR }));
    const chk = verifyRecordProof(srs, { statements: [recordStatements(recs[0]!)[0]!, ...mixed.slice(1)], proofBytes: recs[2]!.proofBytes }, 'unit');
    assert.equal(chk.valid, false);
  });
});
