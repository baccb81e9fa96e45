/**
 * Drift policies (issue 3 item 3; DESIGN.md "Policy"; PROTOCOLS.md §1, §5): which drift class
 * each tensor of a fine-tune must stay in, parsed from JSON or YAML into exactly one typed
 * shape, version 1:
 *
 *   { version: 1, fractionalBits: s (integer 0..40, default 24),
 *     default: { class, …params },                 (no `match`; default { class: "frozen" })
 *     rules: [ { match: GLOB, class, …params } ] }  (ordered; the first match wins)
 *
 *   class     parameters (real, unquantized units)
 *   frozen    —
 *   free      —
 *   sparse    maxNonzeros (integer ≥ 0), reveal (boolean, default false = hidden support)
 *   norm      exactly one of maxL2, maxRelativeL2 (relative to the base tensor's L2 norm)
 *   linf      maxLinf
 *   lowrank   rank (integer ≥ 1), at most one of residualMaxLinf, residualMaxL2 (none = exact)
 *
 * Anything else (unknown keys or classes, wrong types, NaN, negative bounds, rank < 1) is bad
 * input: `ModelError` BAD_POLICY naming the file and the field (`rules[3].maxL2`). Parsing
 * fills the defaults in, so `{ reveal: false }` and an omitted `reveal` are one policy with
 * one digest.
 *
 * Globs: `*` matches any run of characters, dots included (so `*.bias` matches
 * `model.layers.0.mlp.bias`); `{a,b}` matches either alternative (alternatives may nest and
 * may be empty); every other character is literal (`?`, `[`, `.`, `\` included). Matching
 * is against the whole name. A matcher is compiled without backtracking regular
 * expressions (brace expansion, then a linear-space wildcard scan), so a hostile pattern
 * cannot make resolution exponential; `globToRegExp` gives the equivalent RegExp for display
 * and for tests.
 *
 * Units (PROTOCOLS §1). A proof bounds the quantized difference Δ_q = q(W_ft) − q(W_base),
 * q(w) = roundHalfEven(w·2^s). Real bounds convert with floor, exactly (bounds are doubles,
 * i.e. exact binary rationals; the conversion is done in bigint arithmetic):
 *   norm maxL2 = b          →  maxSquaredNorm = ⌊(b·2^s)²⌋            (quantized units²)
 *   norm maxRelativeL2 = ρ  →  the same with b = ρ·‖W_base‖₂ (product taken exactly)
 *   linf maxLinf = b        →  maxAbs = ⌊b·2^s⌋
 *   lowrank residual        →  in units of 2^-(s_a+s_b) (the scale of λ·Δ = A·B + E):
 *                              linf ⌊b·2^(s_a+s_b)⌋, l2 ⌊(b·2^(s_a+s_b))²⌋
 * Floor is the conservative direction: a certified Δ_q satisfies ‖Δ_q‖/2^s ≤ the policy's
 * bound, so the proof never certifies more than the policy allows. The caveat is rounding,
 * not the conversion: each quantized weight is within 2^-(s+1) of the real one, so
 * Δ_q/2^s is within 2^-s of the real Δ per entry (√n·2^-s in L2 over n entries). A real Δ just
 * inside the bound may thus be rejected, and one just outside accepted, by at most that
 * much; a policy that cares states bounds with that margin.
 *
 * Low-rank factor scales. A and B carry s_a and s_b fractional bits; v1 policies do not set
 * them: s_a = s_b = ⌈s/2⌉, so λ = 2^(s_a+s_b−s) ∈ {1, 2} is an integer ≥ 1 as the lowrank
 * verifier requires (smdp/classes/lowrank.ts), and the product A·B has about as many
 * fractional bits as Δ.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml, parseDocument, stringify as stringifyYaml } from 'yaml';
import type { DriftSpec, ResidualSpec } from '../smdp/statement.ts';
import { ModelError } from './errors.ts';

// ---------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------

export const POLICY_VERSION = 1;
export const DEFAULT_FRACTIONAL_BITS = 24;
export const MAX_FRACTIONAL_BITS = 40;
/** Caps on untrusted policy input: text size, rule count, pattern length, brace expansion. */
export const MAX_POLICY_BYTES = 16 * 1024 * 1024;
export const MAX_RULES = 100_000;
export const MAX_PATTERN_LENGTH = 4096;
export const MAX_GLOB_ALTERNATIVES = 4096;
/** Statement caps (smdp/statement.ts): rank ≤ 2^20, maxNonzeros is a u32. */
export const MAX_RANK = 1 << 20;
export const MAX_NONZEROS = 2 ** 32 - 1;

