/**
 * INSECURE — development SRS. NEVER use for real certificates.
 *
 * τ is derived from a PUBLIC seed (τ_j = SHA-256("FTI-DEV-SRS-INSECURE-V1" ‖ seed ‖ j), 64
 * bytes wide, mod r), so anyone who knows the seed knows the trapdoor and can open any
 * commitment to any value: every proof under a dev SRS is forgeable. It exists for tests,
 * benchmarks and the demo only. Certificates record the SRS kind (`dev`) and the CLI warns.
 * Production uses a ceremony SRS file checked against its published digest (`srs.ts`).
 * (Quarantined in its own file after go-kzg-4844's `srs_insecure.go`.)
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { bytesToBigint } from './encoding.ts';
import { Fp, G1, G2, R, g1BatchAffine, type G1Affine, type G1Point } from './field.ts';
import { eqTable } from './mle.ts';
import { assembleSrs, type Srs } from './srs.ts';

const enc = new TextEncoder();

/** The INSECURE trapdoor for a dev seed (public by construction). */
export function devTau(N: number, seed: string): bigint[] {
  const tau: bigint[] = [];
  for (let j = 1; j <= N; j++) {
    const h = (c: number): Uint8Array => sha256(enc.encode(`FTI-DEV-SRS-INSECURE-V1/${seed}/${j}/${c}`));
    tau.push(bytesToBigint(concatBytes(h(0), h(1))) % R);
  }
  return tau;
}

/** INSECURE: a dev SRS for N variables from a public seed. Returns the SRS and its file bytes. */
export function devSrs(N: number, seed = 'fti-dev'): { srs: Srs; bytes: Uint8Array } {
  return srsFromTau(devTau(N, seed), 'dev', `dev:${seed}`);
}

/** INSECURE: an SRS from an explicit trapdoor (tests with public τ, e.g. shared vectors). */
export function srsFromTau(tau: readonly bigint[], kind: 'dev' | 'ceremony' = 'dev', label = 'explicit-tau'): { srs: Srs; bytes: Uint8Array } {
  const N = tau.length;
  const scalars: bigint[] = [];
  const offsets: number[] = [];
  for (let m = 0; m <= N; m++) {
    offsets.push(scalars.length);
    // Basis over the last m variables τ_{N−m+1}..τ_N, index bit 0 ↔ τ_{N−m+1}.
    for (const e of eqTable(tau.slice(N - m))) scalars.push(e);
  }
  const points = fixedBaseBatch(scalars);
  const lagrange: G1Affine[][] = [];
  for (let m = 0; m <= N; m++) lagrange.push(points.slice(offsets[m], offsets[m]! + 2 ** m));
  const g2Tau = tau.map((t) => G2.BASE.multiply(t));
  return assembleSrs({ N, kind, label, g2One: G2.BASE, g2Tau, lagrange });
}

/**
 * [e]_1 for many scalars e: a comb over 8-bit windows of g (32 tables of 255 affine points)
 * and batch-affine accumulation (one field inversion per window for all scalars).
 */
function fixedBaseBatch(scalars: readonly bigint[]): G1Affine[] {
  const W = 8;
  const windows = Math.ceil(255 / W);
  const tables: G1Affine[][] = [];
  let base = G1.BASE;
  for (let k = 0; k < windows; k++) {
    const row: G1Point[] = [];
    let acc = base;
    for (let d = 1; d < 1 << W; d++) {
      row.push(acc);
      acc = acc.add(base);
    }
    tables.push(g1BatchAffine(row));
    base = acc; // 2^W · base
  }
  const n = scalars.length;
  const accX = new Array<bigint>(n).fill(0n);
  const accY = new Array<bigint>(n).fill(0n);
  const accSet = new Uint8Array(n);
  const slow: (G1Point | undefined)[] = new Array<G1Point | undefined>(n);
  for (let k = 0; k < windows; k++) {
    const shift = BigInt(k * W);
    const idx: number[] = [];
    const dens: bigint[] = [];
    for (let i = 0; i < n; i++) {
      const d = Number((scalars[i]! >> shift) & 0xffn);
      if (d === 0) continue;
      const t = tables[k]![d - 1]!;
      if (slow[i] !== undefined) {
        slow[i] = slow[i]!.add(G1.fromAffine(t));
      } else if (!accSet[i]) {
        accX[i] = t.x;
        accY[i] = t.y;
        accSet[i] = 1;
      } else if (accX[i] === t.x) {
        // Doubling or cancellation: vanishingly rare for random τ; finish projectively.
        slow[i] = G1.fromAffine({ x: accX[i]!, y: accY[i]! }).add(G1.fromAffine(t));
      } else {
        idx.push(i);
        dens.push(Fp.sub(t.x, accX[i]!));
      }
    }
    const inv = Fp.invertBatch(dens);
    for (let j = 0; j < idx.length; j++) {
      const i = idx[j]!;
      const d = Number((scalars[i]! >> shift) & 0xffn);
      const t = tables[k]![d - 1]!;
      const lambda = Fp.mul(Fp.sub(t.y, accY[i]!), inv[j]!);
      const x3 = Fp.sub(Fp.sub(Fp.sqr(lambda), accX[i]!), t.x);
      accY[i] = Fp.sub(Fp.mul(lambda, Fp.sub(accX[i]!, x3)), accY[i]!);
      accX[i] = x3;
    }
  }
  const out: G1Affine[] = new Array<G1Affine>(n);
  const slowIdx: number[] = [];
  for (let i = 0; i < n; i++) {
    if (slow[i] !== undefined) slowIdx.push(i);
    else if (!accSet[i]) throw new Error('devSrs: a basis scalar is zero (probability 2^-254): pick another seed');
    else out[i] = { x: accX[i]!, y: accY[i]! };
  }
  const fixed = g1BatchAffine(slowIdx.map((i) => slow[i]!));
  slowIdx.forEach((i, j) => (out[i] = fixed[j]!));
  return out;
}
