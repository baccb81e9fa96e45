/**
 * smdp/classes/lowrank.ts (PROTOCOLS.md §5.5): honest tiles verify for every residual kind
 * and both scales λ = 1 and λ = 2^4; the public prover refuses out-of-class updates naming
 * the measured value and the bound; hand-built forgeries (a dense full-rank update with a, b
 * chosen after seeing ρ, a fake Δ(ρ), a non-zero padding row of B, an under-reported S_E),
 * flipped bytes, moved proofs, altered statements and a swapped C_B are rejected — each by
 * the check that exists for it where one can tell.
 *
 * The forgeries are built by `handProve`, an independent re-implementation of the prover's
 * transcript with hooks; a guard test checks it reproduces `proveLowRank` byte for byte, so
 * a forgery that fails does so because of the check under test, not a transcript mismatch.
 * Tiles are tiny (4×8, 8×8) under devSrs(6) — INSECURE, tests only.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pairingCheck } from '../smdp/accumulator.ts';
import { DriftPolicyViolation, SmdpError } from '../smdp/errors.ts';
import { Fr, G1, R, fr, type G1Point } from '../smdp/field.ts';
import { evaluateMle } from '../smdp/mle.ts';
import { testMsm } from './backend.ts';
import { combineVectors, commitSmall, openAt } from '../smdp/pst.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';
import { statementTranscript, type BlockStatement, type ResidualSpec } from '../smdp/statement.ts';
import type { BlockCheck } from '../smdp/classes/common.ts';
import {
  LOWRANK_PROTOCOL,
  LOWRANK_RESIDUAL_LABEL,
  MAX_LOWRANK_QUOTIENTS,
  commitFactorB,
  decodeLowRankProof,
  encodeLowRankProof,
  factorRankBits,
  proveLowRank,
  verifyLowRank,
  type LowRankProof,
} from '../smdp/classes/lowrank.ts';
import { isqrt, type BlockInput } from '../smdp/classes/norm.ts';
import { commitRange, proveRange, type RangeProof } from '../smdp/classes/range.ts';

const N = 6;
const { srs } = devSrs(N);
const ctx = { srs, msm: testMsm };

/** Seeded PRNG (mulberry32): the data are reproducible. */
function rng(seed: number): (lo: number, hi: number) => number {
  let a = seed >>> 0;
  return (lo, hi) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + Math.floor(u * (hi - lo + 1));
  };
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b > a ? q - 1n : q;
}

/** A (rows × K) · B (K × cols), exact integers, row-major. */
function matmul(A: readonly bigint[], B: readonly bigint[], rows: number, K: number, cols: number): bigint[] {
  const out: bigint[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let s = 0n;
      for (let l = 0; l < K; l++) s += A[r * K + l]! * B[l * cols + c]!;
      out.push(s);
    }
  }
  return out;
}

interface Scenario {
  readonly name: string;
  readonly muRows: number;
  readonly muCols: number;
  readonly rank: number;
  /** s_a, s_b, s */
  readonly bits: readonly [number, number, number];
  readonly residual: ResidualSpec;
  readonly A: bigint[];
  readonly B: bigint[];
  readonly delta: bigint[];
  readonly base: number[];
}

/**
 * Integer factors A (2^μt × 2^κ) and B (2^κ × 2^μy, rows ≥ rank zero) with entries
 * `scale`·[−m, m], and Δ from `makeDelta(A·B)`.
 */
function scenario(
  name: string,
  seed: number,
  muRows: number,
  muCols: number,
  rank: number,
  bits: readonly [number, number, number],
  residual: ResidualSpec,
  scale: bigint,
  makeDelta: (ab: bigint, i: number, rand: (lo: number, hi: number) => number) => bigint,
): Scenario {
  const rand = rng(seed);
  const rows = 1 << muRows;
  const cols = 1 << muCols;
  const K = 1 << factorRankBits(rank);
  const A: bigint[] = [];
  for (let r = 0; r < rows; r++) for (let l = 0; l < K; l++) A.push(l < rank ? scale * BigInt(rand(-3, 3)) : 0n);
  const B: bigint[] = [];
  for (let l = 0; l < K; l++) for (let c = 0; c < cols; c++) B.push(l < rank ? scale * BigInt(rand(-3, 3)) : 0n);
  const delta = matmul(A, B, rows, K, cols).map((ab, i) => makeDelta(ab, i, rand));
  const base = Array.from({ length: rows * cols }, () => rand(-1000, 1000));
  return { name, muRows, muCols, rank, bits, residual, A, B, delta, base };
}

