/**
 * Known-answer vectors (PROTOCOLS.md §9; ../../shared/PROTOCOLS.md): every
 * `test/vectors/<function>/<case>/data.json` is run through the code (`runVector` of
 * scripts/gen-vectors.ts, which defines what each function's input means) and must give the
 * recorded output: `true` accepted, `false` rejected, `null` bad input (SmdpError), or for
 * `commit` the compressed commitment.
 *
 * Independent checks, using neither smdp/pst.ts nor smdp/msm.ts (nor smdp's decoders):
 * - commit: C = [ṽ(τ_{N−μ+1..N})]_1 with ṽ(τ) evaluated by its definition
 *   Σ_b v_b·Π_i (b_i τ_i + (1−b_i)(1−τ_i)) in plain bigint arithmetic mod r, and again as
 *   noble's `pippenger` over Lagrange points L[b] = [eq(b, τ)]_1 computed here from τ (which
 *   must also equal the SRS points the code builds);
 * - verify_opening: points decoded by noble (`G1.fromBytes`, which checks curve and subgroup),
 *   scalars by a range check, then the verification equation in its naive form
 *   e(C − [y]_1, [1]_2) = Π_i e(π_i, [τ_{N−μ+i}]_2 − [ρ_i]_2), one `bls.pairing` per factor
 *   (not the accumulation form the code uses);
 * - sumcheck: for accepted cases the claim equals Σ_b Π_k f_k(b), summed directly.
 * Also checked: the tree's shape (every function present, names match outputs, each verify
 * function has accepted, rejected and bad-input cases).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pippenger } from '@noble/curves/abstract/curve.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { G1, G2, R, bls, type G1Point, type G2Point } from '../smdp/field.ts';
import { VECTORS_DIR, VECTOR_FUNCTIONS, runVector, srsForTau, type VectorFile, type VectorFunction, type VectorOutput } from '../scripts/gen-vectors.ts';
// Decodes and verifies on the backend FTI_BACKEND selects (see test/backend.ts).
import './backend.ts';

interface LoadedCase {
  readonly name: string;
  readonly file: VectorFile;
}

function loadCases(fn: VectorFunction): LoadedCase[] {
  const dir = join(VECTORS_DIR, fn);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const raw: unknown = JSON.parse(readFileSync(join(dir, name, 'data.json'), 'utf8'));
      assert.ok(typeof raw === 'object' && raw !== null && !Array.isArray(raw), `${fn}/${name}: data.json must be an object`);
      assert.deepEqual(Object.keys(raw).sort(), ['input', 'output'], `${fn}/${name}: data.json has exactly input and output`);
      const { input, output } = raw as { input: unknown; output: unknown };
      assert.ok(typeof input === 'object' && input !== null && !Array.isArray(input), `${fn}/${name}: input must be an object`);
      assert.ok(output === null || typeof output === 'boolean' || typeof output === 'string', `${fn}/${name}: output must be true, false, null or a string`);
      return { name, file: { input: input as Record<string, unknown>, output } };
    });
}

const ALL = new Map<VectorFunction, LoadedCase[]>(VECTOR_FUNCTIONS.map((fn) => [fn, loadCases(fn)]));

// ---------------------------------------------------------------------------------------------
// Independent arithmetic (plain bigints mod r, noble for group operations only)
// ---------------------------------------------------------------------------------------------

const mod = (x: bigint): bigint => ((x % R) + R) % R;

/** eq(b, x) = Π_i (b_i x_i + (1 − b_i)(1 − x_i)), bit i of b ↔ x_i. */
function eqAt(b: number, x: readonly bigint[]): bigint {
  let e = 1n;
  x.forEach((xi, i) => (e = mod(e * ((b >> i) & 1 ? xi : 1n - xi))));
  return e;
}

/** ṽ(x) = Σ_b v_b·eq(b, x), by the definition (O(n·μ), no folding). */
function mleDirect(v: readonly bigint[], x: readonly bigint[]): bigint {
  let acc = 0n;
  v.forEach((vb, b) => (acc = mod(acc + vb * eqAt(b, x))));
  return acc;
}

const g1Mul = (s: bigint): G1Point => (mod(s) === 0n ? G1.ZERO : G1.BASE.multiply(mod(s)));
const g2Mul = (s: bigint): G2Point => (mod(s) === 0n ? G2.ZERO : G2.BASE.multiply(mod(s)));

function tauOf(input: Readonly<Record<string, unknown>>): bigint[] {
  return (input['tau'] as string[]).map((t) => BigInt(t));
}

/** The suffix variables a μ-variate polynomial uses: τ_{N−μ+1}..τ_N. */
const suffix = (tau: readonly bigint[], mu: number): bigint[] => tau.slice(tau.length - mu);

