/**
 * Architecture templates (issue 3 item 3; DESIGN.md "Policy"): named policies usable as
 * `--policy lora-attention` etc., built for one model from its tensor list (names, shapes,
 * dtypes), and the per-tensor table `fti policy show TEMPLATE --model M` prints.
 *
 * Each tensor first gets a role from its name and shape. Naming schemes recognised:
 *   Llama / Mistral  model.layers.N.self_attn.{q,k,v,o}_proj.weight, mlp.{gate,up,down}_proj,
 *                    embed_tokens, lm_head, *norm.weight
 *   GPT-2            h.N.attn.c_attn / attn.c_proj, mlp.c_fc / mlp.c_proj, wte, wpe, ln_*
 *                    (GPT-2's Conv1D weights are 2-D [in, out]; a matrix either way)
 *   BERT             encoder.layer.N.attention.self.{query,key,value}, attention.output.dense,
 *                    intermediate.dense, output.dense, pooler.dense, embeddings.*,
 *                    LayerNorm.{weight,bias,gamma,beta}, classifier
 *   heads            classifier*, score, head, fc, cls.* (classification); lm_head,
 *                    top-level output.weight (language-model heads)
 *   by shape         ≥3-D float weights are conv kernels ([o,i,kh,kw], proven as the matrix
 *                    o × i·kh·kw); 2-D weights are linear layers (plain MLPs); 1-D `.bias` /
 *                    `.beta` are biases; other 1-D weights are normalisation scales.
 * Tensors of a dtype the prover cannot quantize (integer, bool, FP8: buffers such as
 * position_ids or num_batches_tracked) are always `frozen`, which needs only a hash.
 *
 * Templates (real-unit parameters; every one overridable through TemplateOptions):
 *   lora-attention   attention projections: lowrank rank 16 with residualMaxLinf 2^-10;
 *                    everything else frozen.
 *   lora-all-linear  every linear weight (attention, MLP, other 2-D linear layers, conv
 *                    kernels as their matrix view) lowrank as above; heads, embeddings,
 *                    norms and biases frozen (PEFT's "all-linear" also leaves the output
 *                    layer out).
 *   bitfit           biases and classification heads free (BitFit trains exactly these);
 *                    everything else frozen, LM heads included. A model without biases
 *                    (Llama) has nothing BitFit can train: the template refuses.
 *   head-only        classification and LM heads (weight and bias) free; the rest frozen.
 *   bounded-full     every float tensor may change within bounds: ≥2-D norm with
 *                    maxRelativeL2 0.05 (relative to the base tensor's L2 norm, so
 *                    certification needs the base), 1-D and scalars linf with maxLinf 0.05
 *                    (biases may start at zero, where a relative bound would freeze them).
 * Why residualMaxLinf 2^-10 in the LoRA templates: the certified relation is
 * λΔ = A·B + E with integer factors, and honest merges are not exactly low-rank after
 * rounding — the factors are quantized to s_a = s_b = ⌈s/2⌉ fractional bits, and a BF16
 * fine-tune rounds each merged weight by up to |w|·2^-8. 2^-10 covers F32 merges and BF16
 * merges of weights below 0.25 in magnitude; pass `residualMaxLinf` for other models.
 *
 * A template becomes an ordinary Policy (so `--write-policy` can save and edit it): one rule
 * per role pattern (e.g. `*self_attn.{q,k,v,o}_proj.weight`) or per exact name where only
 * the shape identifies the role; rules whose class equals the default are left out. The
 * built policy is then resolved against the same tensors and must give every tensor its
 * intended class and parameters; a tensor it does not (overlapping patterns) gets an
 * exact-name rule in front, and a name glob syntax cannot express exactly (`{`, `}`, `*` in
 * the name) is a TEMPLATE_AMBIGUOUS error rather than a silently different policy.
 */
import { ModelError } from './errors.ts';
import {
  DEFAULT_FRACTIONAL_BITS,
  POLICY_VERSION,
  PolicyMatcher,
  type Policy,
  type PolicyClass,
  type PolicyRule,
  type RuleBody,
} from './policy.ts';

export const TEMPLATE_NAMES = ['lora-attention', 'lora-all-linear', 'bitfit', 'head-only', 'bounded-full'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export function isTemplateName(s: string): s is TemplateName {
  return (TEMPLATE_NAMES as readonly string[]).includes(s);
}

export const DEFAULT_LORA_RANK = 16;
export const DEFAULT_LORA_RESIDUAL_MAX_LINF = 2 ** -10;
export const DEFAULT_BOUNDED_MAX_RELATIVE_L2 = 0.05;
export const DEFAULT_BOUNDED_MAX_LINF = 0.05;

export interface TemplateOptions {
  readonly rank?: number;
  /** LoRA templates' residual bound; 0 is allowed, `null` means an exact factorization. */
  readonly residualMaxLinf?: number | null;
  readonly maxRelativeL2?: number;
  readonly maxLinf?: number;
  readonly fractionalBits?: number;
}

export interface TemplateTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
}