export const POLICY_CLASSES = ['frozen', 'free', 'sparse', 'norm', 'linf', 'lowrank'] as const;
export type PolicyClass = (typeof POLICY_CLASSES)[number];

/** A rule without its `match`: the class and its parameters, in real units. */
export type RuleBody =
  | { readonly class: 'frozen' }
  | { readonly class: 'free' }
  | { readonly class: 'sparse'; readonly maxNonzeros: number; readonly reveal: boolean }
  | { readonly class: 'norm'; readonly maxL2: number }
  | { readonly class: 'norm'; readonly maxRelativeL2: number }
  | { readonly class: 'linf'; readonly maxLinf: number }
  | { readonly class: 'lowrank'; readonly rank: number }
  | { readonly class: 'lowrank'; readonly rank: number; readonly residualMaxLinf: number }
  | { readonly class: 'lowrank'; readonly rank: number; readonly residualMaxL2: number };

export type PolicyRule = { readonly match: string } & RuleBody;

export interface Policy {
  readonly version: 1;
  readonly fractionalBits: number;
  readonly default: RuleBody;
  readonly rules: readonly PolicyRule[];
}

/** The parameter keys each class takes (besides `class`, and `match` in rules). */
const CLASS_KEYS: Record<PolicyClass, readonly string[]> = {
  frozen: [],
  free: [],
  sparse: ['maxNonzeros', 'reveal'],
  norm: ['maxL2', 'maxRelativeL2'],
  linf: ['maxLinf'],
  lowrank: ['rank', 'residualMaxLinf', 'residualMaxL2'],
};

const TOP_KEYS = ['version', 'fractionalBits', 'default', 'rules'];

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

