/**
 * Aggregation (PROTOCOLS.md §6; smdp/aggregate.ts, smdp/blocks.ts): the accumulator tree,
 * block dispatch and the tensor-level checks.
 *
 * Fixture: one multi-tensor certificate's blocks, all proven by the public provers under an
 * INSECURE dev SRS (N = 8, blocks μ ≤ 6): a norm tensor (2 blocks), an linf tensor split by
 * columns (2), a hidden-sparse tensor (1), a revealed-sparse tensor (2), a low-rank tensor
 * (2 tiles citing one C_B) and a free tensor (1). The honest aggregate passes the one
 * multi-pairing; then every check is shown to reject: a proof moved to another block, a
 * malformed proof, swapped blocks, Σ S_b over the tensor budget with each block under it,
 * two C_B in one tensor, and (directly on `checkTensors`) every other tensor-level rule.
 * Two forgeries aim at the fold itself: a stated accumulator that is not the fold of the
 * blocks, and a "compensating" pair of blocks whose pairing errors cancel when added with
 * γ = 1 (built with the dev trapdoor, which is public) — rejected because γ is random.
 * Timings are printed, never asserted (STYLE.md).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PendingAccumulator, pairingCheck } from '../smdp/accumulator.ts';
import {
  DEFAULT_FAN_IN,
  aggregateBlocks,
  aggregationContext,
  aggregationLevels,
  checkTensors,
  foldChildren,
  foldTree,
  leafDigest,
  locatePairingFailures,
  matrixView,
  nodeChildRange,
  type AggregationChild,
  type BlockRecord,
} from '../smdp/aggregate.ts';
import { blockProofKind, encodeBlockProof, verifyBlockProof } from '../smdp/blocks.ts';
import type { BlockSummary } from '../smdp/classes/common.ts';
import { commitFactorB, proveLowRank } from '../smdp/classes/lowrank.ts';
import { decodeNormProof, encodeNormProof, proveNormBound, verifyNormBound, type BlockInput } from '../smdp/classes/norm.ts';
import { encodeSparseHiddenProof, encodeSparseRevealedProof, proveSparseHidden, proveSparseRevealed } from '../smdp/classes/sparse.ts';
import { Fr, G1, type G1Point } from '../smdp/field.ts';
import { testMsm } from './backend.ts';
import { commitSmall, type ProverContext } from '../smdp/pst.ts';
import { devSrs, devTau } from '../smdp/srs-insecure-dev.ts';
import type { Srs } from '../smdp/srs.ts';
import { blockVars, encodeStatement, type BlockStatement, type DriftSpec, type TileGeometry } from '../smdp/statement.ts';

const N = 8;
const JOB = 'job-agg';
let srs: Srs;
let ctx: ProverContext;

function baseValues(seed: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => ((i * 37 + seed * 11) % 101) - 50);
}

async function inputFor(tensor: string, blockIndex: number, tensorShape: number[], tile: TileGeometry, drift: DriftSpec, seed: number): Promise<BlockInput> {
  const cBase = await commitSmall(ctx, baseValues(seed, 1 << (tile.muRows + tile.muCols)));
  return { srsId: srs.id, job: JOB, tensor, blockIndex, tensorShape, tile, fractionalBits: 24, drift, cBase };
}

const tile = (rowOffset: number, colOffset: number, muRows: number, muCols: number): TileGeometry => ({ rowOffset, colOffset, muRows, muCols });

async function normBlock(tensor: string, blockIndex: number, shape: number[], t: TileGeometry, drift: DriftSpec, delta: bigint[], seed: number): Promise<BlockRecord> {
  const { statement, proof } = await proveNormBound(ctx, await inputFor(tensor, blockIndex, shape, t, drift, seed), delta);
  return { statement, proofBytes: encodeNormProof(proof) };
}

/** λ = 2^(12+12−24) = 1, residual none: Δ_t = A_t·B exactly. */
const LOWRANK: DriftSpec = { class: 'lowrank', rank: 2, factorBitsA: 12, factorBitsB: 12, residual: { kind: 'none' } };