// λ = 1 (s_a = s_b = 4, s = 8): Δ = A·B (+ noise); λ = 16 (s_a = s_b = 6): Δ = A·B/16 (+ rounding).
const S_NONE_1 = scenario('none, λ=1, 4×8, rank 2', 1, 2, 3, 2, [4, 4, 8], { kind: 'none' }, 1n, (ab) => ab);
const S_NONE_16 = scenario('none, λ=16, 8×8, rank 3 (one padding row)', 2, 3, 3, 3, [6, 6, 8], { kind: 'none' }, 4n, (ab) => ab / 16n);
const S_LINF_1 = scenario('linf, λ=1, 4×8, rank 2', 3, 2, 3, 2, [4, 4, 8], { kind: 'linf', maxAbs: 3n }, 1n, (ab, _i, rand) => ab + BigInt(rand(-3, 3)));
const S_LINF_16 = scenario('linf, λ=16, 4×8, rank 3', 4, 2, 3, 3, [6, 6, 8], { kind: 'linf', maxAbs: 8n }, 1n, (ab) => floorDiv(ab + 8n, 16n));
const S_L2_16 = scenario('l2, λ=16, 8×8, rank 3', 5, 3, 3, 3, [6, 6, 8], { kind: 'l2', maxSquaredNorm: 4096n }, 1n, (ab) => floorDiv(ab + 8n, 16n));
const S_L2_1 = scenario('l2, λ=1, 4×8, rank 1', 6, 2, 3, 1, [4, 4, 8], { kind: 'l2', maxSquaredNorm: 40n }, 1n, (ab, i) => ab + (i % 5 === 0 ? 1n : 0n));
const HONEST = [S_NONE_1, S_NONE_16, S_LINF_1, S_LINF_16, S_L2_16, S_L2_1];

function inputFor(sc: Scenario, cBase: G1Point, over: Partial<BlockInput> = {}): BlockInput {
  const [factorBitsA, factorBitsB, s] = sc.bits;
  return {
    srsId: srs.id,
    job: 'job-1',
    tensor: 'layers.0.q_proj.weight',
    blockIndex: 0,
    tensorShape: [1 << sc.muRows, 1 << sc.muCols],
    tile: { rowOffset: 0, colOffset: 0, muRows: sc.muRows, muCols: sc.muCols },
    fractionalBits: s,
    drift: { class: 'lowrank', rank: sc.rank, factorBitsA, factorBitsB, residual: sc.residual },
    cBase,
    ...over,
  };
}

interface Proven {
  readonly statement: BlockStatement;
  readonly proof: LowRankProof;
  readonly cB: G1Point;
  readonly bytes: Uint8Array;
  readonly proveMs: number;
}

const proven = new Map<Scenario, Promise<Proven>>();
function prove(sc: Scenario): Promise<Proven> {
  let p = proven.get(sc);
  if (!p) {
    p = (async () => {
      const cBase = await commitSmall(ctx, sc.base);
      const cB = await commitFactorB(ctx, sc.B, factorRankBits(sc.rank), sc.muCols);
      const t0 = performance.now();
      const { statement, proof } = await proveLowRank(ctx, inputFor(sc, cBase), sc.delta, { A: sc.A, B: sc.B, cB });
      const proveMs = performance.now() - t0;
      return { statement, proof, cB, bytes: encodeLowRankProof(proof), proveMs };
    })();
    proven.set(sc, p);
  }
  return p;
}

/** Full verification: non-pairing checks, then the block's pairing accumulator. */
function accepts(st: BlockStatement, proof: LowRankProof, n = N): boolean {
  const chk = verifyLowRank(n, st, proof);
  return chk.valid && chk.accumulator !== null && pairingCheck(srs, chk.accumulator.evaluate());
}

function rejectedWith(chk: BlockCheck, pattern: RegExp): void {
  assert.equal(chk.valid, false, 'expected a rejection');
  if (!chk.valid) assert.match(chk.reason, pattern);
}

/** Bytes → verdict; decoding errors count as rejection but must be SmdpError. */
function acceptsBytes(st: BlockStatement, bytes: Uint8Array): boolean {
  let proof: LowRankProof;
  try {
    proof = decodeLowRankProof(bytes);
  } catch (e) {
    assert.ok(e instanceof SmdpError, `decoder threw a non-SmdpError: ${String(e)}`);
    return false;
  }
  return accepts(st, proof);
}

interface Fabrication {
  readonly rho: readonly bigint[];
  readonly a: readonly bigint[];
  readonly b: readonly bigint[];
  readonly deltaAtPoint: bigint;
  readonly eAtPoint: bigint;
  readonly lambda: bigint;
}

/**
 * The prover's steps by hand (independent of lowrank.ts beyond its labels), with no policy
 * checks, so that out-of-class tiles can be "proven"; `tamper` sees ρ before a, b, Δ(ρ) are
 * absorbed and may replace them — what a forger choosing its messages adaptively can do.
 */