function policyError(file: string | undefined, field: string | undefined, message: string, tensor?: string): never {
  const where = [file, field].filter((x) => x !== undefined && x !== '').join(': ');
  throw new ModelError('BAD_POLICY', `${where === '' ? 'policy' : where}: ${message}`, {
    ...(file !== undefined ? { file } : {}),
    ...(field !== undefined ? { field } : {}),
    ...(tensor !== undefined ? { tensor } : {}),
  });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v);
  if (typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${v}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

// ---------------------------------------------------------------------------------------
// Globs
// ---------------------------------------------------------------------------------------

/** A glob parsed into a sequence of literal runs, stars and alternative groups. */
type GlobNode = { kind: 'lit'; text: string } | { kind: 'star' } | { kind: 'alt'; options: GlobNode[][] };

/** Parse a glob; throws a plain message (the caller names the field). */
function parseGlob(pattern: string): GlobNode[] {
  let pos = 0;
  const seq = (inGroup: boolean): GlobNode[] => {
    const out: GlobNode[] = [];
    let lit = '';
    const flush = (): void => {
      if (lit !== '') out.push({ kind: 'lit', text: lit });
      lit = '';
    };
    while (pos < pattern.length) {
      const ch = pattern[pos]!;
      if (ch === '*') {
        flush();
        // `**` is the same language as `*`; keeping one keeps the scan small.
        if (out.at(-1)?.kind !== 'star') out.push({ kind: 'star' });
        pos++;
      } else if (ch === '{') {
        flush();
        pos++;
        const options: GlobNode[][] = [seq(true)];
        while (pattern[pos] === ',') {
          pos++;
          options.push(seq(true));
        }
        if (pattern[pos] !== '}') throw new Error(`unclosed "{" in ${JSON.stringify(pattern)}`);
        pos++;
        out.push({ kind: 'alt', options });
      } else if (inGroup && (ch === ',' || ch === '}')) {
        break;
      } else if (ch === '}') {
        throw new Error(`unmatched "}" in ${JSON.stringify(pattern)}`);
      } else {
        lit += ch;
        pos++;
      }
    }
    flush();
    return out;
  };
  const nodes = seq(false);
  if (pos !== pattern.length) throw new Error(`unmatched "${pattern[pos]}" in ${JSON.stringify(pattern)}`);
  return nodes;
}

/** A brace-free expansion: literal tokens and stars (null). */
type Token = string | null;

/** Expand alternatives into brace-free token lists (bounded: MAX_GLOB_ALTERNATIVES). */
function expand(nodes: readonly GlobNode[]): Token[][] {
  let acc: Token[][] = [[]];
  for (const node of nodes) {
    if (node.kind === 'lit') acc = acc.map((t) => [...t, node.text]);
    else if (node.kind === 'star') acc = acc.map((t) => [...t, null]);
    else {
      const tails = node.options.flatMap(expand);
      if (acc.length * tails.length > MAX_GLOB_ALTERNATIVES) throw new Error(`more than ${MAX_GLOB_ALTERNATIVES} alternatives`);
      acc = acc.flatMap((head) => tails.map((tail) => [...head, ...tail]));
    }
  }
  return acc;
}

/**
 * A brace-free pattern as its literal parts between stars: `a*b*c` → [a, b, c], `*.bias` →
 * ['', '.bias'], `x` → [x] (one part: no star, an exact name).
 */
function toParts(tokens: readonly Token[]): string[] {
  const parts = [''];
  tokens.forEach((tok, i) => {
    if (tok !== null) parts[parts.length - 1] += tok;
    else if (i === 0 || tokens[i - 1] !== null) parts.push(''); // `**` is `*`
  });
  return parts;
}

/**
 * Whole-string match of a `*`-only pattern: the first part must be a prefix, the last a
 * suffix (not overlapping it), and the middle parts are placed leftmost, in order, between
 * them. Leftmost placement is optimal when only stars separate the parts (a later part only
 * gains room), so this is exact, in O(|s|·|pattern|) without backtracking.
 */
function matchParts(parts: readonly string[], s: string): boolean {
  if (parts.length === 1) return s === parts[0];
  const head = parts[0]!;
  const tail = parts[parts.length - 1]!;
  if (s.length < head.length + tail.length || !s.startsWith(head) || !s.endsWith(tail)) return false;
  let pos = head.length;
  const end = s.length - tail.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const p = parts[i]!;
    const at = s.indexOf(p, pos);
    if (at < 0 || at + p.length > end) return false;
    pos = at + p.length;
  }
  return true;
}

export interface GlobMatcher {
  readonly pattern: string;
  test(name: string): boolean;
}

/** Compile a glob (see the module comment); throws BAD_POLICY naming `field` if malformed. */
export function compileGlob(pattern: string, field = 'match', file?: string): GlobMatcher {
  let alternatives: string[][];
  try {
    if (pattern.length > MAX_PATTERN_LENGTH) throw new Error(`pattern longer than ${MAX_PATTERN_LENGTH} characters`);
    alternatives = expand(parseGlob(pattern)).map(toParts);
  } catch (e) {
    return policyError(file, field, e instanceof Error ? e.message : String(e));
  }
  return { pattern, test: (name: string) => alternatives.some((p) => matchParts(p, name)) };
}

/** The RegExp equivalent of a glob (anchored; every literal escaped). For display and tests. */
export function globToRegExp(pattern: string): RegExp {
  let nodes: GlobNode[];
  try {
    nodes = parseGlob(pattern);
  } catch (e) {
    return policyError(undefined, 'match', e instanceof Error ? e.message : String(e));
  }
  const src = (seq: readonly GlobNode[]): string =>
    seq
      .map((n) =>
        n.kind === 'lit' ? n.text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&') : n.kind === 'star' ? '[\\s\\S]*' : `(?:${n.options.map(src).join('|')})`,
      )
      .join('');
  return new RegExp(`^(?:${src(nodes)})$`, 'u');
}