async function lowRankBlocks(tensor: string, bSeed: readonly number[]): Promise<BlockRecord[]> {
  // Tensor 8 × 8, tiles 4 × 8, rank 2 (κ = 1, K = 2); B: 2 × 8, A_t: 4 × 2.
  const out: BlockRecord[] = [];
  for (let t = 0; t < 2; t++) {
    const B = Array.from({ length: 16 }, (_, i) => BigInt(((i * 5 + bSeed[t]!) % 7) - 3));
    const cB = await commitFactorB(ctx, B, 1, 3);
    const A = Array.from({ length: 8 }, (_, i) => BigInt(((i * 3 + t) % 5) - 2));
    const delta: bigint[] = [];
    for (let row = 0; row < 4; row++) for (let c = 0; c < 8; c++) delta.push(A[row * 2]! * B[c]! + A[row * 2 + 1]! * B[8 + c]!);
    const { statement, proof } = await proveLowRank(ctx, await inputFor(tensor, t, [8, 8], tile(4 * t, 0, 2, 3), LOWRANK, 50 + t), delta, { A, B, cB });
    out.push({ statement, proofBytes: encodeBlockProof({ kind: 'lowrank', proof }) });
  }
  return out;
}

/** Blocks of one multi-tensor certificate, in certificate order. */
let honest: BlockRecord[];
/** Block positions of each tensor in `honest`. */
const NORM_T = 'attn.q';
const NORM_DRIFT: DriftSpec = { class: 'norm', maxSquaredNorm: 400n };

function smallDelta(n: number, seed: number, amp: number): bigint[] {
  // i² + 3i + seed: not constant modulo any small 2·amp + 1.
  return Array.from({ length: n }, (_, i) => BigInt(((i * i + 3 * i + seed) % (2 * amp + 1)) - amp));
}

before(async () => {
  const t0 = performance.now();
  srs = devSrs(N).srs;
  ctx = { srs, msm: testMsm };
  const blocks: BlockRecord[] = [];
  // attn.q — norm, 8 × 8, two 4 × 8 bands; S_b ≈ 64 each, T_total = 400.
  for (let b = 0; b < 2; b++) blocks.push(await normBlock(NORM_T, b, [8, 8], tile(4 * b, 0, 2, 3), NORM_DRIFT, smallDelta(32, b, 2), 10 + b));
  // mlp.b — linf |Δ| ≤ 3, a 1-D tensor of 16 split into two column tiles (elementwise class).
  for (let b = 0; b < 2; b++) blocks.push(await normBlock('mlp.b', b, [16], tile(0, 8 * b, 0, 3), { class: 'linf', maxAbs: 3n }, smallDelta(8, b, 3), 20 + b));
  // emb — sparse hidden, k = 4, one 4 × 4 tile with 3 changes.
  {
    const delta = new Array<bigint>(16).fill(0n);
    delta[1] = 5n;
    delta[6] = -2n;
    delta[15] = 9n;
    const { statement, proof } = await proveSparseHidden(ctx, await inputFor('emb', 0, [4, 4], tile(0, 0, 2, 2), { class: 'sparse', reveal: false, maxNonzeros: 4 }, 30), delta);
    blocks.push({ statement, proofBytes: encodeSparseHiddenProof(proof) });
  }
  // head — sparse revealed, k = 5 over the tensor, two 2 × 4 bands with 2 changes each.
  for (let b = 0; b < 2; b++) {
    const delta = new Array<bigint>(8).fill(0n);
    delta[b] = 3n;
    delta[5 + b] = -7n;
    const { statement, proof } = await proveSparseRevealed(ctx, await inputFor('head', b, [4, 4], tile(2 * b, 0, 1, 2), { class: 'sparse', reveal: true, maxNonzeros: 5 }, 40 + b), delta);
    blocks.push({ statement, proofBytes: encodeSparseRevealedProof(proof) });
  }
  // lora.w — lowrank, two tiles citing one C_B.
  blocks.push(...(await lowRankBlocks('lora.w', [1, 1])));
  // free.x — free, no proof.
  {
    const input = await inputFor('free.x', 0, [4], tile(0, 0, 0, 2), { class: 'free' }, 60);
    blocks.push({ statement: { ...input, cFt: await commitSmall(ctx, [9, -9, 4, 0]) }, proofBytes: new Uint8Array(0) });
  }
  honest = blocks;
  console.log(`# aggregate fixture: ${blocks.length} blocks proven in ${(performance.now() - t0).toFixed(0)} ms`);
});

function expectFailure(blocks: readonly BlockRecord[], index: number, pattern: RegExp, fanIn = DEFAULT_FAN_IN): void {
  const r = aggregateBlocks(srs, blocks, fanIn);
  assert.equal(r.ok, false, 'expected the aggregate to fail');
  if (r.ok) return;
  assert.equal(r.failing.index, index, `failing child: ${JSON.stringify(r.failing)}`);
  assert.match(r.failing.reason, pattern);
}