async function handProve(
  st: BlockStatement,
  delta: readonly bigint[],
  A: readonly bigint[],
  B: readonly bigint[],
  cB: G1Point,
  tamper?: (f: Fabrication) => { a: readonly bigint[]; b: readonly bigint[]; deltaAtPoint: bigint },
): Promise<LowRankProof> {
  const d = st.drift;
  assert.equal(d.class, 'lowrank');
  if (d.class !== 'lowrank') throw new Error('unreachable');
  const { muRows, muCols } = st.tile;
  const mu = muRows + muCols;
  const kappa = factorRankBits(d.rank);
  const K = 1 << kappa;
  const rows = 1 << muRows;
  const cols = 1 << muCols;
  const lambda = 1n << BigInt(d.factorBitsA + d.factorBitsB - st.fractionalBits);
  const E = matmul(A, B, rows, K, cols).map((ab, i) => lambda * delta[i]! - ab);
  const cA = await commitSmall(ctx, A.map(Number));
  const t = statementTranscript(LOWRANK_PROTOCOL, st);
  t.absorbG1('lowrank.cB', cB);
  t.absorbG1('lowrank.cA', cA);
  let rho: bigint[];
  let residual: RangeProof | null = null;
  let bitTables: bigint[][] = [];
  let eAtPoint = 0n;
  if (d.residual.kind !== 'none') {
    const BE = d.residual.kind === 'linf' ? d.residual.maxAbs : isqrt(d.residual.maxSquaredNorm);
    const rp = proveRange(t, LOWRANK_RESIDUAL_LABEL, await commitRange(ctx, E, BE), d.residual.kind === 'l2');
    rho = rp.point;
    residual = rp.proof;
    bitTables = rp.bits.map((bv) => Array.from(bv, (x) => (x ? 1n : 0n)));
    eAtPoint = evaluateMle(E.map(fr), rho);
  } else {
    rho = t.challenges('lowrank.rho', mu);
  }
  // a_l = Ã(l, ρx), b_l = B̃(ρy, l) by evaluating the column / row of each factor directly.
  const rhoY = rho.slice(0, muCols);
  const rhoX = rho.slice(muCols);
  let a: readonly bigint[] = Array.from({ length: K }, (_, l) => evaluateMle(Array.from({ length: rows }, (_, r) => fr(A[r * K + l]!)), rhoX));
  let b: readonly bigint[] = Array.from({ length: K }, (_, l) => evaluateMle(B.slice(l * cols, (l + 1) * cols).map(fr), rhoY));
  let deltaAtPoint = evaluateMle(delta.map(fr), rho);
  if (tamper) ({ a, b, deltaAtPoint } = tamper({ rho, a, b, deltaAtPoint, eAtPoint, lambda: fr(lambda) }));
  t.absorbScalars('lowrank.a', a);
  t.absorbScalars('lowrank.b', b);
  t.absorbScalar('lowrank.deltaAtPoint', deltaAtPoint);
  const rhoL = t.challenges('lowrank.rhoL', kappa);
  const eta = t.challenge('lowrank.eta');
  const qd = await openAt(ctx, combineVectors([delta.map(fr), ...bitTables], eta), rho);
  const qa = await openAt(ctx, A.map(fr), [...rhoL, ...rhoX]);
  const qb = await openAt(ctx, B.map(fr), [...rhoY, ...rhoL]);
  return { cB, cA, residual, a, b, deltaAtPoint, quotientsDelta: qd.quotients, quotientsA: qa.quotients, quotientsB: qb.quotients };
}

/** The statement an honest prover would output for Δ (C_ft = C_base + C(Δ)), built by hand. */
async function statementFor(sc: Scenario, delta: readonly bigint[], over: Partial<BlockInput> = {}): Promise<BlockStatement> {
  const cBase = await commitSmall(ctx, sc.base);
  const cFt = await commitSmall(ctx, sc.base.map((x, i) => x + Number(delta[i]!)));
  return { ...inputFor(sc, cBase, over), cFt };
}

/** A dense update on the tile of `sc`: full rank w.h.p. */
function denseDelta(sc: Scenario, seed: number, m = 50): bigint[] {
  const rand = rng(seed);
  return sc.delta.map(() => BigInt(rand(-m, m)));
}