// ---------------------------------------------------------------------------------------
// Parsing and validation
// ---------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Ctx {
  readonly file: string | undefined;
}

function fieldName(where: string, key: string): string {
  return where === '' ? key : `${where}.${key}`;
}

function bound(ctx: Ctx, o: Obj, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  const field = fieldName(where, key);
  if (typeof v !== 'number') policyError(ctx.file, field, `expected a number, got ${describe(v)}`);
  if (!Number.isFinite(v)) policyError(ctx.file, field, `expected a finite number, got ${describe(v)}`);
  if (v < 0) policyError(ctx.file, field, `bounds must be non-negative, got ${v}`);
  return v === 0 ? 0 : v; // -0 → 0, so the canonical form (and digest) is one
}

function integer(ctx: Ctx, o: Obj, key: string, where: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  const field = fieldName(where, key);
  if (typeof v !== 'number' || !Number.isInteger(v)) policyError(ctx.file, field, `expected an integer, got ${describe(v)}`);
  if (v < min || v > max) policyError(ctx.file, field, `expected an integer in ${min}..${max}, got ${v}`);
  return v === 0 ? 0 : v;
}

function required<T>(ctx: Ctx, v: T | undefined, field: string, cls: string): T {
  if (v === undefined) policyError(ctx.file, field, `class ${cls} requires ${field.slice(field.lastIndexOf('.') + 1)}`);
  return v;
}

/** Validate one rule (or the default when `isDefault`) into its canonical form. */
function parseRuleBody(ctx: Ctx, o: unknown, where: string, isDefault: boolean): RuleBody {
  if (!isObj(o)) return policyError(ctx.file, where, `expected an object, got ${describe(o)}`);
  const cls = o.class;
  if (cls === undefined) policyError(ctx.file, `${where}.class`, `missing; one of ${POLICY_CLASSES.join(', ')}`);
  if (typeof cls !== 'string' || !(POLICY_CLASSES as readonly string[]).includes(cls)) {
    policyError(ctx.file, `${where}.class`, `unknown class ${describe(cls)}; expected one of ${POLICY_CLASSES.join(', ')}`);
  }
  const c = cls as PolicyClass;
  const allowed = CLASS_KEYS[c];
  for (const key of Object.keys(o)) {
    if (key === 'class') continue;
    if (key === 'match') {
      if (isDefault) policyError(ctx.file, `${where}.match`, 'the default rule applies to every tensor no rule matches; it takes no match');
      continue;
    }
    if (!allowed.includes(key)) {
      policyError(ctx.file, `${where}.${key}`, `unknown key for class ${c}` + (allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ' (it takes no parameters)'));
    }
  }
  switch (c) {
    case 'frozen':
    case 'free':
      return { class: c };
    case 'sparse': {
      const maxNonzeros = required(ctx, integer(ctx, o, 'maxNonzeros', where, 0, MAX_NONZEROS), `${where}.maxNonzeros`, c);
      const reveal = o.reveal ?? false;
      if (typeof reveal !== 'boolean') policyError(ctx.file, `${where}.reveal`, `expected true or false, got ${describe(reveal)}`);
      return { class: c, maxNonzeros, reveal };
    }
    case 'norm': {
      const maxL2 = bound(ctx, o, 'maxL2', where);
      const maxRelativeL2 = bound(ctx, o, 'maxRelativeL2', where);
      if ((maxL2 === undefined) === (maxRelativeL2 === undefined)) {
        policyError(ctx.file, `${where}.${maxL2 === undefined ? 'maxL2' : 'maxRelativeL2'}`, 'class norm takes exactly one of maxL2, maxRelativeL2');
      }
      return maxL2 !== undefined ? { class: c, maxL2 } : { class: c, maxRelativeL2: maxRelativeL2! };
    }
    case 'linf':
      return { class: c, maxLinf: required(ctx, bound(ctx, o, 'maxLinf', where), `${where}.maxLinf`, c) };
    case 'lowrank': {
      const rank = required(ctx, integer(ctx, o, 'rank', where, 1, MAX_RANK), `${where}.rank`, c);
      const rl = bound(ctx, o, 'residualMaxLinf', where);
      const r2 = bound(ctx, o, 'residualMaxL2', where);
      if (rl !== undefined && r2 !== undefined) policyError(ctx.file, `${where}.residualMaxL2`, 'class lowrank takes at most one of residualMaxLinf, residualMaxL2');
      if (rl !== undefined) return { class: c, rank, residualMaxLinf: rl };
      if (r2 !== undefined) return { class: c, rank, residualMaxL2: r2 };
      return { class: c, rank };
    }
  }
}