function withStatement(b: BlockRecord, patch: Partial<BlockStatement>): BlockRecord {
  return { statement: { ...b.statement, ...patch }, proofBytes: b.proofBytes };
}

// ---------------------------------------------------------------------------------------------

describe('PendingAccumulator folding', () => {
  it('nested absorbScaled evaluates to the same points as the explicit sum; absorbed accumulators are frozen', () => {
    const P = (k: bigint): G1Point => G1.BASE.multiply(k);
    const leaf = (seed: bigint): PendingAccumulator =>
      new PendingAccumulator(3)
        .add(0, P(seed), seed + 1n)
        .add(2, P(seed + 7n), Fr.neg(seed))
        .addG1(seed * 3n);
    const a = leaf(5n);
    const b = leaf(11n);
    const c = leaf(17n);
    const mid = new PendingAccumulator(3).add(1, P(99n), 4n).absorbScaled(a, 2n).absorbScaled(b, 9n);
    const top = new PendingAccumulator(3).absorbScaled(mid, 3n).absorbScaled(c, 5n).addG1(1n);
    // Slot by slot: Σ over leaves of (path coefficient) × (leaf term).
    const expectSlot = (slot: number): G1Point => {
      let acc = G1.ZERO;
      const addLeaf = (seed: bigint, coef: bigint): void => {
        if (slot === 0) acc = acc.add(P(seed).multiply(Fr.mul(seed + 1n, coef))).add(G1.BASE.multiply(Fr.mul(seed * 3n, coef)));
        if (slot === 2) acc = acc.add(P(seed + 7n).multiply(Fr.mul(Fr.neg(seed), coef)));
      };
      addLeaf(5n, 6n);
      addLeaf(11n, 27n);
      addLeaf(17n, 5n);
      if (slot === 1) acc = acc.add(P(99n).multiply(12n));
      if (slot === 0) acc = acc.add(G1.BASE);
      return acc;
    };
    const got = top.evaluate();
    for (let slot = 0; slot <= 3; slot++) assert.ok(got[slot]!.equals(expectSlot(slot)), `slot ${slot}`);
    assert.ok(got[3]!.is0());
    assert.deepEqual(top.evaluate().map((p) => p.toHex()), got.map((p) => p.toHex()), 'evaluation is repeatable');
    assert.throws(() => a.add(0, P(1n), 1n), /frozen/);
    assert.throws(() => mid.addG1(1n), /frozen/);
    assert.throws(() => top.absorbScaled(top, 1n), /cannot absorb itself/);
  });
});

