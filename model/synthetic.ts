/**
 * Synthetic Llama-shaped models for `fti demo`, the benchmarks and tests: seeded, the same
 * on every machine. A base model, a merged LoRA fine-tune of it (ΔW = (α/r)·B·A on chosen
 * attention projections, as PEFT's merge stores it), and a dense bounded fine-tune (every
 * tensor moved by a small relative amount).
 */
import { encodeFloats, writeSafetensors, type FloatDtype } from './safetensors.ts';

export interface LlamaShape {
  readonly dim: number;
  readonly mlp: number;
  readonly vocab: number;
  readonly layers: number;
}

export type Tensors = Map<string, { readonly shape: number[]; readonly values: Float64Array }>;

/** Seeded values, approximately normal (sum of four uniforms, xorshift32), std `std`. */
export function gaussian(seed: number, n: number, std: number): Float64Array {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() + next() + next() + next() - 2) * std * 1.7320508;
  return out;
}

/** Llama naming: model.embed_tokens, model.layers.N.{self_attn,mlp,*_layernorm}, model.norm, lm_head. */
export function llamaBase(shape: LlamaShape): Tensors {
  const { dim, mlp, vocab, layers } = shape;
  const t: Tensors = new Map();
  let seed = 1;
  const add = (name: string, dims: number[], std: number, mean = 0): void => {
    const v = gaussian(seed++, dims.reduce((a, b) => a * b, 1), std);
    if (mean !== 0) v.forEach((x, i) => (v[i] = x + mean));
    t.set(name, { shape: dims, values: v });
  };
  add('model.embed_tokens.weight', [vocab, dim], 0.02);
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) add(`${p}.self_attn.${proj}.weight`, [dim, dim], 0.02);
    add(`${p}.mlp.gate_proj.weight`, [mlp, dim], 0.02);
    add(`${p}.mlp.up_proj.weight`, [mlp, dim], 0.02);
    add(`${p}.mlp.down_proj.weight`, [dim, mlp], 0.02);
    add(`${p}.input_layernorm.weight`, [dim], 0.01, 1);
    add(`${p}.post_attention_layernorm.weight`, [dim], 0.01, 1);
  }
  add('model.norm.weight', [dim], 0.01, 1);
  add('lm_head.weight', [vocab, dim], 0.02);
  return t;
}

/** Parameters of a Llama shape (as `llamaBase` builds it). */
export function llamaParameters(s: LlamaShape): number {
  return 2 * s.vocab * s.dim + s.layers * (4 * s.dim * s.dim + 3 * s.mlp * s.dim + 2 * s.dim) + s.dim;
}

export interface LoraMerge {
  readonly rank: number;
  readonly alpha: number;
  /** Projections that get an update, e.g. ['q_proj', 'v_proj']. */
  readonly targets: readonly string[];
  readonly seed?: number;
}

/** W + (α/r)·B·A on every layer's target projections; the factors in PEFT's layout too. */
export function loraMerge(base: Tensors, o: LoraMerge): { ft: Tensors; factors: Map<string, { A: Float64Array; B: Float64Array; rows: number; cols: number }> } {
  const ft: Tensors = new Map([...base].map(([k, v]) => [k, { shape: v.shape, values: v.values.slice() }]));
  const factors = new Map<string, { A: Float64Array; B: Float64Array; rows: number; cols: number }>();
  let seed = o.seed ?? 1000;
  const scale = o.alpha / o.rank;
  for (const [name, t] of ft) {
    const m = /^(model\.layers\.\d+\.self_attn\.([a-z_]+))\.weight$/.exec(name);
    if (!m || !o.targets.includes(m[2]!)) continue;
    const [rows, cols] = t.shape as [number, number];
    const A = gaussian(seed++, o.rank * cols, 0.02); // r × in
    const B = gaussian(seed++, rows * o.rank, 0.02); // out × r
    const w = t.values;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        let d = 0;
        for (let k = 0; k < o.rank; k++) d += B[r * o.rank + k]! * A[k * cols + c]!;
        w[r * cols + c] = w[r * cols + c]! + scale * d;
      }
    }
    factors.set(m[1]!, { A, B, rows, cols });
  }
  return { ft, factors };
}

/** Every tensor moved by seeded noise of relative L2 size `relative` (a dense, bounded fine-tune). */
export function denseDrift(base: Tensors, relative: number, seed = 5000): Tensors {
  const ft: Tensors = new Map();
  let s = seed;
  for (const [name, t] of base) {
    const n = t.values.length;
    let l2 = 0;
    for (const x of t.values) l2 += x * x;
    const noise = gaussian(s++, n, 1);
    let nl2 = 0;
    for (const x of noise) nl2 += x * x;
    const k = nl2 > 0 ? (relative * Math.sqrt(l2)) / Math.sqrt(nl2) : 0;
    ft.set(name, { shape: t.shape, values: t.values.map((x, i) => x + k * noise[i]!) });
  }
  return ft;
}

export async function writeModel(path: string, t: Tensors, dtype: FloatDtype, producer: string): Promise<void> {
  await writeSafetensors(path, new Map([...t].map(([k, v]) => [k, { dtype, shape: v.shape, data: encodeFloats(v.values, dtype) }])), { format: 'pt', producer });
}