describe('lowrank: honest tiles', () => {
  for (const sc of HONEST) {
    it(`${sc.name}: verifies, pairing included; C_ft = C(base + Δ); summary names C_B`, async (t) => {
      const p = await prove(sc);
      const decoded = decodeLowRankProof(p.bytes);
      assert.deepEqual(encodeLowRankProof(decoded), p.bytes, 'encode ∘ decode is the identity');
      let t0 = performance.now();
      const chk = verifyLowRank(N, p.statement, decoded);
      const verifyMs = performance.now() - t0;
      assert.ok(chk.valid, chk.valid ? '' : chk.reason);
      assert.ok(chk.accumulator);
      t0 = performance.now();
      assert.equal(pairingCheck(srs, chk.accumulator.evaluate()), true);
      const pairMs = performance.now() - t0;
      assert.ok(chk.summary.factorCommitment?.equals(p.cB));
      const expectedFt = await commitSmall(ctx, sc.base.map((x, i) => x + Number(sc.delta[i]!)));
      assert.ok(p.statement.cFt.equals(expectedFt), 'C_ft = C_base + C_Δ');
      const lambda = 1n << BigInt(sc.bits[0] + sc.bits[1] - sc.bits[2]);
      const rows = 1 << sc.muRows;
      const E = matmul(sc.A, sc.B, rows, 1 << factorRankBits(sc.rank), 1 << sc.muCols).map((ab, i) => lambda * sc.delta[i]! - ab);
      if (sc.residual.kind === 'l2') assert.equal(chk.summary.squaredNorm, E.reduce((s, e) => s + e * e, 0n));
      else assert.equal(chk.summary.squaredNorm, undefined);
      if (sc.residual.kind === 'none') assert.ok(E.every((e) => e === 0n), 'scenario is exactly low rank');
      const line = `${sc.name}: prove ${p.proveMs.toFixed(0)} ms, verify ${verifyMs.toFixed(0)} ms + pairing ${pairMs.toFixed(0)} ms, ${p.bytes.length} B`;
      t.diagnostic(line);
    });
  }

  it('hand-built transcript reproduces proveLowRank byte for byte (guards the forgery tests)', async () => {
    for (const sc of [S_NONE_16, S_LINF_1, S_L2_16]) {
      const p = await prove(sc);
      const hand = await handProve(p.statement, sc.delta, sc.A, sc.B, p.cB);
      assert.deepEqual(encodeLowRankProof(hand), p.bytes, sc.name);
    }
  });

  it('two tiles of one tensor cite one C_B; a tile proven with another B cites another (aggregator check)', async () => {
    const p = await prove(S_LINF_1);
    const chk0 = verifyLowRank(N, p.statement, p.proof);
    // Tile 1: the next row band of the same tensor, same B.
    const rand = rng(77);
    const A1 = S_LINF_1.A.map(() => BigInt(rand(-3, 3)));
    const delta1 = matmul(A1, S_LINF_1.B, 4, 2, 8);
    const cBase = await commitSmall(ctx, S_LINF_1.base);
    const tile1 = { rowOffset: 4, colOffset: 0, muRows: 2, muCols: 3 };
    const q1 = await proveLowRank(ctx, inputFor(S_LINF_1, cBase, { blockIndex: 1, tensorShape: [8, 8], tile: tile1 }), delta1, { A: A1, B: S_LINF_1.B, cB: p.cB });
    const chk1 = verifyLowRank(N, q1.statement, q1.proof);
    assert.ok(chk0.valid && chk1.valid);
    assert.ok(chk0.summary.factorCommitment?.equals(chk1.summary.factorCommitment!));
    // The same tile proven with a different B (other columns factor) is valid on its own but
    // cites a different C_B, which the aggregator's equality check rejects.
    const B2 = S_LINF_1.B.map((x) => -x);
    const A2 = A1.map((x) => -x);
    const cB2 = await commitFactorB(ctx, B2, 1, 3);
    const q2 = await proveLowRank(ctx, inputFor(S_LINF_1, cBase, { blockIndex: 1, tensorShape: [8, 8], tile: tile1 }), delta1, { A: A2, B: B2, cB: cB2 });
    const chk2 = verifyLowRank(N, q2.statement, q2.proof);
    assert.ok(chk2.valid && chk2.accumulator && pairingCheck(srs, chk2.accumulator.evaluate()));
    assert.equal(chk2.summary.factorCommitment?.equals(chk0.summary.factorCommitment!), false);
  });

  it('property: the MLE of a matrix product is Σ_l Ã(l, ρx)·B̃(ρy, l) (fast-check)', () => {
    const small = fc.integer({ min: -1000, max: 1000 });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 2 }),
        fc.array(small, { minLength: 64, maxLength: 64 }),
        fc.array(small, { minLength: 64, maxLength: 64 }),
        fc.array(fc.bigInt({ min: 0n, max: R - 1n }), { minLength: 4, maxLength: 4 }),
        (mt, kp, my, as, bs, pt) => {
          const rows = 1 << mt;
          const K = 1 << kp;
          const cols = 1 << my;
          const A = as.slice(0, rows * K).map(BigInt);
          const B = bs.slice(0, K * cols).map(BigInt);
          const rhoY = pt.slice(0, my);
          const rhoX = pt.slice(my, my + mt);
          const lhs = evaluateMle(matmul(A, B, rows, K, cols).map(fr), [...rhoY, ...rhoX]);
          let rhs = 0n;
          for (let l = 0; l < K; l++) {
            const al = evaluateMle(Array.from({ length: rows }, (_, r) => fr(A[r * K + l]!)), rhoX);
            const bl = evaluateMle(B.slice(l * cols, (l + 1) * cols).map(fr), rhoY);
            rhs = Fr.add(rhs, Fr.mul(al, bl));
          }
          return lhs === rhs;
        },
      ),
      { numRuns: 60, seed: 20240601 },
    );
  });

  it('property: random exactly-low-rank tiles with linf noise verify (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (rank, seed) => {
        const sc = scenario('prop', seed, 2, 3, rank, [4, 4, 8], { kind: 'linf', maxAbs: 2n }, 1n, (ab, _i, rand) => ab + BigInt(rand(-2, 2)));
        const cBase = await commitSmall(ctx, sc.base);
        const cB = await commitFactorB(ctx, sc.B, factorRankBits(rank), 3);
        const { statement, proof } = await proveLowRank(ctx, inputFor(sc, cBase), sc.delta, { A: sc.A, B: sc.B, cB });
        return accepts(statement, decodeLowRankProof(encodeLowRankProof(proof)));
      }),
      { numRuns: 4, seed: 7 },
    );
  });
});