describe('honest aggregate', () => {
  it('dispatch: every kind of the fixture is present', () => {
    assert.deepEqual(
      honest.map((b) => blockProofKind(b.statement.drift)),
      ['norm', 'norm', 'linf', 'linf', 'sparse-hidden', 'sparse-revealed', 'sparse-revealed', 'lowrank', 'lowrank', 'free'],
    );
  });

  for (const fanIn of [2, 3, 16]) {
    it(`passes the one multi-pairing (fan-in ${fanIn}) with per-tensor summaries`, () => {
      const t0 = performance.now();
      const r = aggregateBlocks(srs, honest, fanIn);
      assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.failing));
      assert.equal(r.accumulator.length, N + 1);
      assert.ok(pairingCheck(srs, r.accumulator));
      console.log(`# aggregate + pairing of ${honest.length} blocks, fan-in ${fanIn}: ${(performance.now() - t0).toFixed(0)} ms`);
      assert.deepEqual(
        r.tensors.map((t) => [t.tensor, t.blocks, t.nonzeros, t.squaredNorm]),
        [
          [NORM_T, 2, undefined, smallDelta(32, 0, 2).reduce((s, x) => s + x * x, 0n) + smallDelta(32, 1, 2).reduce((s, x) => s + x * x, 0n)],
          ['mlp.b', 2, undefined, undefined],
          ['emb', 1, 3, undefined],
          ['head', 2, 4, undefined],
          ['lora.w', 2, undefined, undefined],
          ['free.x', 1, undefined, undefined],
        ],
      );
      assert.ok(r.tensors[4]!.factorCommitment !== undefined);
    });
  }

  it('the root and accumulator depend on the fan-in, the verdict does not', () => {
    const a = aggregateBlocks(srs, honest, 2);
    const b = aggregateBlocks(srs, honest, 16);
    assert.ok(a.ok && b.ok);
    assert.notEqual(a.root, b.root);
    assert.ok(!a.accumulator[0]!.equals(b.accumulator[0]!));
  });

  it('incremental API: folding node by node (evaluated child accumulators) gives the same root and accumulator', () => {
    const fanIn = 3;
    const whole = aggregateBlocks(srs, honest, fanIn);
    assert.ok(whole.ok);
    const actx = aggregationContext(srs, JOB);
    // Level 1 from leaves as a distributed pipeline would: each prover returns digest + accumulator.
    const leaves: AggregationChild[] = honest.map((b, i) => {
      const check = verifyBlockProof(srs, b.statement, b.proofBytes, `blocks[${i}]`);
      assert.ok(check.valid);
      return { digest: leafDigest(encodeStatement(b.statement), b.proofBytes), accumulator: check.accumulator?.evaluate() ?? null };
    });
    const levels = aggregationLevels(leaves.length, fanIn);
    assert.deepEqual(levels, [10, 4, 2, 1]);
    let nodes: AggregationChild[] = leaves;
    for (let level = 1; level < levels.length; level++) {
      const next: AggregationChild[] = [];
      for (let i = 0; i < levels[level]!; i++) {
        const { start, end } = nodeChildRange(i, fanIn, nodes.length);
        const node = foldChildren(actx, level, i, nodes.slice(start, end));
        next.push({ digest: node.digest, accumulator: node.accumulator.evaluate() });
      }
      nodes = next;
    }
    assert.equal(nodes.length, 1);
    const root = nodes[0]!;
    assert.equal(Buffer.from(root.digest).toString('hex'), whole.root);
    const acc = root.accumulator as G1Point[];
    acc.forEach((p, j) => assert.ok(p.equals(whole.accumulator[j]!), `slot ${j}`));
    // foldTree over pending accumulators agrees too.
    const viaTree = foldTree(actx, fanIn, leaves);
    assert.equal(Buffer.from(viaTree.digest).toString('hex'), whole.root);
  });

  it('streaming aggregation: any subtree size gives the same root and accumulator', () => {
    for (const fanIn of [2, 3, 16]) {
      const whole = aggregateBlocks(srs, honest, fanIn, Number.MAX_SAFE_INTEGER); // one subtree: fold all, evaluate once
      assert.ok(whole.ok);
      for (const streamLeaves of [1, 2, 3, 4, 9]) {
        const streamed = aggregateBlocks(srs, honest, fanIn, streamLeaves);
        assert.ok(streamed.ok);
        assert.equal(streamed.root, whole.root, `fan-in ${fanIn}, subtrees of ≥ ${streamLeaves}`);
        streamed.accumulator.forEach((p, j) => assert.ok(p.equals(whole.accumulator[j]!), `fan-in ${fanIn}, subtrees of ≥ ${streamLeaves}: slot ${j}`));
      }
    }
  });

  it('tree shape: levels, edges and the empty certificate', () => {
    assert.deepEqual(aggregationLevels(0, 16), [0, 1]);
    assert.deepEqual(aggregationLevels(1, 16), [1, 1]);
    assert.deepEqual(aggregationLevels(16, 16), [16, 1]);
    assert.deepEqual(aggregationLevels(17, 16), [17, 2, 1]);
    assert.deepEqual(nodeChildRange(1, 16, 17), { start: 16, end: 17 });
    assert.throws(() => aggregationLevels(5, 1), /fan-in/);
    const empty = aggregateBlocks(srs, [], 16);
    assert.ok(empty.ok);
    assert.ok(empty.accumulator.every((p) => p.is0()));
    assert.ok(pairingCheck(srs, empty.accumulator));
  });

  it('matrix view of shapes (PROTOCOLS §1)', () => {
    assert.deepEqual(matrixView([]), { rows: 1n, cols: 1n });
    assert.deepEqual(matrixView([7]), { rows: 1n, cols: 7n });
    assert.deepEqual(matrixView([3, 5]), { rows: 3n, cols: 5n });
    assert.deepEqual(matrixView([4, 3, 2, 2]), { rows: 4n, cols: 12n });
  });
});