/** The dtypes PROTOCOLS §1 quantizes; anything else can only be frozen (or free). */
export const QUANTIZABLE_DTYPES: readonly string[] = ['F64', 'F32', 'F16', 'BF16'];

export type TensorRole = 'attention' | 'mlp' | 'linear' | 'conv' | 'embedding' | 'head' | 'lm-head' | 'norm' | 'bias' | 'other';
export type NamingScheme = 'llama' | 'gpt2' | 'bert' | 'generic';

export interface RoleMatch {
  readonly role: TensorRole;
  readonly scheme: NamingScheme;
  /** A glob for the rule of this role (or the exact name where the shape decided). */
  readonly pattern: string;
}

interface Recogniser {
  readonly scheme: NamingScheme;
  readonly role: TensorRole;
  readonly re: RegExp;
  readonly pattern: string;
  readonly ndim?: (n: number) => boolean;
}

const matrix = (n: number): boolean => n === 2;
const vector = (n: number): boolean => n === 1;

/** Name-based roles, tried in order (the first match wins, as in policies). */
const RECOGNISERS: readonly Recogniser[] = [
  // Llama / Mistral (also Qwen, Gemma: the same module names)
  { scheme: 'llama', role: 'attention', re: /(?:^|\.)self_attn\.[qkvo]_proj\.weight$/, pattern: '*self_attn.{q,k,v,o}_proj.weight', ndim: matrix },
  { scheme: 'llama', role: 'mlp', re: /(?:^|\.)mlp\.(?:gate|up|down)_proj\.weight$/, pattern: '*mlp.{gate,up,down}_proj.weight', ndim: matrix },
  { scheme: 'llama', role: 'embedding', re: /(?:^|\.)embed_tokens\.weight$/, pattern: '*embed_tokens.weight' },
  { scheme: 'llama', role: 'lm-head', re: /(?:^|\.)lm_head\.(?:weight|bias)$/, pattern: '*lm_head.{weight,bias}' },
  // GPT-2
  { scheme: 'gpt2', role: 'attention', re: /(?:^|\.)h\.\d+\.attn\.c_(?:attn|proj)\.weight$/, pattern: '*.attn.{c_attn,c_proj}.weight', ndim: matrix },
  { scheme: 'gpt2', role: 'mlp', re: /(?:^|\.)h\.\d+\.mlp\.c_(?:fc|proj)\.weight$/, pattern: '*.mlp.{c_fc,c_proj}.weight', ndim: matrix },
  { scheme: 'gpt2', role: 'embedding', re: /(?:^|\.)w[tp]e\.weight$/, pattern: '*{wte,wpe}.weight' },
  { scheme: 'gpt2', role: 'norm', re: /(?:^|\.)ln_(?:\d+|f)\.weight$/, pattern: '*ln_*.weight', ndim: vector },
  // BERT
  { scheme: 'bert', role: 'attention', re: /(?:^|\.)attention\.self\.(?:query|key|value)\.weight$/, pattern: '*attention.self.{query,key,value}.weight', ndim: matrix },
  { scheme: 'bert', role: 'attention', re: /(?:^|\.)attention\.output\.dense\.weight$/, pattern: '*attention.output.dense.weight', ndim: matrix },
  { scheme: 'bert', role: 'mlp', re: /(?:^|\.)layer\.\d+\.(?:intermediate|output)\.dense\.weight$/, pattern: '*layer.*.{intermediate,output}.dense.weight', ndim: matrix },
  { scheme: 'bert', role: 'linear', re: /(?:^|\.)pooler\.dense\.weight$/, pattern: '*pooler.dense.weight', ndim: matrix },
  { scheme: 'bert', role: 'embedding', re: /(?:^|\.)embeddings\.(?:word|position|token_type)_embeddings\.weight$/, pattern: '*embeddings.*_embeddings.weight' },
  { scheme: 'bert', role: 'norm', re: /(?:^|\.)LayerNorm\.(?:weight|gamma)$/, pattern: '*LayerNorm.{weight,gamma}', ndim: vector },
  { scheme: 'bert', role: 'bias', re: /(?:^|\.)LayerNorm\.beta$/, pattern: '*LayerNorm.beta', ndim: vector },
  // Heads of any scheme: classification (classifier, score, timm's head, torchvision's fc,
  // BERT's cls.*) and language-model heads (Llama's original `output.weight`).
  { scheme: 'generic', role: 'head', re: /^(?:.*\.)?(?:classifier|score)(?:\.\d+)?\.(?:weight|bias)$/, pattern: '{,*.}{classifier,score}{,.*}.{weight,bias}' },
  { scheme: 'generic', role: 'head', re: /^(?:head|fc|cls\..*)\.(?:weight|bias)$/, pattern: '' },
  { scheme: 'llama', role: 'lm-head', re: /^output\.weight$/, pattern: 'output.weight', ndim: matrix },
  // Llama-style norms: input_layernorm, post_attention_layernorm, model.norm, q_norm …
  { scheme: 'llama', role: 'norm', re: /norm\.weight$/, pattern: '*norm.weight', ndim: vector },
];

