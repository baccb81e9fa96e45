/** The drift classes the benchmarks exercise, each with a fixture, prover and verifier. */
import type { BlockCheck } from '../smdp/classes/common.ts';
import { commitFactorB, decodeLowRankProof, encodeLowRankProof, factorRankBits, proveLowRank, verifyLowRank } from '../smdp/classes/lowrank.ts';
import { decodeNormProof, encodeNormProof, proveNormBound, verifyNormBound } from '../smdp/classes/norm.ts';
import {
  decodeSparseHiddenProof,
  decodeSparseRevealedProof,
  encodeSparseHiddenProof,
  encodeSparseRevealedProof,
  proveSparseHidden,
  proveSparseRevealed,
  verifySparseHidden,
  verifySparseRevealed,
} from '../smdp/classes/sparse.ts';
import { seededInts } from './harness.ts';
import type { ProverContext } from '../smdp/pst.ts';
import type { Srs } from '../smdp/srs.ts';
import type { BlockStatement } from '../smdp/statement.ts';
import { blockFixture, type BlockFixture } from './classes.ts';

export interface BenchClass {
  readonly name: string;
  /** The class whose verify time is reported as `verify.block_ms.mu*`. */
  readonly headline: string;
  /** Run at large μ in --quick mode too. */
  readonly quick: boolean;
  fixture(ctx: ProverContext, srs: Srs, mu: number, blockIndex?: number): Promise<BlockFixture & { extra?: unknown }>;
  prove(ctx: ProverContext, fx: BlockFixture): Promise<{ statement: BlockStatement; proofBytes: Uint8Array }>;
  verify(srs: Srs, st: BlockStatement, proofBytes: Uint8Array): BlockCheck;
}

const HEADLINE = 'norm';

export const blockClasses: BenchClass[] = [
  {
    name: 'norm',
    headline: HEADLINE,
    quick: true,
    // Δ entries of 10 bits; budget = 2^20 · n (B ≈ 2^10·√n, ℓ ≈ 11 + μ/2 bits)
    fixture: (ctx, srs, mu, bi) => blockFixture(ctx, srs, mu, { class: 'norm', maxSquaredNorm: (1n << 20n) * BigInt(1 << mu) }, 11, `norm/${mu}/${bi ?? 0}`, bi),
    prove: async (ctx, fx) => {
      const { statement, proof } = await proveNormBound(ctx, fx.input, fx.delta);
      return { statement, proofBytes: encodeNormProof(proof) };
    },
    verify: (srs, st, bytes) => verifyNormBound(srs.N, st, decodeNormProof(bytes)),
  },
  {
    name: 'linf',
    headline: HEADLINE,
    quick: false,
    fixture: (ctx, srs, mu, bi) => blockFixture(ctx, srs, mu, { class: 'linf', maxAbs: 1024n }, 11, `linf/${mu}/${bi ?? 0}`, bi),
    prove: async (ctx, fx) => {
      const { statement, proof } = await proveNormBound(ctx, fx.input, fx.delta);
      return { statement, proofBytes: encodeNormProof(proof) };
    },
    verify: (srs, st, bytes) => verifyNormBound(srs.N, st, decodeNormProof(bytes)),
  },
];

/** Keep 1 in 64 entries of Δ (a sparse update). */
async function sparseFixture(ctx: ProverContext, srs: Srs, mu: number, reveal: boolean, bi = 0): Promise<BlockFixture> {
  const k = Math.max(1, (1 << mu) >> 6);
  const fx = await blockFixture(ctx, srs, mu, { class: 'sparse', reveal, maxNonzeros: k }, 11, `sparse/${mu}/${bi}`, bi);
  const delta = fx.delta.map((d, i) => (i % 64 === 7 ? (d === 0n ? 1n : d) : 0n));
  return { input: fx.input, delta };
}

const RANK = 4;
/** λΔ = A·B + E with rank 4 factors of 12 fractional bits each (s = 24 ⇒ λ = 1), |E| ≤ 2^8. */
async function lowRankFixture(ctx: ProverContext, srs: Srs, mu: number, bi = 0): Promise<BlockFixture & { extra: { A: bigint[]; B: bigint[]; cB: import('../smdp/field.ts').G1Point } }> {
  const fx = await blockFixture(ctx, srs, mu, { class: 'lowrank', rank: RANK, factorBitsA: 12, factorBitsB: 12, residual: { kind: 'linf', maxAbs: 256n } }, 8, `lowrank/${mu}/${bi}`, bi);
  const { muRows, muCols } = fx.input.tile;
  const kappa = factorRankBits(RANK);
  const A = Array.from(seededInts(`lowrank/${mu}/A/${bi}`, (1 << muRows) << kappa, 9), (x) => BigInt(x));
  const B = Array.from(seededInts(`lowrank/${mu}/B`, (1 << kappa) << muCols, 9), (x) => BigInt(x));
  const cB = await commitFactorB(ctx, B, kappa, muCols);
  const cols = 1 << muCols;
  const delta = fx.delta.map((e, i) => {
    const row = Math.floor(i / cols);
    const col = i % cols;
    let ab = 0n;
    for (let l = 0; l < 1 << kappa; l++) ab += A[(row << kappa) + l]! * B[(l << muCols) + col]!;
    return ab + e; // residual E = e with |e| < 2^7
  });
  return { input: fx.input, delta, extra: { A, B, cB } };
}

blockClasses.push(
  {
    name: 'sparse-revealed',
    headline: HEADLINE,
    quick: false,
    fixture: (ctx, srs, mu, bi) => sparseFixture(ctx, srs, mu, true, bi),
    prove: async (ctx, fx) => {
      const { statement, proof } = await proveSparseRevealed(ctx, fx.input, fx.delta);
      return { statement, proofBytes: encodeSparseRevealedProof(proof) };
    },
    verify: (srs, st, bytes) => verifySparseRevealed(srs, st, decodeSparseRevealedProof(bytes)),
  },
  {
    name: 'sparse-hidden',
    headline: HEADLINE,
    quick: false,
    fixture: (ctx, srs, mu, bi) => sparseFixture(ctx, srs, mu, false, bi),
    prove: async (ctx, fx) => {
      const { statement, proof } = await proveSparseHidden(ctx, fx.input, fx.delta);
      return { statement, proofBytes: encodeSparseHiddenProof(proof) };
    },
    verify: (srs, st, bytes) => verifySparseHidden(srs.N, st, decodeSparseHiddenProof(bytes)),
  },
  {
    name: 'lowrank',
    headline: HEADLINE,
    quick: false,
    fixture: (ctx, srs, mu, bi) => lowRankFixture(ctx, srs, mu, bi),
    prove: async (ctx, fx) => {
      const f = fx as Awaited<ReturnType<typeof lowRankFixture>>;
      const { statement, proof } = await proveLowRank(ctx, f.input, f.delta, f.extra);
      return { statement, proofBytes: encodeLowRankProof(proof) };
    },
    verify: (srs, st, bytes) => verifyLowRank(srs.N, st, decodeLowRankProof(bytes)),
  },
);
