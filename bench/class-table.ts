/** The drift classes the benchmarks exercise, each with a fixture, prover and verifier. */
import type { BlockCheck } from '../smdp/classes/common.ts';
import { decodeNormProof, encodeNormProof, proveNormBound, verifyNormBound } from '../smdp/classes/norm.ts';
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
  fixture(ctx: ProverContext, srs: Srs, mu: number, blockIndex?: number): Promise<BlockFixture>;
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