/** A tensor's role (module comment); `pattern` '' in a recogniser means "the exact name". */
export function tensorRole(t: TemplateTensor): RoleMatch {
  const n = t.shape.length;
  if (!QUANTIZABLE_DTYPES.includes(t.dtype)) return { role: 'other', scheme: 'generic', pattern: t.name };
  for (const r of RECOGNISERS) {
    if (r.re.test(t.name) && (r.ndim === undefined || r.ndim(n))) return { role: r.role, scheme: r.scheme, pattern: r.pattern === '' ? t.name : r.pattern };
  }
  const isBias = /(?:^|\.)(?:bias|beta)$/.test(t.name);
  if (n === 1 && isBias) return { role: 'bias', scheme: 'generic', pattern: /(?:^|\.)bias$/.test(t.name) ? '*.bias' : t.name };
  if (/(?:^|\.)weight$/.test(t.name) || /^weight$/.test(t.name)) {
    if (n >= 3) return { role: 'conv', scheme: 'generic', pattern: t.name };
    if (n === 2) return { role: 'linear', scheme: 'generic', pattern: t.name };
    if (n === 1) return { role: 'norm', scheme: 'generic', pattern: t.name };
  }
  return { role: 'other', scheme: 'generic', pattern: t.name };
}

const FROZEN: RuleBody = { class: 'frozen' };

/** Roles a template lets change, with their class; every other role gets `fallback` (the default). */
function templateBodies(name: TemplateName, o: TemplateOptions): { changed: readonly TensorRole[]; body: (t: TemplateTensor) => RuleBody; fallback: RuleBody } {
  const rank = o.rank ?? DEFAULT_LORA_RANK;
  const residual = o.residualMaxLinf === undefined ? DEFAULT_LORA_RESIDUAL_MAX_LINF : o.residualMaxLinf;
  const lowrank: RuleBody = residual === null ? { class: 'lowrank', rank } : { class: 'lowrank', rank, residualMaxLinf: residual };
  const free: RuleBody = { class: 'free' };
  switch (name) {
    case 'lora-attention':
      return { changed: ['attention'], body: () => lowrank, fallback: FROZEN };
    case 'lora-all-linear':
      return { changed: ['attention', 'mlp', 'linear', 'conv'], body: () => lowrank, fallback: FROZEN };
    case 'bitfit':
      return { changed: ['bias', 'head'], body: () => free, fallback: FROZEN };
    case 'head-only':
      return { changed: ['head', 'lm-head'], body: () => free, fallback: FROZEN };
    case 'bounded-full': {
      const rel = o.maxRelativeL2 ?? DEFAULT_BOUNDED_MAX_RELATIVE_L2;
      const linf = o.maxLinf ?? DEFAULT_BOUNDED_MAX_LINF;
      const norm: RuleBody = { class: 'norm', maxRelativeL2: rel };
      // The default is the norm bound (most tensors), so the written policy stays short.
      return {
        changed: ['attention', 'mlp', 'linear', 'conv', 'embedding', 'head', 'lm-head', 'norm', 'bias', 'other'],
        body: (t) => (t.shape.length >= 2 ? norm : { class: 'linf', maxLinf: linf }),
        fallback: norm,
      };
    }
  }
}