/** Validate an already-decoded value (JSON/YAML data) into a Policy. */
export function validatePolicy(data: unknown, file?: string): Policy {
  const ctx: Ctx = { file };
  if (!isObj(data)) return policyError(file, undefined, `expected a policy object, got ${describe(data)}`);
  for (const key of Object.keys(data)) {
    if (!TOP_KEYS.includes(key)) policyError(file, key, `unknown key (allowed: ${TOP_KEYS.join(', ')})`);
  }
  if (data.version === undefined) policyError(file, 'version', `missing; this reader knows version ${POLICY_VERSION}`);
  if (data.version !== POLICY_VERSION) policyError(file, 'version', `unsupported policy version ${describe(data.version)}; this reader knows version ${POLICY_VERSION}`);
  const fractionalBits = integer(ctx, data, 'fractionalBits', '', 0, MAX_FRACTIONAL_BITS);
  const def = data.default === undefined ? ({ class: 'frozen' } as const) : parseRuleBody(ctx, data.default, 'default', true);
  const rulesRaw = data.rules ?? [];
  if (!Array.isArray(rulesRaw)) return policyError(file, 'rules', `expected an array, got ${describe(rulesRaw)}`);
  if (rulesRaw.length > MAX_RULES) policyError(file, 'rules', `${rulesRaw.length} rules exceed the limit ${MAX_RULES}`);
  const rules: PolicyRule[] = rulesRaw.map((r: unknown, i) => {
    const where = `rules[${i}]`;
    const body = parseRuleBody(ctx, r, where, false);
    const match = (r as Obj).match;
    if (match === undefined) policyError(file, `${where}.match`, 'missing; a rule needs a glob over tensor names');
    if (typeof match !== 'string' || match === '') policyError(file, `${where}.match`, `expected a non-empty string, got ${describe(match)}`);
    compileGlob(match, `${where}.match`, file);
    return { match, ...body };
  });
  return { version: POLICY_VERSION, fractionalBits: fractionalBits ?? DEFAULT_FRACTIONAL_BITS, default: def, rules };
}

export type PolicyFormat = 'json' | 'yaml';