function independentCommit(input: Readonly<Record<string, unknown>>): { direct: string; pippenger: string } | null {
  const tau = tauOf(input);
  const values = (input['values'] as string[]).map((v) => mod(BigInt(v)));
  const mu = Math.log2(values.length);
  assert.ok(Number.isInteger(mu), 'commit vector: length is a power of two');
  if (mu > tau.length) return null; // no basis for more variables than τ has
  const x = suffix(tau, mu);
  const direct = g1Mul(mleDirect(values, x));
  const lagrange = values.map((_, b) => g1Mul(eqAt(b, x)));
  // The code's SRS must hold exactly these basis points (pins the basis convention).
  const srs = srsForTau(input['tau'] as string[]);
  lagrange.forEach((L, b) => assert.ok(L.equals(G1.fromAffine(srs.lagrange[mu]![b]!)), `SRS lagrange[${mu}][${b}] differs from [eq(b, τ)]_1`));
  const viaPippenger = pippenger(G1, lagrange, values);
  return { direct: bytesToHex(direct.toBytes(true)), pippenger: bytesToHex(viaPippenger.toBytes(true)) };
}

/** e(P, Q) with the neutral element for an identity argument (noble refuses those). */
function pair(P: G1Point, Q: G2Point): ReturnType<typeof bls.pairing> {
  return P.is0() || Q.is0() ? bls.fields.Fp12.ONE : bls.pairing(P, Q);
}

/** noble's decoding of a compressed point (canonical form, curve, subgroup), or undefined. */
function nobleG1(hex: string): G1Point | undefined {
  try {
    const b = hexToBytes(hex);
    if (b.length !== 48) return undefined;
    return G1.fromBytes(b);
  } catch {
    return undefined;
  }
}

function plainScalar(hex: string): bigint | undefined {
  if (hex.length !== 64) return undefined;
  const x = BigInt('0x' + hex);
  return x < R ? x : undefined;
}

function independentOpening(input: Readonly<Record<string, unknown>>): VectorOutput {
  const tau = tauOf(input);
  const N = tau.length;
  const C = nobleG1(input['commitment'] as string);
  const point = (input['point'] as string[]).map(plainScalar);
  const y = plainScalar(input['value'] as string);
  const quotients = (input['quotients'] as string[]).map(nobleG1);
  if (C === undefined || y === undefined || point.some((x) => x === undefined) || quotients.some((q) => q === undefined)) return null;
  const rho = point as bigint[];
  const pis = quotients as G1Point[];
  const mu = rho.length;
  if (pis.length !== mu || mu > N) return false;
  // e(C − [y]_1, [1]_2) = Π_i e(π_i, [τ_{N−μ+i}]_2 − [ρ_i]_2)   (i = 1..μ)
  const Fp12 = bls.fields.Fp12;
  const lhs = pair(C.subtract(g1Mul(y)), G2.BASE);
  let rhs = Fp12.ONE;
  for (let i = 0; i < mu; i++) rhs = Fp12.mul(rhs, pair(pis[i]!, g2Mul(tau[N - mu + i]! - rho[i]!)));
  return Fp12.eql(lhs, rhs);
}

function directSumcheckClaim(input: Readonly<Record<string, unknown>>): bigint {
  const tables = (input['tables'] as string[][]).map((t) => t.map((v) => mod(BigInt(v))));
  let s = 0n;
  for (let b = 0; b < tables[0]!.length; b++) s = mod(s + tables.reduce((acc, t) => mod(acc * t[b]!), 1n));
  return s;
}

// ---------------------------------------------------------------------------------------------

describe('vector tree', () => {
  it('has every function, with consistent names and all three outcomes', () => {
    for (const fn of VECTOR_FUNCTIONS) {
      const cases = ALL.get(fn)!;
      assert.ok(cases.length > 0, `test/vectors/${fn} is missing or empty: run npm run vectors`);
      for (const { name, file } of cases) {
        const expected = name.startsWith('correct_') ? true : name.startsWith('incorrect_') ? false : name.startsWith('malformed_') ? null : undefined;
        if (fn === 'commit') {
          assert.ok(typeof file.output === 'string' || (file.output === null && name === 'mu7_exceeds_srs'), `commit/${name}: output`);
        } else {
          assert.notEqual(expected, undefined, `${fn}/${name}: name must start with correct_, incorrect_ or malformed_`);
          assert.equal(file.output, expected, `${fn}/${name}: output does not match the case name`);
        }
      }
      if (fn !== 'commit') {
        for (const o of [true, false, null]) assert.ok(cases.some((c) => c.file.output === o), `${fn}: has no case with output ${String(o)}`);
      }
    }
  });
});

for (const fn of VECTOR_FUNCTIONS) {
  describe(`vectors: ${fn}`, () => {
    for (const { name, file } of ALL.get(fn)!) {
      it(name, async () => {
        const got = await runVector(fn, file.input);
        assert.equal(got, file.output, `${fn}/${name}: the code gives ${String(got)}`);
        if (fn === 'commit') {
          const ind = independentCommit(file.input);
          if (ind === null) {
            assert.equal(file.output, null, 'more variables than the SRS: bad input');
          } else {
            assert.equal(ind.direct, file.output, 'commit = [ṽ(τ)]_1 by direct MLE evaluation');
            assert.equal(ind.pippenger, file.output, 'commit = pippenger over [eq(b, τ)]_1');
          }
        } else if (fn === 'verify_opening') {
          assert.equal(independentOpening(file.input), file.output, 'naive pairing equation with noble decoding');
        } else if (fn === 'sumcheck' && file.output === true) {
          assert.equal(BigInt('0x' + (file.input['claim'] as string)), directSumcheckClaim(file.input), 'claim = Σ_b Π_k f_k(b)');
        }
      });
    }
  });
}