describe('a bad block is named as the failing child', () => {
  it('a proof moved to another block of the same tensor (valid proof, wrong statement)', () => {
    const blocks = honest.slice();
    blocks[1] = { statement: honest[1]!.statement, proofBytes: honest[0]!.proofBytes };
    expectFailure(blocks, 1, /sumcheck|differs/);
    const r = aggregateBlocks(srs, blocks);
    assert.ok(!r.ok && r.failing.tensor === NORM_T && r.failing.blockIndex === 1);
  });

  it('a proof of another class under a statement of this class', () => {
    const blocks = honest.slice();
    blocks[4] = { statement: honest[4]!.statement, proofBytes: honest[5]!.proofBytes }; // revealed bytes under a hidden statement
    expectFailure(blocks, 4, /does not decode|sparse/);
  });

  it('malformed proof bytes are a rejection of that block, with the decoder code, never a crash', () => {
    for (const [pos, cut] of [
      [0, 10],
      [3, 1],
      [7, 40],
    ] as const) {
      const blocks = honest.slice();
      blocks[pos] = { statement: honest[pos]!.statement, proofBytes: honest[pos]!.proofBytes.subarray(0, honest[pos]!.proofBytes.length - cut) };
      expectFailure(blocks, pos, /does not decode: TRUNCATED/);
    }
    const blocks = honest.slice();
    blocks[9] = { statement: honest[9]!.statement, proofBytes: new Uint8Array([0]) };
    expectFailure(blocks, 9, /TRAILING_BYTES/);
    const flipped = honest[2]!.proofBytes.slice();
    flipped[5] = flipped[5]! ^ 0x40;
    blocks[9] = honest[9]!;
    blocks[2] = { statement: honest[2]!.statement, proofBytes: flipped };
    expectFailure(blocks, 2, /./);
  });

  it('an edited statement (bound, job, s, C_ft) fails its block', () => {
    expectFailure(
      honest.map((b, i) => (i === 0 || i === 1 ? withStatement(b, { drift: { class: 'norm', maxSquaredNorm: 401n } }) : b)),
      0,
      /./,
    );
    expectFailure(
      honest.map((b, i) => (i === 3 ? withStatement(b, { cFt: b.statement.cFt.add(G1.BASE) }) : b)),
      3,
      /./,
    );
    expectFailure(
      honest.map((b, i) => (i === 8 ? withStatement(b, { fractionalBits: 23 }) : b)),
      8,
      /./,
    );
  });

  it('a statement naming another SRS is rejected before any check', () => {
    expectFailure(
      honest.map((b, i) => (i === 6 ? withStatement(b, { srsId: 'ab'.repeat(32) }) : b)),
      6,
      /names SRS/,
    );
  });

  it('every failing block is listed, the first is `failing`', () => {
    const blocks = honest.slice();
    blocks[2] = { statement: honest[2]!.statement, proofBytes: honest[3]!.proofBytes };
    blocks[7] = { statement: honest[7]!.statement, proofBytes: new Uint8Array(3) };
    const r = aggregateBlocks(srs, blocks);
    assert.ok(!r.ok);
    assert.deepEqual(
      r.failures.map((f) => f.index),
      [2, 7],
    );
    assert.equal(r.failing.index, 2);
  });
});