/** JSON when told, by extension (.json / .yaml / .yml), else when the text starts with `{`. */
export function detectPolicyFormat(text: string, file?: string): PolicyFormat {
  const ext = file === undefined ? '' : extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

/** Parse policy text (JSON or YAML) into a validated Policy. */
export function parsePolicy(text: string, opts: { file?: string; format?: PolicyFormat } = {}): Policy {
  const { file } = opts;
  if (text.length > MAX_POLICY_BYTES) policyError(file, undefined, `policy text of ${text.length} characters exceeds the limit ${MAX_POLICY_BYTES}`);
  const format = opts.format ?? detectPolicyFormat(text, file);
  let data: unknown;
  if (format === 'json') {
    try {
      data = JSON.parse(text);
    } catch (e) {
      return policyError(file, undefined, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    // JSON.parse keeps the last of duplicate keys silently; YAML (a JSON superset) with
    // uniqueKeys finds them. Only that finding is used: JSON syntax is JSON.parse's call.
    const dup = parseDocument(text, { uniqueKeys: true }).errors.find((e) => e.code === 'DUPLICATE_KEY');
    if (dup !== undefined) policyError(file, undefined, `duplicate key: ${firstLine(dup.message)}`);
  } else {
    try {
      data = parseYaml(text, { uniqueKeys: true });
    } catch (e) {
      return policyError(file, undefined, `not valid YAML: ${e instanceof Error ? firstLine(e.message) : String(e)}`);
    }
  }
  return validatePolicy(data, file);
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

/** Read and parse a policy file (format by extension, else by content). */
export async function readPolicyFile(path: string): Promise<Policy> {
  let text: string;
  try {
    // Refuse an oversized file before reading it (a model file passed as --policy by mistake).
    const { size } = await stat(path);
    if (size > MAX_POLICY_BYTES) policyError(path, undefined, `a policy file of ${size} bytes exceeds the limit ${MAX_POLICY_BYTES}`);
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof ModelError) throw e;
    const code = (e as { code?: unknown }).code;
    throw new ModelError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `${path}: cannot read the policy file (${typeof code === 'string' ? code : 'error'})`, { file: path });
  }
  return parsePolicy(text, { file: path });
}

// ---------------------------------------------------------------------------------------
// Canonical form, digest, serialization
// ---------------------------------------------------------------------------------------

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObj(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * SHA-256 (hex) of the canonical JSON of the parsed policy: keys sorted (UTF-16 code-unit
 * order), no whitespace, defaults filled in, numbers in JavaScript's shortest round-trip
 * form. JSON and YAML spellings of one policy have one digest.
 */
export function policyDigest(policy: Policy): string {
  return bytesToHex(sha256(utf8ToBytes(canonicalJson(policy))));
}

/** Text for `--write-policy`: parses back (`parsePolicy`) to the same policy and digest. */
export function serializePolicy(policy: Policy, format: PolicyFormat): string {
  const plain = { version: policy.version, fractionalBits: policy.fractionalBits, default: policy.default, rules: policy.rules };
  if (format === 'json') return JSON.stringify(plain, null, 2) + '\n';
  return stringifyYaml(plain, { lineWidth: 0 });
}

// ---------------------------------------------------------------------------------------
// Resolution and unit conversion
// ---------------------------------------------------------------------------------------

/** A tensor as resolution needs it; `baseL2` (real units) is needed by maxRelativeL2. */
export interface PolicyTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly baseL2?: number;
}

export interface ResolvedTensor {
  readonly name: string;
  readonly class: PolicyClass;
  /** Index of the first matching rule, or 'default'. */
  readonly rule: number | 'default';
  /** Quantized-unit drift spec for proofs; null for frozen (a hash, no proof). */
  readonly drift: DriftSpec | null;
}

/** Default factor scales of lowrank (module comment): s_a = s_b = ⌈s/2⌉, λ = 2^(s_a+s_b−s) ≥ 1. */
export function lowRankFactorBits(fractionalBits: number): { factorBitsA: number; factorBitsB: number } {
  const half = Math.ceil(fractionalBits / 2);
  return { factorBitsA: half, factorBitsB: half };
}

/** The first rule whose glob matches `name`, else the default. */
export function matchRule(policy: Policy, name: string): { rule: number | 'default'; body: RuleBody; match: string | null } {
  return new PolicyMatcher(policy).match(name);
}

/** Rules compiled once, for resolving many names. */
export class PolicyMatcher {
  private readonly globs: GlobMatcher[];
  constructor(readonly policy: Policy) {
    this.globs = policy.rules.map((r, i) => compileGlob(r.match, `rules[${i}].match`));
  }
  match(name: string): { rule: number | 'default'; body: RuleBody; match: string | null } {
    const i = this.globs.findIndex((g) => g.test(name));
    if (i < 0) return { rule: 'default', body: this.policy.default, match: null };
    const { match, ...body } = this.policy.rules[i]!;
    return { rule: i, body, match };
  }
}

/** A non-negative finite double as the exact rational m / 2^k (m a bigint, k ≥ 0). */
function exactDyadic(x: number): { m: bigint; k: number } {
  let k = 0;
  let v = x;
  // Doubling is exact for finite doubles below 2^1023 and every non-integer double is below
  // 2^53, so this ends (k ≤ 1074) with v an integer and x = v / 2^k exactly.
  while (!Number.isInteger(v)) {
    v *= 2;
    k++;
  }
  return { m: BigInt(v), k };
}

/** ⌊m·2^e / 2^k⌋ for m ≥ 0. */
function floorShift(m: bigint, e: number): bigint {
  return e >= 0 ? m << BigInt(e) : m >> BigInt(-e);
}

/** ⌊b·2^s⌋, exactly. */
export function quantizeBoundLinf(b: number, s: number): bigint {
  const { m, k } = exactDyadic(b);
  return floorShift(m, s - k);
}

/** ⌊(b·2^s)²⌋, exactly. */
export function quantizeBoundL2(b: number, s: number): bigint {
  const { m, k } = exactDyadic(b);
  return floorShift(m * m, 2 * (s - k));
}

/** ⌊(ρ·L·2^s)²⌋, exactly (the product of the two doubles is not rounded). */
export function quantizeRelativeL2(rho: number, baseL2: number, s: number): bigint {
  const a = exactDyadic(rho);
  const b = exactDyadic(baseL2);
  const m = a.m * b.m;
  return floorShift(m * m, 2 * (s - a.k - b.k));
}

/** A rule body in quantized units for one tensor (frozen → null). */
export function driftSpecFor(body: RuleBody, s: number, tensor: PolicyTensor, ruleField: string, file?: string): DriftSpec | null {
  switch (body.class) {
    case 'frozen':
      return null;
    case 'free':
      return { class: 'free' };
    case 'sparse':
      return { class: 'sparse', reveal: body.reveal, maxNonzeros: body.maxNonzeros };
    case 'linf':
      return { class: 'linf', maxAbs: quantizeBoundLinf(body.maxLinf, s) };
    case 'norm': {
      if ('maxL2' in body) return { class: 'norm', maxSquaredNorm: quantizeBoundL2(body.maxL2, s) };
      const l2 = tensor.baseL2;
      if (l2 === undefined) {
        return policyError(
          file,
          `${ruleField}.maxRelativeL2`,
          `tensor ${JSON.stringify(tensor.name)}: a relative bound needs the base tensor's L2 norm (from the base model or its manifest), and none was given`,
          tensor.name,
        );
      }
      if (typeof l2 !== 'number' || !Number.isFinite(l2) || l2 < 0) {
        throw new ModelError('BAD_VALUE', `tensor ${JSON.stringify(tensor.name)}: base L2 norm must be a finite non-negative number, got ${describe(l2)}`, {
          tensor: tensor.name,
          field: 'baseL2',
          ...(file !== undefined ? { file } : {}),
        });
      }
      return { class: 'norm', maxSquaredNorm: quantizeRelativeL2(body.maxRelativeL2, l2, s) };
    }
    case 'lowrank': {
      const { factorBitsA, factorBitsB } = lowRankFactorBits(s);
      const sab = factorBitsA + factorBitsB;
      const residual: ResidualSpec =
        'residualMaxLinf' in body
          ? { kind: 'linf', maxAbs: quantizeBoundLinf(body.residualMaxLinf, sab) }
          : 'residualMaxL2' in body
            ? { kind: 'l2', maxSquaredNorm: quantizeBoundL2(body.residualMaxL2, sab) }
            : { kind: 'none' };
      return { class: 'lowrank', rank: body.rank, factorBitsA, factorBitsB, residual };
    }
  }
}

/**
 * Each tensor's class and quantized drift spec: the first rule whose glob matches its name,
 * else the default. Throws BAD_POLICY for a relative bound without the base L2 norm.
 */
export function resolvePolicy(policy: Policy, tensors: readonly PolicyTensor[], opts: { file?: string } = {}): ResolvedTensor[] {
  const matcher = new PolicyMatcher(policy);
  return tensors.map((t) => {
    const m = matcher.match(t.name);
    const field = m.rule === 'default' ? 'default' : `rules[${m.rule}]`;
    return { name: t.name, class: m.body.class, rule: m.rule, drift: driftSpecFor(m.body, policy.fractionalBits, t, field, opts.file) };
  });
}