describe('lowrank: the prover refuses out-of-class tiles', () => {
  async function refusal(sc: Scenario, delta: readonly bigint[], B = sc.B, over: Partial<BlockInput> = {}): Promise<DriftPolicyViolation> {
    const cBase = await commitSmall(ctx, sc.base);
    const cB = await commitFactorB(ctx, B, factorRankBits(sc.rank), sc.muCols);
    try {
      await proveLowRank(ctx, inputFor(sc, cBase, over), delta, { A: sc.A, B, cB });
    } catch (e) {
      assert.ok(e instanceof DriftPolicyViolation, `expected DriftPolicyViolation, got ${String(e)}`);
      return e;
    }
    return assert.fail('the prover produced a proof for an out-of-class tile');
  }

  it('a dense full-rank Δ claimed exactly low rank (residual none)', async () => {
    const v = await refusal(S_NONE_1, denseDelta(S_NONE_1, 11));
    assert.equal(v.check, 'lowrank.residual');
    assert.match(v.measured, /^\d+ non-zero residual entries, max \|E\| = \d+$/);
    assert.match(v.bound, /^0 /);
    assert.ok(v.message.includes(v.measured) && v.message.includes(v.bound));
  });

  it('a dense full-rank Δ with a residual above the linf bound', async () => {
    const delta = denseDelta(S_LINF_1, 12);
    const v = await refusal(S_LINF_1, delta);
    assert.equal(v.check, 'lowrank.residual');
    const E = matmul(S_LINF_1.A, S_LINF_1.B, 4, 2, 8).map((ab, i) => delta[i]! - ab);
    const maxE = E.reduce((m, e) => (e < 0n ? -e : e) > m ? (e < 0n ? -e : e) : m, 0n);
    assert.match(v.measured, new RegExp(`^max \\|E\\| = ${maxE} at index \\d+$`));
    assert.equal(v.bound, '3');
    assert.ok(v.message.includes(v.measured) && v.message.includes('bound 3'));
  });

  it('a dense full-rank Δ with a residual above the l2 budget', async () => {
    const delta = denseDelta(S_L2_16, 13, 5);
    const v = await refusal(S_L2_16, delta);
    assert.equal(v.check, 'lowrank.residual');
    const E = matmul(S_L2_16.A, S_L2_16.B, 8, 4, 8).map((ab, i) => 16n * delta[i]! - ab);
    assert.equal(v.measured, `Σ E² = ${E.reduce((s, e) => s + e * e, 0n)}`);
    assert.equal(v.bound, '4096');
  });

  it('B with a non-zero padding row (rank 3 claimed, 4 rows used)', async () => {
    const B = S_NONE_16.B.slice();
    for (let c = 0; c < 8; c++) B[3 * 8 + c] = BigInt(c + 1);
    const v = await refusal(S_NONE_16, S_NONE_16.delta, B);
    assert.equal(v.check, 'lowrank.rank');
    assert.match(v.measured, /4 non-zero rows of B \(padding rows 3/);
    assert.equal(v.bound, 'rank 3');
  });

  it('an l2 bound too large for exact arithmetic in Fr', async () => {
    const v = await refusal(S_L2_1, S_L2_1.delta, S_L2_1.B, { drift: { class: 'lowrank', rank: 1, factorBitsA: 4, factorBitsB: 4, residual: { kind: 'l2', maxSquaredNorm: 1n << 250n } } });
    assert.equal(v.check, 'lowrank.field');
  });

  it('malformed statements or arguments: a plain Error, not a policy violation', async () => {
    const sc = S_NONE_1;
    const cBase = await commitSmall(ctx, sc.base);
    const cB = await commitFactorB(ctx, sc.B, 1, 3);
    const f = { A: sc.A, B: sc.B, cB };
    const bad: [Partial<BlockInput>, RegExp][] = [
      [{ drift: { class: 'lowrank', rank: 2, factorBitsA: 3, factorBitsB: 4, residual: { kind: 'none' } } }, /s_a \+ s_b = 7 are below s = 8/],
      [{ tile: { rowOffset: 0, colOffset: 8, muRows: 2, muCols: 3 } }, /colOffset/],
      [{ drift: { class: 'linf', maxAbs: 3n } }, /expected a lowrank statement/],
    ];
    for (const [over, msg] of bad) {
      await assert.rejects(proveLowRank(ctx, inputFor(sc, cBase, over), sc.delta, f), (e: unknown) => e instanceof Error && !(e instanceof DriftPolicyViolation) && msg.test(e.message));
    }
    await assert.rejects(proveLowRank(ctx, inputFor(sc, cBase), sc.delta.slice(1), f), /entries of Δ/);
    await assert.rejects(proveLowRank(ctx, inputFor(sc, cBase), sc.delta, { ...f, A: sc.A.slice(1) }), /expected A/);
    await assert.rejects(proveLowRank(ctx, inputFor(sc, cBase), sc.delta, { ...f, B: sc.B.slice(1) }), /expected B/);
    await assert.rejects(commitFactorB(ctx, sc.B, 2, 3), /expected 2\^5 entries/);
  });
});

describe('lowrank: forgeries are rejected', () => {
  it('dense full-rank update, a and b fabricated after seeing ρ to satisfy λΔ(ρ) = ⟨a,b⟩: openings at ρl catch it', async () => {
    for (const [sc, seed] of [[S_NONE_1, 21], [S_NONE_16, 22]] as const) {
      const delta = denseDelta(sc, seed);
      const st = await statementFor(sc, delta);
      const p = await prove(sc);
      // (1) Keep a, solve for b_0.  (2) Random a, solve for b_0.  (3) Keep b, solve for a_0.
      const fabrications: ((f: Fabrication) => { a: readonly bigint[]; b: readonly bigint[]; deltaAtPoint: bigint })[] = [
        (f) => {
          const target = Fr.sub(Fr.mul(f.lambda, f.deltaAtPoint), f.eAtPoint);
          let rest = 0n;
          for (let l = 1; l < f.a.length; l++) rest = Fr.add(rest, Fr.mul(f.a[l]!, f.b[l]!));
          const b = f.b.slice();
          b[0] = Fr.mul(Fr.sub(target, rest), Fr.inv(f.a[0]!));
          return { a: f.a, b, deltaAtPoint: f.deltaAtPoint };
        },
        (f) => {
          const a = f.a.map((_, l) => fr(BigInt(1000 + l)));
          const target = Fr.mul(f.lambda, f.deltaAtPoint);
          let rest = 0n;
          for (let l = 1; l < a.length; l++) rest = Fr.add(rest, Fr.mul(a[l]!, f.b[l]!));
          const b = f.b.slice();
          b[0] = Fr.mul(Fr.sub(target, rest), Fr.inv(a[0]!));
          return { a, b, deltaAtPoint: f.deltaAtPoint };
        },
        (f) => {
          const target = Fr.mul(f.lambda, f.deltaAtPoint);
          let rest = 0n;
          for (let l = 1; l < f.a.length; l++) rest = Fr.add(rest, Fr.mul(f.a[l]!, f.b[l]!));
          const a = f.a.slice();
          a[0] = Fr.mul(Fr.sub(target, rest), Fr.inv(f.b[0]!));
          return { a, b: f.b, deltaAtPoint: f.deltaAtPoint };
        },
      ];
      for (const fab of fabrications) {
        const forged = await handProve(st, delta, sc.A, sc.B, p.cB, fab);
        const chk = verifyLowRank(N, st, decodeLowRankProof(encodeLowRankProof(forged)));
        // The product identity is satisfied by construction (non-pairing checks pass) …
        assert.ok(chk.valid, chk.valid ? '' : `forgery should pass the non-pairing checks: ${chk.reason}`);
        // … and the openings of C_A / C_B at ρl reject it.
        assert.equal(pairingCheck(srs, chk.accumulator!.evaluate()), false, sc.name);
      }
    }
  });

  it('dense update with honest a, b: the product identity rejects', async () => {
    const sc = S_LINF_1;
    const delta = denseDelta(sc, 23, 3);
    const st = await statementFor(sc, delta, { drift: { class: 'lowrank', rank: 2, factorBitsA: 4, factorBitsB: 4, residual: { kind: 'none' } } });
    const p = await prove(sc);
    rejectedWith(verifyLowRank(N, st, await handProve(st, delta, sc.A, sc.B, p.cB)), /product identity/);
  });

  it('a fake Δ(ρ) that satisfies the identity: the batched opening of C_Δ at ρ rejects', async () => {
    const sc = S_LINF_1;
    const delta = denseDelta(sc, 24);
    const st = await statementFor(sc, delta, { drift: { class: 'lowrank', rank: 2, factorBitsA: 4, factorBitsB: 4, residual: { kind: 'none' } } });
    const p = await prove(sc);
    const forged = await handProve(st, delta, sc.A, sc.B, p.cB, (f) => {
      let inner = 0n;
      for (let l = 0; l < f.a.length; l++) inner = Fr.add(inner, Fr.mul(f.a[l]!, f.b[l]!));
      return { a: f.a, b: f.b, deltaAtPoint: inner };
    });
    const chk = verifyLowRank(N, st, forged);
    assert.ok(chk.valid, chk.valid ? '' : chk.reason);
    assert.equal(pairingCheck(srs, chk.accumulator!.evaluate()), false);
  });

  it('a fake residual evaluation: E(ρ) altered through β_j(ρ) is caught (sumcheck or opening)', async () => {
    const p = await prove(S_LINF_1);
    const r = p.proof.residual!;
    const bitEvals = r.bitEvals.slice();
    bitEvals[0] = Fr.add(bitEvals[0]!, 1n);
    const chk = verifyLowRank(N, p.statement, { ...p.proof, residual: { ...r, bitEvals } });
    assert.ok(!chk.valid || !pairingCheck(srs, chk.accumulator!.evaluate()));
  });

  it('a non-zero padding row of B (rank 3 claimed, B has 4 non-zero rows): the b_l = 0 check rejects', async () => {
    const sc = S_NONE_16;
    const B = sc.B.slice();
    for (let c = 0; c < 8; c++) B[3 * 8 + c] = 4n * BigInt((c % 3) - 1);
    const A = sc.A.map((x, i) => (i % 4 === 3 ? 4n * BigInt((i % 5) - 2) : x));
    const delta = matmul(A, B, 8, 4, 8).map((x) => x / 16n);
    const cB = await commitFactorB(ctx, B, 2, 3);
    const st = await statementFor(sc, delta);
    const forged = await handProve(st, delta, A, B, cB);
    rejectedWith(verifyLowRank(N, st, decodeLowRankProof(encodeLowRankProof(forged))), /padding row 3 ≥ rank 3/);
    // Control: the same tile is a valid rank-4 tile — only the padding check stood in the way.
    const st4 = await statementFor(sc, delta, { drift: { class: 'lowrank', rank: 4, factorBitsA: 6, factorBitsB: 6, residual: { kind: 'none' } } });
    assert.ok(accepts(st4, await handProve(st4, delta, A, B, cB)));
  });

  it('an l2 residual above the budget, proven by hand: the S_E ≤ bound check rejects; an under-reported S_E fails the sumcheck', async () => {
    const sc = S_L2_1; // bound 40 → B_E = 6
    const delta = matmul(sc.A, sc.B, 4, 1, 8).map((x, i) => x + (i % 2 === 0 ? 2n : 0n)); // 16 entries of E = 2: Σ E² = 64 > 40
    const st = await statementFor(sc, delta);
    const p = await prove(sc);
    const forged = await handProve(st, delta, sc.A, sc.B, p.cB);
    assert.equal(forged.residual?.squaredNorm, 64n);
    rejectedWith(verifyLowRank(N, st, forged), /squared norm 64 exceeds the bound 40/);
    assert.ok(forged.residual);
    const under = { ...forged, residual: { ...forged.residual, squaredNorm: 40n } };
    rejectedWith(verifyLowRank(N, st, under), /lowrank\.residual/);
  });

  it('flipped bytes anywhere: never accepted; the decoder throws only SmdpError', async () => {
    for (const sc of [S_NONE_1, S_LINF_1, S_L2_16]) {
      const p = await prove(sc);
      const positions = new Set<number>([0, 48, p.bytes.length - 1]);
      const stride = Math.max(1, Math.floor(p.bytes.length / 30));
      for (let i = 3; i < p.bytes.length; i += stride) positions.add(i);
      for (const i of positions) {
        for (const mask of i === 0 || i === 48 ? [0x20, 0x01] : [1 << (i % 8)]) {
          const bytes = p.bytes.slice();
          bytes[i] = bytes[i]! ^ mask;
          assert.equal(acceptsBytes(p.statement, bytes), false, `${sc.name}: byte ${i} ^ ${mask}`);
        }
      }
      // Truncations and a trailing byte are bad input with stable codes.
      for (const cut of [0, 1, 47, 97, p.bytes.length - 1]) {
        assert.throws(() => decodeLowRankProof(p.bytes.subarray(0, cut)), (e: unknown) => e instanceof SmdpError && e.code === 'TRUNCATED');
      }
      const longer = new Uint8Array(p.bytes.length + 1);
      longer.set(p.bytes);
      assert.throws(() => decodeLowRankProof(longer), (e: unknown) => e instanceof SmdpError && e.code === 'TRAILING_BYTES');
    }
  });

  it('decoder caps and flags: residual flag ∉ {0,1}, huge counts', async () => {
    const p = await prove(S_NONE_1);
    const flag = p.bytes.slice();
    flag[96] = 2;
    assert.throws(() => decodeLowRankProof(flag), (e: unknown) => e instanceof SmdpError && e.code === 'BAD_VALUE');
    const huge = p.bytes.slice();
    huge.set([0xff, 0xff, 0xff, 0xff], 97); // count of a
    assert.throws(() => decodeLowRankProof(huge), (e: unknown) => e instanceof SmdpError && e.code === 'LIMIT_EXCEEDED');
    const many = encodeLowRankProof({ ...p.proof, quotientsA: Array.from({ length: MAX_LOWRANK_QUOTIENTS + 1 }, () => G1.BASE) });
    assert.throws(() => decodeLowRankProof(many), (e: unknown) => e instanceof SmdpError && e.code === 'LIMIT_EXCEEDED');
  });

  it('proof moved to another block, tensor or job', async () => {
    const p = await prove(S_LINF_1);
    for (const over of [{ blockIndex: 1 }, { job: 'job-2' }, { tensor: 'layers.1.q_proj.weight' }, { srsId: '00'.repeat(32) }]) {
      assert.equal(accepts({ ...p.statement, ...over }, p.proof), false, JSON.stringify(over));
    }
    // A proof of one tile presented as another tile's (other statement, other C_ft).
    const q = await prove(S_NONE_1);
    assert.equal(accepts(q.statement, p.proof), false);
    assert.equal(accepts(p.statement, q.proof), false);
  });

  it('altered statements: rank, residual kind and bound, factor bits, s, C_ft, C_base, tile', async () => {
    const cases: [Scenario, (st: BlockStatement) => BlockStatement, RegExp | null][] = [];
    const lr = (st: BlockStatement) => {
      if (st.drift.class !== 'lowrank') throw new Error('not lowrank');
      return st.drift;
    };
    const withDrift = (st: BlockStatement, over: object): BlockStatement => ({ ...st, drift: { ...lr(st), ...over } });
    cases.push([S_NONE_1, (st) => withDrift(st, { rank: 1 }), /expected 1 values/]);
    cases.push([S_NONE_1, (st) => withDrift(st, { rank: 3 }), /expected 4 values/]);
    cases.push([S_NONE_16, (st) => withDrift(st, { rank: 4 }), null]); // same κ: fresh transcript
    cases.push([S_NONE_16, (st) => withDrift(st, { rank: 2 }), /expected 2 values/]);
    cases.push([S_NONE_1, (st) => withDrift(st, { residual: { kind: 'linf', maxAbs: 3n } }), /residual proof missing/]);
    cases.push([S_LINF_1, (st) => withDrift(st, { residual: { kind: 'none' } }), /residual proof unexpected/]);
    cases.push([S_LINF_1, (st) => withDrift(st, { residual: { kind: 'linf', maxAbs: 2n } }), null]);
    cases.push([S_LINF_1, (st) => withDrift(st, { residual: { kind: 'linf', maxAbs: 4n } }), null]);
    cases.push([S_LINF_1, (st) => withDrift(st, { residual: { kind: 'l2', maxSquaredNorm: 9n } }), null]);
    cases.push([S_L2_16, (st) => withDrift(st, { residual: { kind: 'l2', maxSquaredNorm: 4095n } }), null]);
    cases.push([S_L2_16, (st) => withDrift(st, { residual: { kind: 'l2', maxSquaredNorm: 1_000_000n } }), null]);
    cases.push([S_NONE_1, (st) => withDrift(st, { factorBitsA: 5 }), null]); // λ = 2: fresh transcript
    cases.push([S_NONE_16, (st) => withDrift(st, { factorBitsB: 5, factorBitsA: 7 }), null]); // same λ, other statement
    cases.push([S_NONE_1, (st) => withDrift(st, { factorBitsA: 3 }), /below s/]);
    cases.push([S_NONE_1, (st) => ({ ...st, fractionalBits: 9 }), /below s/]);
    cases.push([S_NONE_16, (st) => ({ ...st, fractionalBits: 7 }), null]);
    cases.push([S_NONE_1, (st) => ({ ...st, cFt: st.cFt.add(G1.BASE) }), null]);
    cases.push([S_LINF_16, (st) => ({ ...st, cBase: st.cBase.add(G1.BASE) }), null]);
    cases.push([S_NONE_1, (st) => ({ ...st, tile: { ...st.tile, colOffset: 8 } }), /colOffset/]);
    cases.push([S_NONE_1, (st) => ({ ...st, tile: { ...st.tile, rowOffset: 4 } }), null]);
    cases.push([S_NONE_1, (st) => ({ ...st, drift: { class: 'linf', maxAbs: 3n } }), /statement class is linf/]);
    for (const [sc, alter, reason] of cases) {
      const p = await prove(sc);
      const st = alter(p.statement);
      const chk = verifyLowRank(N, st, p.proof);
      if (reason) rejectedWith(chk, reason);
      else assert.equal(chk.valid && pairingCheck(srs, chk.accumulator!.evaluate()), false, `${sc.name}: ${JSON.stringify(st.drift, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    }
  });

  it('a tile citing a different C_B than the one it was proven with', async () => {
    for (const sc of [S_NONE_1, S_LINF_1]) {
      const p = await prove(sc);
      const other = await commitFactorB(ctx, sc.B.map((x, i) => x + BigInt(i % 2)), 1, 3);
      assert.equal(accepts(p.statement, { ...p.proof, cB: other }), false);
      assert.equal(accepts(p.statement, { ...p.proof, cB: p.cB.negate() }), false);
    }
  });

  it('each structural check rejects: SRS too small, quotient counts, a/b lengths, scalars ≥ r', async () => {
    const p = await prove(S_NONE_16);
    rejectedWith(verifyLowRank(5, p.statement, p.proof), /exceeds the SRS size 5/);
    rejectedWith(verifyLowRank(N, p.statement, { ...p.proof, quotientsA: p.proof.quotientsA.slice(1) }), /opening quotients/);
    rejectedWith(verifyLowRank(N, p.statement, { ...p.proof, quotientsB: [...p.proof.quotientsB, G1.BASE] }), /opening quotients/);
    rejectedWith(verifyLowRank(N, p.statement, { ...p.proof, quotientsDelta: p.proof.quotientsDelta.slice(1) }), /opening quotients/);
    rejectedWith(verifyLowRank(N, p.statement, { ...p.proof, a: p.proof.a.slice(1) }), /expected 4 values/);
    rejectedWith(verifyLowRank(N, p.statement, { ...p.proof, b: [...p.proof.b, 0n] }), /expected 4 values/);
    rejectedWith(verifyLowRank(N, p.statement, { ...p.proof, a: [R, ...p.proof.a.slice(1)] }), /not a field element/);
    rejectedWith(verifyLowRank(N, p.statement, { ...p.proof, deltaAtPoint: -1n }), /not a field element/);
    // Each quotient is checked: a swapped quotient of any opening fails the pairing.
    for (const key of ['quotientsDelta', 'quotientsA', 'quotientsB'] as const) {
      const qs = p.proof[key].slice();
      qs[0] = qs[0]!.add(G1.BASE);
      const chk = verifyLowRank(N, p.statement, { ...p.proof, [key]: qs });
      assert.ok(chk.valid);
      assert.equal(pairingCheck(srs, chk.accumulator!.evaluate()), false, key);
    }
  });
});