describe('tensor-level checks', () => {
  it('Σ S_b over the tensor budget is rejected even though each block is under it', async () => {
    // T_total = 100; each block has S_b = 16·2² = 64 ≤ 100, together 128 > 100.
    const drift: DriftSpec = { class: 'norm', maxSquaredNorm: 100n };
    const delta = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? 2n : -2n));
    const b0 = await normBlock('over', 0, [8, 4], tile(0, 0, 2, 2), drift, delta, 70);
    const b1 = await normBlock('over', 1, [8, 4], tile(4, 0, 2, 2), drift, delta, 71);
    for (const b of [b0, b1]) {
      const c = verifyNormBound(N, b.statement, decodeNormProof(b.proofBytes));
      assert.ok(c.valid && c.summary.squaredNorm === 64n && pairingCheck(srs, c.accumulator!.evaluate()), 'each block is valid alone');
    }
    expectFailure([b0, b1], 1, /Σ S_b over blocks 0\.\.1 = 128 exceeds the tensor's squared-norm budget 100/);
    // The same pair within a budget of 128 passes.
    const ok = [
      await normBlock('over', 0, [8, 4], tile(0, 0, 2, 2), { class: 'norm', maxSquaredNorm: 128n }, delta, 70),
      await normBlock('over', 1, [8, 4], tile(4, 0, 2, 2), { class: 'norm', maxSquaredNorm: 128n }, delta, 71),
    ];
    const r = aggregateBlocks(srs, ok);
    assert.ok(r.ok && pairingCheck(srs, r.accumulator));
  });

  it('swapped block order is rejected (and would change the root anyway)', () => {
    const swapped = honest.slice();
    [swapped[0], swapped[1]] = [honest[1]!, honest[0]!];
    expectFailure(swapped, 0, /block indices must run 0\.\.m−1 in order/);
    const swapped2 = honest.slice();
    [swapped2[5], swapped2[6]] = [honest[6]!, honest[5]!];
    expectFailure(swapped2, 5, /in order/);
  });

  it('a dropped block (gap), a duplicated block, interleaved tensors', () => {
    expectFailure(
      honest.filter((_, i) => i !== 0),
      0,
      /in order/,
    );
    // Dropping the last block of a tensor leaves part of it uncovered.
    expectFailure(
      honest.filter((_, i) => i !== 1),
      0,
      /tiles cover 32 of the 64 entries/,
    );
    expectFailure([...honest.slice(0, 2), honest[1]!, ...honest.slice(2)], 2, /in order/);
    // Interleaving leaves the first tensor's run incomplete (caught by coverage); a tensor
    // whose blocks reappear later is caught as non-contiguous.
    expectFailure([honest[0]!, honest[2]!, honest[1]!, ...honest.slice(3)], 0, /tiles cover 32 of the 64 entries/);
    expectFailure([...honest, honest[0]!, honest[1]!], 10, /not contiguous/);
  });

  it('two C_B in one low-rank tensor are rejected, though each tile is valid alone', async () => {
    const [t0] = await lowRankBlocks('lora.v', [1, 1]);
    const [, t1] = await lowRankBlocks('lora.v', [1, 4]);
    for (const b of [t0!, t1!]) {
      const c = verifyBlockProof(srs, b.statement, b.proofBytes, 'tile');
      assert.ok(c.valid && pairingCheck(srs, c.accumulator!.evaluate()));
    }
    expectFailure([t0!, t1!], 1, /cites a C_B other than block 0's/);
  });

  /** Statements and summaries for `checkTensors` directly (no proofs needed for these rules). */
  function fab(tensor: string, blockIndex: number, drift: DriftSpec, t: TileGeometry, shape: number[], extra: Partial<BlockStatement> = {}): BlockStatement {
    return { srsId: 'x', job: JOB, tensor, blockIndex, tensorShape: shape, tile: t, fractionalBits: 24, drift, cBase: G1.BASE, cFt: G1.BASE, ...extra };
  }
  function expectTensorFailure(sts: BlockStatement[], sums: BlockSummary[], index: number, pattern: RegExp): void {
    const r = checkTensors(sts, sums);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.failing.index, index, r.failing.reason);
      assert.match(r.failing.reason, pattern);
    }
  }
  const bands = (tensor: string, drift: DriftSpec, m: number, extra: (b: number) => Partial<BlockStatement> = () => ({})): BlockStatement[] =>
    Array.from({ length: m }, (_, b) => fab(tensor, b, drift, tile(2 * b, 0, 1, 2), [2 * m, 4], extra(b)));

  it('checkTensors: each rule rejects', () => {
    const sparse: DriftSpec = { class: 'sparse', reveal: false, maxNonzeros: 3 };
    const s2: BlockSummary = { nonzeros: 2 };
    assert.ok(checkTensors(bands('s', sparse, 2), [{ nonzeros: 2 }, { nonzeros: 1 }]).ok);
    expectTensorFailure(bands('s', sparse, 2), [s2, s2], 1, /Σ k'_b over blocks 0\.\.1 = 4 exceeds the tensor's bound 3/);
    expectTensorFailure(bands('s', sparse, 2), [s2, {}], 1, /without a nonzero count/);

    const l2: DriftSpec = { class: 'lowrank', rank: 1, factorBitsA: 12, factorBitsB: 12, residual: { kind: 'l2', maxSquaredNorm: 10n } };
    const cB = G1.BASE.multiply(5n);
    assert.ok(checkTensors(bands('l', l2, 2), [{ factorCommitment: cB, squaredNorm: 5n }, { factorCommitment: cB, squaredNorm: 5n }]).ok);
    expectTensorFailure(bands('l', l2, 2), [{ factorCommitment: cB, squaredNorm: 5n }, { factorCommitment: cB, squaredNorm: 6n }], 1, /Σ S_E .* = 11 exceeds the residual budget 10/);
    expectTensorFailure(bands('l', l2, 2), [{ factorCommitment: cB, squaredNorm: 1n }, { squaredNorm: 1n }], 1, /without a C_B/);
    expectTensorFailure(
      bands('l', l2, 2, (b) => (b === 1 ? { tile: tile(2, 0, 1, 3), tensorShape: [4, 4] } : {})),
      [{ factorCommitment: cB, squaredNorm: 1n }, { factorCommitment: cB, squaredNorm: 1n }],
      1,
      /differs from the tensor's block 0|tile width/,
    );

    const norm: DriftSpec = { class: 'norm', maxSquaredNorm: 10n };
    expectTensorFailure(bands('n', norm, 2), [{ squaredNorm: 1n }, {}], 1, /without a squared norm/);
    expectTensorFailure(bands('n', norm, 2, (b) => (b === 1 ? { drift: { class: 'norm', maxSquaredNorm: 11n } } : {})), [{ squaredNorm: 1n }, { squaredNorm: 1n }], 1, /drift spec differs/);
    expectTensorFailure(bands('n', norm, 2, (b) => (b === 1 ? { tensorShape: [4, 5] } : {})), [{ squaredNorm: 1n }, { squaredNorm: 1n }], 1, /tensor shape/);
    expectTensorFailure(bands('n', norm, 2, (b) => (b === 1 ? { fractionalBits: 16 } : {})), [{ squaredNorm: 1n }, { squaredNorm: 1n }], 1, /quantization s = 16/);
    expectTensorFailure(bands('n', norm, 2, (b) => (b === 1 ? { job: 'other' } : {})), [{ squaredNorm: 1n }, { squaredNorm: 1n }], 1, /states job "other"/);

    const linf: DriftSpec = { class: 'linf', maxAbs: 1n };
    // Coverage: overlap, a tile outside the matrix, a gap.
    expectTensorFailure(bands('c', linf, 2, (b) => (b === 1 ? { tile: tile(1, 0, 1, 2) } : {})), [{}, {}], 1, /overlap/);
    expectTensorFailure(bands('c', linf, 2, (b) => (b === 1 ? { tile: tile(4, 0, 1, 2) } : {})), [{}, {}], 1, /outside the 4 × 4 matrix view/);
    expectTensorFailure(bands('c', linf, 2, (b) => (b === 1 ? { tile: tile(2, 0, 0, 2) } : {})), [{}, {}], 1, /tiles cover 12 of the 16 entries/);
    // Column tiles of an elementwise class cover the matrix too.
    assert.ok(checkTensors([fab('c', 0, linf, tile(0, 0, 1, 1), [2, 4]), fab('c', 1, linf, tile(0, 2, 1, 1), [2, 4])], [{}, {}]).ok);
    // A padded tile (3 × 3 matrix in one 4 × 4 tile) covers it exactly.
    assert.ok(checkTensors([fab('p', 0, linf, tile(0, 0, 2, 2), [3, 3])], [{}]).ok);
  });
});