function bodyKey(b: RuleBody): string {
  return JSON.stringify(Object.entries(b).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

/** The intended body of each tensor under a template (non-quantizable dtypes frozen). */
function intendedBodies(name: TemplateName, tensors: readonly TemplateTensor[], o: TemplateOptions): { roles: RoleMatch[]; bodies: RuleBody[]; changed: number } {
  const { changed, body } = templateBodies(name, o);
  const roles = tensors.map(tensorRole);
  let count = 0;
  const bodies = tensors.map((t, i) => {
    const role = roles[i]!.role;
    if (!QUANTIZABLE_DTYPES.includes(t.dtype) || !changed.includes(role)) return FROZEN;
    count++;
    return body(t);
  });
  return { roles, bodies, changed: count };
}

/**
 * The Policy a template gives for this model. Throws UNKNOWN_TEMPLATE, TEMPLATE_NO_MATCH
 * (nothing in the model is what the template would let change, e.g. `head-only` on a GPT-2
 * checkpoint whose LM head is tied to `wte`), TEMPLATE_AMBIGUOUS (module comment).
 */
export function templatePolicy(name: string, tensors: readonly TemplateTensor[], options: TemplateOptions = {}): Policy {
  if (!isTemplateName(name)) {
    throw new ModelError('UNKNOWN_TEMPLATE', `unknown policy template ${JSON.stringify(name)}; templates: ${TEMPLATE_NAMES.join(', ')} (or give a policy file)`, { field: 'policy' });
  }
  const { roles, bodies, changed } = intendedBodies(name, tensors, options);
  if (changed === 0) {
    throw new ModelError('TEMPLATE_NO_MATCH', `template ${name}: no tensor of this model is one the template lets change (${templateTargets(name)}); every tensor would be frozen`, {
      field: 'policy',
    });
  }
  const defaultBody = templateBodies(name, options).fallback;
  const defaultKey = bodyKey(defaultBody);
  const rules: PolicyRule[] = [];
  const seen = new Set<string>();
  tensors.forEach((_, i) => {
    const b = bodies[i]!;
    if (bodyKey(b) === defaultKey) return;
    const key = `${roles[i]!.pattern}\u0000${bodyKey(b)}`;
    if (seen.has(key)) return;
    seen.add(key);
    rules.push({ match: roles[i]!.pattern, ...b });
  });
  const make = (rs: readonly PolicyRule[]): Policy => ({
    version: POLICY_VERSION,
    fractionalBits: options.fractionalBits ?? DEFAULT_FRACTIONAL_BITS,
    default: defaultBody,
    rules: rs,
  });
  // Patterns are per role, bodies per tensor: make sure they agree, fixing by exact names.
  const mismatched = (p: Policy): number[] => {
    const m = new PolicyMatcher(p);
    return tensors.flatMap((t, i) => (bodyKey(m.match(t.name).body) === bodyKey(bodies[i]!) ? [] : [i]));
  };
  let policy = make(rules);
  const bad = mismatched(policy);
  if (bad.length > 0) {
    policy = make([...bad.map((i) => ({ match: tensors[i]!.name, ...bodies[i]! })), ...rules]);
    const still = mismatched(policy);
    if (still.length > 0) {
      const t = tensors[still[0]!]!;
      throw new ModelError(
        'TEMPLATE_AMBIGUOUS',
        `template ${name}: tensor ${JSON.stringify(t.name)} cannot be given its own rule (its name contains glob syntax: *, {, }); write a policy file instead`,
        { tensor: t.name, field: 'policy' },
      );
    }
  }
  return policy;
}

function templateTargets(name: TemplateName): string {
  switch (name) {
    case 'lora-attention':
      return 'attention projections';
    case 'lora-all-linear':
      return 'linear and conv weights';
    case 'bitfit':
      return 'biases and classification heads';
    case 'head-only':
      return 'classification or LM heads';
    case 'bounded-full':
      return 'float tensors';
  }
}

// ---------------------------------------------------------------------------------------
// `fti policy show`
// ---------------------------------------------------------------------------------------

export interface ResolutionRow {
  readonly tensor: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly class: PolicyClass;
  /** The class parameters in the policy's real units (no base norms needed). */
  readonly params: Readonly<Record<string, number | boolean>>;
  /** Index of the first matching rule, or 'default'. */
  readonly rule: number | 'default';
  /** That rule's glob (null for the default). */
  readonly match: string | null;
}

/** Per tensor: the class and parameters a policy gives it, and which rule did. */
export function describeResolution(policy: Policy, tensors: readonly TemplateTensor[]): ResolutionRow[] {
  const m = new PolicyMatcher(policy);
  return tensors.map((t) => {
    const r = m.match(t.name);
    const { class: cls, ...params } = r.body;
    return { tensor: t.name, shape: [...t.shape], dtype: t.dtype, class: cls, params, rule: r.rule, match: r.match };
  });
}

/** A plain-text table of `describeResolution` rows (for stderr / a terminal). */
export function formatResolution(rows: readonly ResolutionRow[]): string {
  const cells = rows.map((r) => [
    r.tensor,
    `[${r.shape.join(', ')}]`,
    r.dtype,
    r.class,
    Object.entries(r.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
    r.rule === 'default' ? 'default' : `rules[${r.rule}] ${r.match ?? ''}`,
  ]);
  const header = ['tensor', 'shape', 'dtype', 'class', 'params', 'rule'];
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: readonly string[]): string => row.map((x, c) => x.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(header), ...cells.map(line)].join('\n') + '\n';
}
