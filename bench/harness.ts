/**
 * Benchmark harness: every bench module exports `run(opts, report)`. Tables go to stdout;
 * records follow the common custom-benchmark JSON format `{ name, unit, value }` and are
 * written by `bench/run.ts --json FILE`. Randomness is seeded (see `seededBytes`) so runs
 * are comparable; ratios are always measured within one run.
 */
import { sha256 } from '@noble/hashes/sha2.js';

export interface BenchOptions {
  /** Only sizes that finish within a minute or two. */
  readonly quick: boolean;
  /** Add the larger sizes (2^17 … 2^20 where meaningful). */
  readonly large: boolean;
}

export interface BenchRecord {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
}

export class Reporter {
  readonly records: BenchRecord[] = [];

  record(name: string, unit: string, value: number): void {
    this.records.push({ name, unit, value: Number(value.toPrecision(6)) });
  }

  table(title: string, headers: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
    const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
    const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
    const line = (r: readonly string[]): string => '| ' + r.map((c, i) => c.padStart(widths[i] ?? 0)).join(' | ') + ' |';
    const out = [`\n### ${title}\n`, line(headers), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.map(line)];
    process.stdout.write(out.join('\n') + '\n');
  }
}

export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-2)) return x.toExponential(2);
  if (Number.isInteger(x)) return String(x);
  return x.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2);
}

/** Milliseconds taken by `fn`: the best of `reps` runs. */
export async function timeMs(fn: () => unknown, reps = 1): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Deterministic pseudo-random bytes from a seed label (SHA-256 in counter mode). */
export function seededBytes(seed: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const enc = new TextEncoder();
  for (let off = 0, ctr = 0; off < n; ctr++) {
    const block = sha256(enc.encode(`${seed}/${ctr}`));
    out.set(block.subarray(0, Math.min(32, n - off)), off);
    off += 32;
  }
  return out;
}

/** Deterministic signed integers in [−2^(bits−1), 2^(bits−1)). */
export function seededInts(seed: string, n: number, bits: number): Int32Array | Float64Array {
  const bytes = seededBytes(seed, n * 8);
  const dv = new DataView(bytes.buffer);
  const out = new Float64Array(n);
  const half = 2 ** (bits - 1);
  for (let i = 0; i < n; i++) {
    const u = Number(dv.getBigUint64(i * 8, true) % BigInt(2 ** bits));
    out[i] = u - half;
  }
  return out;
}