describe('forged accumulators', () => {
  it('a stated accumulator other than the fold of the blocks is not what the blocks give', () => {
    // (The verifier compares the stated accumulator with the recomputed one; certificate.test
    // runs this end to end. Here: the all-identity accumulator passes the pairing trivially,
    // so the pairing alone can never be the check.)
    const r = aggregateBlocks(srs, honest);
    assert.ok(r.ok);
    const zero = Array.from({ length: N + 1 }, () => G1.ZERO);
    assert.ok(pairingCheck(srs, zero), 'identity accumulator passes the pairing');
    assert.ok(!zero.every((p, j) => p.equals(r.accumulator[j]!)), 'but it is not the fold');
    const altered = r.accumulator.slice();
    altered[0] = altered[0]!.add(G1.BASE);
    assert.equal(pairingCheck(srs, altered), false);
  });

  it('compensating forgery: two blocks whose pairing errors cancel under γ = 1 are still rejected', () => {
    // Block A (position 0) and block B (position 1) are norm blocks with μ = 5; their first
    // quotient π_1 enters slot 0 with scalar ρ_1 and slot j = N−μ+1 with −1, i.e. the pairing
    // product e(π_1, [ρ_1 − τ_j]_2). Adding D_A = g1 to A's π_1 and D_B = −(ρ^A_1 − τ_j)/(ρ^B_1 − τ_j)·g1
    // to B's makes each block fail while the two errors cancel in A + B. (Computing D_B
    // needs τ: the dev trapdoor is public, which is exactly why dev SRS proofs are forgeable.)
    const tau = devTau(N, 'fti-dev');
    const mu = blockVars(honest[0]!.statement);
    const j = N - mu + 1;
    const tauJ = tau[j - 1]!;
    const rho1 = (b: BlockRecord): bigint => {
      const proof = decodeNormProof(b.proofBytes);
      const c = verifyNormBound(N, b.statement, proof);
      assert.ok(c.valid && c.accumulator !== null);
      const term = c.accumulator.terms.find((t) => t.slot === 0 && t.point.equals(proof.quotients[0]!));
      assert.ok(term !== undefined);
      return term.scalar;
    };
    const rA = rho1(honest[0]!);
    const rB = rho1(honest[1]!);
    const dB = Fr.neg(Fr.mul(Fr.sub(rA, tauJ), Fr.inv(Fr.sub(rB, tauJ))));
    const tamper = (b: BlockRecord, d: G1Point): BlockRecord => {
      const p = decodeNormProof(b.proofBytes);
      const quotients = p.quotients.slice();
      quotients[0] = quotients[0]!.add(d);
      return { statement: b.statement, proofBytes: encodeNormProof({ ...p, quotients }) };
    };
    const A = tamper(honest[0]!, G1.BASE);
    const B = tamper(honest[1]!, G1.BASE.multiply(dB));
    const accA = verifyBlockProof(srs, A.statement, A.proofBytes, 'A');
    const accB = verifyBlockProof(srs, B.statement, B.proofBytes, 'B');
    assert.ok(accA.valid && accB.valid && accA.accumulator && accB.accumulator, 'non-pairing checks pass (quotients are not absorbed before ρ)');
    assert.equal(pairingCheck(srs, accA.accumulator.evaluate()), false, 'A fails alone');
    assert.equal(pairingCheck(srs, accB.accumulator.evaluate()), false, 'B fails alone');
    const naive = new PendingAccumulator(N).absorbScaled(accA.accumulator, 1n).absorbScaled(accB.accumulator, 1n);
    assert.ok(pairingCheck(srs, naive.evaluate()), 'the forgery is real: A + B (γ = 1) passes');

    const blocks = honest.slice();
    blocks[0] = A;
    blocks[1] = B;
    const r = aggregateBlocks(srs, blocks);
    assert.ok(r.ok, 'only the pairing can catch it');
    assert.equal(pairingCheck(srs, r.accumulator), false, 'random γ: the aggregate fails');
    assert.deepEqual(locatePairingFailures(srs, blocks), [0, 1]);
  });
});

describe('verify time: 1 block vs 64 blocks of μ = 6 (printed, not asserted)', () => {
  it('prints the timings', async () => {
    const drift: DriftSpec = { class: 'linf', maxAbs: 1n };
    const t0 = performance.now();
    const many: BlockRecord[] = [];
    for (let b = 0; b < 64; b++) many.push(await normBlock('big', b, [512, 8], tile(8 * b, 0, 3, 3), drift, smallDelta(64, b, 1), b));
    const one = [await normBlock('one', 0, [8, 8], tile(0, 0, 3, 3), drift, smallDelta(64, 0, 1), 0)];
    const proveMs = performance.now() - t0;
    const rows: string[] = [];
    for (const [label, blocks] of [
      ['1 block', one],
      ['64 blocks', many],
    ] as const) {
      const t1 = performance.now();
      const r = aggregateBlocks(srs, blocks, DEFAULT_FAN_IN);
      const t2 = performance.now();
      assert.ok(r.ok && pairingCheck(srs, r.accumulator));
      const t3 = performance.now();
      rows.push(`#   ${label.padEnd(10)} re-check + fold ${(t2 - t1).toFixed(0).padStart(6)} ms   multi-pairing ${(t3 - t2).toFixed(0).padStart(5)} ms   total ${(t3 - t1).toFixed(0).padStart(6)} ms`);
    }
    console.log(`# verify time, linf blocks of μ = 6 (N = ${N}, fan-in ${DEFAULT_FAN_IN}; proving the 65 blocks took ${(proveMs / 1000).toFixed(1)} s):\n${rows.join('\n')}`);
  });
});
