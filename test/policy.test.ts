/**
 * Policies and architecture templates (issue 3 item 3; model/policy.ts, model/templates.ts).
 *
 * Parsing: the example policy in JSON and in YAML gives one typed policy with one
 * digest; every malformed input is a BAD_POLICY ModelError whose message and `field` name
 * the rule and key (and the file when there is one). Globs: `*` spans dots, `{a,b}`
 * alternatives nest, everything else is literal; the backtracking-free matcher agrees with
 * the escaped RegExp (property). Resolution: first match wins; real bounds convert to
 * quantized units by exact floor — expected values computed independently with Python's
 * `fractions.Fraction` (e.g. ⌊(0.1·2^24)²⌋ = 2814749767106). Templates: synthetic tensor
 * lists in Llama/Mistral, GPT-2, BERT, CNN and plain-MLP naming, each template's resolved
 * classes asserted tensor by tensor.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ModelError } from '../model/errors.ts';
import {
  compileGlob,
  globToRegExp,
  lowRankFactorBits,
  parsePolicy,
  policyDigest,
  quantizeBoundL2,
  quantizeBoundLinf,
  quantizeRelativeL2,
  readPolicyFile,
  resolvePolicy,
  serializePolicy,
  validatePolicy,
  type Policy,
  type PolicyTensor,
} from '../model/policy.ts';
import {
  TEMPLATE_NAMES,
  describeResolution,
  formatResolution,
  templatePolicy,
  tensorRole,
  type TemplateTensor,
} from '../model/templates.ts';

const EXAMPLE_JSON = `{ "version": 1, "fractionalBits": 24, "default": { "class": "frozen" },
  "rules": [
    { "match": "layers.*.attn.q_proj.weight", "class": "lowrank", "rank": 4, "residualMaxLinf": 0.0001 },
    { "match": "*.norm.weight", "class": "norm", "maxL2": 0.5 },
    { "match": "*.mlp.*.weight", "class": "norm", "maxRelativeL2": 0.01 },
    { "match": "*.bias", "class": "sparse", "maxNonzeros": 16, "reveal": true },
    { "match": "*.embed.weight", "class": "linf", "maxLinf": 0.001 },
    { "match": "head.weight", "class": "free" } ] }`;

const EXAMPLE_YAML = `# the issue's example, in YAML
version: 1
fractionalBits: 24
default: { class: frozen }
rules:
  - match: "layers.*.attn.q_proj.weight"
    class: lowrank
    rank: 4
    residualMaxLinf: 0.0001
  - { match: "*.norm.weight", class: norm, maxL2: 0.5 }
  - match: "*.mlp.*.weight"
    class: norm
    maxRelativeL2: 0.01
  - match: "*.bias"
    class: sparse
    maxNonzeros: 16
    reveal: true
  - match: "*.embed.weight"
    class: linf
    maxLinf: 0.001
  - match: head.weight
    class: free
`;

const EXPECTED: Policy = {
  version: 1,
  fractionalBits: 24,
  default: { class: 'frozen' },
  rules: [
    { match: 'layers.*.attn.q_proj.weight', class: 'lowrank', rank: 4, residualMaxLinf: 0.0001 },
    { match: '*.norm.weight', class: 'norm', maxL2: 0.5 },
    { match: '*.mlp.*.weight', class: 'norm', maxRelativeL2: 0.01 },
    { match: '*.bias', class: 'sparse', maxNonzeros: 16, reveal: true },
    { match: '*.embed.weight', class: 'linf', maxLinf: 0.001 },
    { match: 'head.weight', class: 'free' },
  ],
};

/** Assert a BAD_POLICY (or other code) error whose message contains every fragment. */
function rejects(fn: () => unknown, field: string | undefined, ...fragments: string[]): ModelError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ModelError, `expected a ModelError, got ${String(err)}`);
  assert.equal(err.code, 'BAD_POLICY', err.message);
  if (field !== undefined) {
    assert.equal(err.field, field, err.message);
    assert.ok(err.message.includes(field), `message ${JSON.stringify(err.message)} should name ${field}`);
  }
  for (const f of fragments) assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} should contain ${JSON.stringify(f)}`);
  return err;
}

/** The example with rule `i` replaced (JSON text). */
function withRule(i: number, rule: unknown): string {
  const p = JSON.parse(EXAMPLE_JSON) as { rules: unknown[] };
  p.rules[i] = rule;
  return JSON.stringify(p);
}

describe('policy parsing', () => {
  it("parses the issue's example in JSON and in YAML to the same policy and digest", () => {
    const fromJson = parsePolicy(EXAMPLE_JSON);
    const fromYaml = parsePolicy(EXAMPLE_YAML);
    assert.deepEqual(fromJson, EXPECTED);
    assert.deepEqual(fromYaml, EXPECTED);
    assert.equal(policyDigest(fromJson), policyDigest(fromYaml));
    assert.match(policyDigest(fromJson), /^[0-9a-f]{64}$/);
  });

  it('fills defaults: fractionalBits 24, default frozen, rules [], reveal false — one digest per policy', () => {
    const p = parsePolicy('{"version": 1}');
    assert.deepEqual(p, { version: 1, fractionalBits: 24, default: { class: 'frozen' }, rules: [] });
    const a = parsePolicy('{"version":1,"rules":[{"match":"*","class":"sparse","maxNonzeros":3}]}');
    const b = parsePolicy('{"rules":[{"reveal":false,"maxNonzeros":3,"class":"sparse","match":"*"}],"fractionalBits":24,"version":1,"default":{"class":"frozen"}}');
    assert.deepEqual(a, b);
    assert.equal(policyDigest(a), policyDigest(b));
    assert.notEqual(policyDigest(a), policyDigest(parsePolicy('{"version":1,"rules":[{"match":"*","class":"sparse","maxNonzeros":4}]}')));
  });

  it('detects the format by option, extension, then content', () => {
    assert.deepEqual(parsePolicy(EXAMPLE_YAML, { format: 'yaml' }), EXPECTED);
    assert.deepEqual(parsePolicy(EXAMPLE_JSON, { file: 'p.yaml' }), EXPECTED); // JSON is YAML too
    rejects(() => parsePolicy(EXAMPLE_YAML, { file: 'p.json' }), undefined, 'p.json', 'not valid JSON');
  });

  it('serializes to JSON and YAML that parse back to the same policy (property)', () => {
    const num = fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true });
    const body = fc.oneof(
      fc.constant({ class: 'frozen' as const }),
      fc.constant({ class: 'free' as const }),
      fc.record({ class: fc.constant('sparse' as const), maxNonzeros: fc.nat({ max: 2 ** 32 - 1 }), reveal: fc.boolean() }),
      fc.record({ class: fc.constant('norm' as const), maxL2: num }),
      fc.record({ class: fc.constant('norm' as const), maxRelativeL2: num }),
      fc.record({ class: fc.constant('linf' as const), maxLinf: num }),
      fc.record({ class: fc.constant('lowrank' as const), rank: fc.integer({ min: 1, max: 1 << 20 }) }),
      fc.record({ class: fc.constant('lowrank' as const), rank: fc.integer({ min: 1, max: 64 }), residualMaxL2: num }),
    );
    const glob = fc.stringMatching(/^[a-z.*_0-9]{1,12}$/);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), body, fc.array(fc.tuple(glob, body), { maxLength: 5 }), (s, def, rs) => {
        const p = validatePolicy({ version: 1, fractionalBits: s, default: def, rules: rs.map(([match, b]) => ({ match, ...b })) });
        for (const format of ['json', 'yaml'] as const) {
          const back = parsePolicy(serializePolicy(p, format), { format });
          assert.deepEqual(back, p);
          assert.equal(policyDigest(back), policyDigest(p));
        }
      }),
      { numRuns: 200, seed: 31 },
    );
  });

  it('reads policy files (by extension or content); a missing file is NOT_FOUND', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fti-policy-'));
    try {
      for (const [name, text] of [
        ['p.json', EXAMPLE_JSON],
        ['p.yaml', EXAMPLE_YAML],
        ['p.yml', EXAMPLE_YAML],
        ['policy', EXAMPLE_JSON],
        ['policy2', EXAMPLE_YAML],
      ] as const) {
        await writeFile(join(dir, name), text);
        assert.deepEqual(await readPolicyFile(join(dir, name)), EXPECTED, name);
      }
      await writeFile(join(dir, 'bad.yaml'), 'version: 1\nrules:\n  - { match: "*", class: norm, maxL2: -1 }\n');
      await assert.rejects(readPolicyFile(join(dir, 'bad.yaml')), (e: unknown) => {
        assert.ok(e instanceof ModelError);
        assert.equal(e.code, 'BAD_POLICY');
        assert.equal(e.file, join(dir, 'bad.yaml'));
        assert.ok(e.message.startsWith(`${join(dir, 'bad.yaml')}: rules[0].maxL2: `), e.message);
        return true;
      });
      await assert.rejects(readPolicyFile(join(dir, 'absent.json')), (e: unknown) => e instanceof ModelError && e.code === 'NOT_FOUND' && e.message.includes('absent.json'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('policy rejections name the rule and key', () => {
  it('unknown keys and classes', () => {
    rejects(() => parsePolicy(withRule(1, { match: '*', class: 'norm', maxL3: 1 })), 'rules[1].maxL3', 'unknown key for class norm', 'maxL2, maxRelativeL2');
    rejects(() => parsePolicy(withRule(0, { match: '*', class: 'lowrnk', rank: 4 })), 'rules[0].class', 'unknown class "lowrnk"', 'frozen, free, sparse, norm, linf, lowrank');
    rejects(() => parsePolicy(withRule(5, { match: '*', class: 'free', maxL2: 1 })), 'rules[5].maxL2', 'unknown key for class free', 'no parameters');
    rejects(() => parsePolicy(withRule(2, { match: '*', maxL2: 1 })), 'rules[2].class', 'missing');
    rejects(() => parsePolicy('{"version":1,"rule":[]}'), 'rule', 'unknown key');
    rejects(() => parsePolicy('{"version":1,"default":{"class":"free","match":"*"}}'), 'default.match', 'takes no match');
    rejects(() => parsePolicy('{"version":1,"default":{"class":"linf","maxLinf":1,"maxL2":1}}'), 'default.maxL2', 'unknown key for class linf');
  });

  it('wrong types, NaN and infinities', () => {
    rejects(() => parsePolicy(withRule(1, { match: '*', class: 'norm', maxL2: '0.5' })), 'rules[1].maxL2', 'expected a number, got "0.5"');
    rejects(() => parsePolicy(withRule(3, { match: '*.bias', class: 'sparse', maxNonzeros: 2, reveal: 'yes' })), 'rules[3].reveal', 'expected true or false');
    rejects(() => parsePolicy('version: 1\nrules:\n  - { match: "*", class: linf, maxLinf: .nan }\n'), 'rules[0].maxLinf', 'finite', 'NaN');
    rejects(() => parsePolicy('version: 1\nrules:\n  - { match: "*", class: linf, maxLinf: .inf }\n'), 'rules[0].maxLinf', 'finite');
    rejects(() => parsePolicy('version: 1\nrules:\n  - { match: "*", class: sparse, maxNonzeros: yes }\n'), 'rules[0].maxNonzeros', 'expected an integer');
    rejects(() => parsePolicy(withRule(0, { match: 7, class: 'free' })), 'rules[0].match', 'non-empty string');
    rejects(() => parsePolicy(withRule(0, { match: '', class: 'free' })), 'rules[0].match', 'non-empty string');
    rejects(() => parsePolicy(withRule(0, { class: 'free' })), 'rules[0].match', 'missing');
    rejects(() => parsePolicy(withRule(4, 'free')), 'rules[4]', 'expected an object');
    rejects(() => parsePolicy('{"version":1,"rules":{}}'), 'rules', 'expected an array');
    rejects(() => parsePolicy('[1, 2]'), undefined, 'expected a policy object, got an array');
  });

  it('negative bounds, rank < 1, out-of-range integers', () => {
    rejects(() => parsePolicy(withRule(1, { match: '*', class: 'norm', maxL2: -0.5 })), 'rules[1].maxL2', 'non-negative', '-0.5');
    rejects(() => parsePolicy(withRule(2, { match: '*', class: 'norm', maxRelativeL2: -1e-9 })), 'rules[2].maxRelativeL2', 'non-negative');
    rejects(() => parsePolicy(withRule(4, { match: '*', class: 'linf', maxLinf: -1 })), 'rules[4].maxLinf', 'non-negative');
    rejects(() => parsePolicy(withRule(0, { match: '*', class: 'lowrank', rank: 0 })), 'rules[0].rank', '1..1048576', 'got 0');
    rejects(() => parsePolicy(withRule(0, { match: '*', class: 'lowrank', rank: 2.5 })), 'rules[0].rank', 'expected an integer');
    rejects(() => parsePolicy(withRule(0, { match: '*', class: 'lowrank', rank: 4, residualMaxL2: -2 })), 'rules[0].residualMaxL2', 'non-negative');
    rejects(() => parsePolicy(withRule(3, { match: '*', class: 'sparse', maxNonzeros: -1 })), 'rules[3].maxNonzeros', 'got -1');
    rejects(() => parsePolicy(withRule(3, { match: '*', class: 'sparse', maxNonzeros: 2 ** 32 })), 'rules[3].maxNonzeros', '4294967295');
    rejects(() => parsePolicy('{"version":1,"fractionalBits":41}'), 'fractionalBits', '0..40');
    rejects(() => parsePolicy('{"version":1,"fractionalBits":2.5}'), 'fractionalBits', 'integer');
  });

  it('missing or conflicting parameters', () => {
    rejects(() => parsePolicy(withRule(1, { match: '*', class: 'norm' })), 'rules[1].maxL2', 'exactly one of maxL2, maxRelativeL2');
    rejects(() => parsePolicy(withRule(1, { match: '*', class: 'norm', maxL2: 1, maxRelativeL2: 1 })), 'rules[1].maxRelativeL2', 'exactly one');
    rejects(() => parsePolicy(withRule(0, { match: '*', class: 'lowrank', rank: 2, residualMaxLinf: 1, residualMaxL2: 1 })), 'rules[0].residualMaxL2', 'at most one');
    rejects(() => parsePolicy(withRule(0, { match: '*', class: 'lowrank' })), 'rules[0].rank', 'requires rank');
    rejects(() => parsePolicy(withRule(3, { match: '*', class: 'sparse' })), 'rules[3].maxNonzeros', 'requires maxNonzeros');
    rejects(() => parsePolicy(withRule(4, { match: '*', class: 'linf' })), 'rules[4].maxLinf', 'requires maxLinf');
  });

  it('versions, syntax, duplicate keys and malformed globs', () => {
    rejects(() => parsePolicy('{"rules":[]}'), 'version', 'missing');
    rejects(() => parsePolicy('{"version":2}'), 'version', 'unsupported policy version 2');
    rejects(() => parsePolicy('{"version":"1"}'), 'version', 'unsupported');
    rejects(() => parsePolicy('{"version":1,', { file: 'x.json' }), undefined, 'x.json', 'not valid JSON');
    rejects(() => parsePolicy('version: 1\nrules: [\n', { file: 'x.yaml' }), undefined, 'x.yaml', 'not valid YAML');
    rejects(() => parsePolicy('{"version":1,"version":1}'), undefined, 'duplicate key');
    rejects(() => parsePolicy('version: 1\nrules:\n  - match: a\n    match: b\n    class: free\n'), undefined, 'not valid YAML');
    rejects(() => parsePolicy('version: 1\n---\nversion: 1\n'), undefined, 'not valid YAML');
    rejects(() => parsePolicy(withRule(2, { match: 'layers.{a,b', class: 'free' })), 'rules[2].match', 'unclosed "{"');
    rejects(() => parsePolicy(withRule(2, { match: 'layers.a}', class: 'free' })), 'rules[2].match', 'unmatched "}"');
    rejects(() => parsePolicy(withRule(0, { match: '{a,b}'.repeat(13), class: 'free' })), 'rules[0].match', 'alternatives');
  });

  it('names the file in message and error fields', () => {
    const e = rejects(() => parsePolicy(withRule(3, { match: '*', class: 'norm', maxL2: -1 }), { file: 'policy.json' }), 'rules[3].maxL2');
    assert.equal(e.file, 'policy.json');
    assert.ok(e.message.startsWith('policy.json: rules[3].maxL2: '), e.message);
  });
});

describe('globs', () => {
  const cases: [string, string, boolean][] = [
    ['*.bias', 'model.layers.0.mlp.bias', true],
    ['*.bias', 'bias', false],
    ['*.bias', '.bias', true],
    ['*.bias', 'x.bias.y', false],
    ['layers.*.attn.q_proj.weight', 'layers.0.attn.q_proj.weight', true],
    ['layers.*.attn.q_proj.weight', 'layers.0.1.attn.q_proj.weight', true],
    ['layers.*.attn.q_proj.weight', 'model.layers.0.attn.q_proj.weight', false],
    ['layers.*.attn.q_proj.weight', 'layers.0.attn.q_proj.weights', false],
    ['*', '', true],
    ['*', 'anything.at.all', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'ac', false],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['*.{q,k,v}_proj.weight', 'x.k_proj.weight', true],
    ['*.{q,k,v}_proj.weight', 'x.o_proj.weight', false],
    ['{a,b{c,d}}e', 'bde', true],
    ['{a,b{c,d}}e', 'be', false],
    ['x{,.y}', 'x', true],
    ['x{,.y}', 'x.y', true],
    ['x{,.y}', 'x.', false],
    ['{*.a,b}', 'q.a', true],
    // everything else is literal
    ['a.b', 'axb', false],
    ['a?b', 'a?b', true],
    ['a?b', 'axb', false],
    ['w[0]', 'w[0]', true],
    ['w[0]', 'w0', false],
    ['a+b(c)|$^\\', 'a+b(c)|$^\\', true],
    ['a,b', 'a,b', true],
    ['a,b', 'a', false],
  ];
  it('match the documented semantics (and the RegExp agrees)', () => {
    for (const [g, s, want] of cases) {
      assert.equal(compileGlob(g).test(s), want, `${g} ~ ${s}`);
      assert.equal(globToRegExp(g).test(s), want, `regexp ${g} ~ ${s}`);
    }
  });

  it('the backtracking-free matcher agrees with the escaped RegExp (property)', () => {
    const pattern = fc.array(fc.constantFrom('a', 'b', '.', '*', '?', '[', '\\', '{a,b}', '{,.a*}', '{b{a,},*}'), { maxLength: 8 }).map((p) => p.join(''));
    const name = fc.array(fc.constantFrom('a', 'b', '.', '?', '[', '\\', ','), { maxLength: 10 }).map((p) => p.join(''));
    fc.assert(
      fc.property(pattern, name, (p, s) => {
        assert.equal(compileGlob(p).test(s), globToRegExp(p).test(s));
      }),
      { numRuns: 3000, seed: 7 },
    );
  });

  it('an adversarial star pattern stays fast', () => {
    const p = compileGlob('*a'.repeat(40) + 'b');
    const t0 = performance.now();
    assert.equal(p.test('a'.repeat(4000)), false);
    // Not a timing assertion on the machine's speed, only against exponential blow-up.
    assert.ok(performance.now() - t0 < 5000);
  });
});

describe('resolution and unit conversion', () => {
  const tensors: PolicyTensor[] = [
    { name: 'layers.0.attn.q_proj.weight', shape: [8, 8], dtype: 'F32' },
    { name: 'x.norm.weight', shape: [8], dtype: 'F32' },
    { name: 'x.mlp.up.weight', shape: [8, 8], dtype: 'F32', baseL2: 3.7 },
    { name: 'x.bias', shape: [8], dtype: 'F32' },
    { name: 'x.embed.weight', shape: [16, 8], dtype: 'F32' },
    { name: 'head.weight', shape: [2, 8], dtype: 'F32' },
    { name: 'other.weight', shape: [2, 8], dtype: 'F32' },
  ];

  it("resolves the issue's example: first match wins, else the default, exact quantized bounds", () => {
    const r = resolvePolicy(parsePolicy(EXAMPLE_JSON), tensors);
    assert.deepEqual(r, [
      {
        name: 'layers.0.attn.q_proj.weight',
        class: 'lowrank',
        rule: 0,
        // s = 24: s_a = s_b = 12; residual units 2^-24: ⌊0.0001·2^24⌋ = 1677
        drift: { class: 'lowrank', rank: 4, factorBitsA: 12, factorBitsB: 12, residual: { kind: 'linf', maxAbs: 1677n } },
      },
      // ⌊(0.5·2^24)²⌋ = 2^46
      { name: 'x.norm.weight', class: 'norm', rule: 1, drift: { class: 'norm', maxSquaredNorm: 70368744177664n } },
      // ⌊(0.01·3.7·2^24)²⌋ (exact product of the two doubles)
      { name: 'x.mlp.up.weight', class: 'norm', rule: 2, drift: { class: 'norm', maxSquaredNorm: 385339243116n } },
      { name: 'x.bias', class: 'sparse', rule: 3, drift: { class: 'sparse', reveal: true, maxNonzeros: 16 } },
      // ⌊0.001·2^24⌋ = ⌊16777.216⌋
      { name: 'x.embed.weight', class: 'linf', rule: 4, drift: { class: 'linf', maxAbs: 16777n } },
      { name: 'head.weight', class: 'free', rule: 5, drift: { class: 'free' } },
      { name: 'other.weight', class: 'frozen', rule: 'default', drift: null },
    ]);
  });

  it('first match wins even when a later rule is more specific', () => {
    const p = parsePolicy('{"version":1,"rules":[{"match":"*.weight","class":"free"},{"match":"x.norm.weight","class":"linf","maxLinf":1}]}');
    assert.deepEqual(resolvePolicy(p, [tensors[1]!])[0], { name: 'x.norm.weight', class: 'free', rule: 0, drift: { class: 'free' } });
  });

  it('converts bounds exactly, flooring (values from Python fractions)', () => {
    assert.equal(quantizeBoundL2(0.1, 24), 2814749767106n);
    assert.equal(quantizeBoundL2(0.001, 24), 281474976n);
    assert.equal(quantizeBoundL2(1e-7, 24), 2n);
    assert.equal(quantizeBoundLinf(1e-7, 24), 1n);
    assert.equal(quantizeBoundLinf(0.001, 24), 16777n);
    assert.equal(quantizeBoundLinf(2.5, 0), 2n);
    assert.equal(quantizeBoundLinf(0, 40), 0n);
    assert.equal(quantizeBoundLinf(3, 40), 3n << 40n);
    assert.equal(quantizeBoundL2(1e300, 24), (BigInt(1e300) << 24n) ** 2n);
    assert.equal(quantizeRelativeL2(0.05, 12.345, 16), 1636372070n);
    assert.equal(quantizeRelativeL2(0.01, 3.7, 24), 385339243116n);
    // Floor is never above the real value, and the next integer is (property).
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 40 }), (b, s) => {
        const q = quantizeBoundLinf(b, s);
        assert.ok(Number(q) <= b * 2 ** s * (1 + 1e-15));
        assert.ok(Number(q + 1n) > b * 2 ** s * (1 - 1e-15));
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('lowrank: factor bits ⌈s/2⌉ each (λ = 2^(s_a+s_b−s) ≥ 1), residual units 2^-(s_a+s_b)', () => {
    assert.deepEqual(lowRankFactorBits(24), { factorBitsA: 12, factorBitsB: 12 });
    assert.deepEqual(lowRankFactorBits(23), { factorBitsA: 12, factorBitsB: 12 });
    assert.deepEqual(lowRankFactorBits(0), { factorBitsA: 0, factorBitsB: 0 });
    const p = parsePolicy(
      '{"version":1,"fractionalBits":23,"rules":[{"match":"a","class":"lowrank","rank":3,"residualMaxLinf":0.0001},{"match":"b","class":"lowrank","rank":1,"residualMaxL2":0.001},{"match":"c","class":"lowrank","rank":2}]}',
    );
    const r = resolvePolicy(p, ['a', 'b', 'c'].map((name) => ({ name, shape: [4, 4], dtype: 'F32' })));
    assert.deepEqual(
      r.map((x) => x.drift),
      [
        { class: 'lowrank', rank: 3, factorBitsA: 12, factorBitsB: 12, residual: { kind: 'linf', maxAbs: 1677n } },
        { class: 'lowrank', rank: 1, factorBitsA: 12, factorBitsB: 12, residual: { kind: 'l2', maxSquaredNorm: 281474976n } },
        { class: 'lowrank', rank: 2, factorBitsA: 12, factorBitsB: 12, residual: { kind: 'none' } },
      ],
    );
  });

  it('maxRelativeL2 needs the base L2 norm', () => {
    const p = parsePolicy(EXAMPLE_JSON, { file: 'p.json' });
    const e = rejects(() => resolvePolicy(p, [{ name: 'x.mlp.up.weight', shape: [8, 8], dtype: 'F32' }], { file: 'p.json' }), 'rules[2].maxRelativeL2', 'x.mlp.up.weight', "base tensor's L2 norm");
    assert.equal(e.tensor, 'x.mlp.up.weight');
    assert.equal(e.file, 'p.json');
    assert.throws(
      () => resolvePolicy(p, [{ name: 'x.mlp.up.weight', shape: [8, 8], dtype: 'F32', baseL2: Number.NaN }]),
      (err: unknown) => err instanceof ModelError && err.code === 'BAD_VALUE' && err.field === 'baseL2',
    );
    // Zero base norm: the relative bound is zero.
    assert.deepEqual(resolvePolicy(p, [{ name: 'x.mlp.up.weight', shape: [8, 8], dtype: 'F32', baseL2: 0 }])[0]!.drift, { class: 'norm', maxSquaredNorm: 0n });
  });
});

// ---------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------

const t = (name: string, shape: number[], dtype = 'F32'): TemplateTensor => ({ name, shape, dtype });

const LLAMA: TemplateTensor[] = [
  t('model.embed_tokens.weight', [128, 16], 'BF16'),
  ...[0, 1].flatMap((l) => [
    ...['q', 'k', 'v', 'o'].map((p) => t(`model.layers.${l}.self_attn.${p}_proj.weight`, [16, 16], 'BF16')),
    ...['gate', 'up', 'down'].map((p) => t(`model.layers.${l}.mlp.${p}_proj.weight`, p === 'down' ? [16, 32] : [32, 16], 'BF16')),
    t(`model.layers.${l}.input_layernorm.weight`, [16], 'BF16'),
    t(`model.layers.${l}.post_attention_layernorm.weight`, [16], 'BF16'),
  ]),
  t('model.norm.weight', [16], 'BF16'),
  t('lm_head.weight', [128, 16], 'BF16'),
];

const GPT2: TemplateTensor[] = [
  t('wte.weight', [100, 8]),
  t('wpe.weight', [32, 8]),
  ...[0, 1].flatMap((l) => [
    t(`h.${l}.ln_1.weight`, [8]),
    t(`h.${l}.ln_1.bias`, [8]),
    t(`h.${l}.attn.bias`, [1, 1, 32, 32]), // the causal-mask buffer older checkpoints carry
    t(`h.${l}.attn.c_attn.weight`, [8, 24]),
    t(`h.${l}.attn.c_attn.bias`, [24]),
    t(`h.${l}.attn.c_proj.weight`, [8, 8]),
    t(`h.${l}.attn.c_proj.bias`, [8]),
    t(`h.${l}.ln_2.weight`, [8]),
    t(`h.${l}.ln_2.bias`, [8]),
    t(`h.${l}.mlp.c_fc.weight`, [8, 32]),
    t(`h.${l}.mlp.c_fc.bias`, [32]),
    t(`h.${l}.mlp.c_proj.weight`, [32, 8]),
    t(`h.${l}.mlp.c_proj.bias`, [8]),
  ]),
  t('ln_f.weight', [8]),
  t('ln_f.bias', [8]),
];

const BERT: TemplateTensor[] = [
  t('bert.embeddings.word_embeddings.weight', [100, 8]),
  t('bert.embeddings.position_embeddings.weight', [32, 8]),
  t('bert.embeddings.token_type_embeddings.weight', [2, 8]),
  t('bert.embeddings.LayerNorm.weight', [8]),
  t('bert.embeddings.LayerNorm.bias', [8]),
  t('bert.embeddings.position_ids', [1, 32], 'I64'),
  ...['query', 'key', 'value'].flatMap((p) => [t(`bert.encoder.layer.0.attention.self.${p}.weight`, [8, 8]), t(`bert.encoder.layer.0.attention.self.${p}.bias`, [8])]),
  t('bert.encoder.layer.0.attention.output.dense.weight', [8, 8]),
  t('bert.encoder.layer.0.attention.output.dense.bias', [8]),
  t('bert.encoder.layer.0.attention.output.LayerNorm.weight', [8]),
  t('bert.encoder.layer.0.attention.output.LayerNorm.bias', [8]),
  t('bert.encoder.layer.0.intermediate.dense.weight', [32, 8]),
  t('bert.encoder.layer.0.intermediate.dense.bias', [32]),
  t('bert.encoder.layer.0.output.dense.weight', [8, 32]),
  t('bert.encoder.layer.0.output.dense.bias', [8]),
  t('bert.encoder.layer.0.output.LayerNorm.weight', [8]),
  t('bert.encoder.layer.0.output.LayerNorm.bias', [8]),
  t('bert.pooler.dense.weight', [8, 8]),
  t('bert.pooler.dense.bias', [8]),
  t('classifier.weight', [3, 8]),
  t('classifier.bias', [3]),
];

const CNN: TemplateTensor[] = [
  t('conv1.weight', [16, 3, 3, 3]),
  t('bn1.weight', [16]),
  t('bn1.bias', [16]),
  t('bn1.running_mean', [16]),
  t('bn1.running_var', [16]),
  t('bn1.num_batches_tracked', [], 'I64'),
  t('layer1.0.conv1.weight', [16, 16, 3, 3]),
  t('layer1.0.conv1.bias', [16]),
  t('fc.weight', [10, 64]),
  t('fc.bias', [10]),
];

const MLP: TemplateTensor[] = [t('layers.0.weight', [64, 32]), t('layers.0.bias', [64]), t('layers.1.weight', [64, 64]), t('layers.1.bias', [64]), t('head.weight', [10, 64]), t('head.bias', [10])];

/** Resolve a template's policy over its model (with base norms, as certify has them). */
function classesOf(template: string, tensors: readonly TemplateTensor[]): Map<string, string> {
  const policy = templatePolicy(template, tensors);
  // Every template policy is a valid version-1 policy that survives a round trip.
  assert.deepEqual(parsePolicy(serializePolicy(policy, 'yaml'), { format: 'yaml' }), policy);
  const r = resolvePolicy(
    policy,
    tensors.map((x) => ({ ...x, baseL2: 1 })),
  );
  return new Map(r.map((x) => [x.name, x.class]));
}

function expectClasses(template: string, tensors: readonly TemplateTensor[], want: (name: string, x: TemplateTensor) => string): void {
  const got = classesOf(template, tensors);
  for (const x of tensors) assert.equal(got.get(x.name), want(x.name, x), `${template}: ${x.name}`);
}

const FLOAT = (x: TemplateTensor): boolean => ['F64', 'F32', 'F16', 'BF16'].includes(x.dtype);
const boundedFull = (_: string, x: TemplateTensor): string => (!FLOAT(x) ? 'frozen' : x.shape.length >= 2 ? 'norm' : 'linf');

describe('architecture templates', () => {
  it('recognise roles per naming scheme', () => {
    assert.equal(tensorRole(t('model.layers.3.self_attn.k_proj.weight', [4, 4])).role, 'attention');
    assert.equal(tensorRole(t('model.layers.3.self_attn.k_proj.weight', [4, 4])).scheme, 'llama');
    assert.equal(tensorRole(t('transformer.h.11.attn.c_attn.weight', [4, 12])).scheme, 'gpt2');
    assert.equal(tensorRole(t('encoder.layer.2.attention.self.value.weight', [4, 4])).scheme, 'bert');
    assert.equal(tensorRole(t('features.0.weight', [8, 3, 3, 3])).role, 'conv');
    assert.equal(tensorRole(t('layers.0.weight', [8, 3])).role, 'linear');
    assert.equal(tensorRole(t('layers.0.bias', [8])).role, 'bias');
    assert.equal(tensorRole(t('h.0.attn.bias', [1, 1, 4, 4])).role, 'other');
    assert.equal(tensorRole(t('bn.num_batches_tracked', [], 'I64')).role, 'other');
    assert.equal(tensorRole(t('classifier.6.weight', [10, 8])).role, 'head');
    assert.equal(tensorRole(t('lm_head.weight', [10, 8])).role, 'lm-head');
  });

  it('Llama / Mistral', () => {
    const attn = (n: string): boolean => /self_attn\.[qkvo]_proj\.weight$/.test(n);
    const linear = (n: string): boolean => attn(n) || /mlp\.(gate|up|down)_proj\.weight$/.test(n);
    expectClasses('lora-attention', LLAMA, (n) => (attn(n) ? 'lowrank' : 'frozen'));
    expectClasses('lora-all-linear', LLAMA, (n) => (linear(n) ? 'lowrank' : 'frozen'));
    expectClasses('head-only', LLAMA, (n) => (n === 'lm_head.weight' ? 'free' : 'frozen'));
    expectClasses('bounded-full', LLAMA, boundedFull);
    // Llama has no biases: BitFit has nothing to train, and says so.
    assert.throws(() => templatePolicy('bitfit', LLAMA), (e: unknown) => e instanceof ModelError && e.code === 'TEMPLATE_NO_MATCH' && e.message.includes('biases'));
    // The policy is compact: one glob per role.
    assert.deepEqual(templatePolicy('lora-attention', LLAMA).rules.map((r) => r.match), ['*self_attn.{q,k,v,o}_proj.weight']);
  });

  it('GPT-2', () => {
    const attn = (n: string): boolean => /attn\.c_(attn|proj)\.weight$/.test(n);
    const linear = (n: string): boolean => attn(n) || /mlp\.c_(fc|proj)\.weight$/.test(n);
    expectClasses('lora-attention', GPT2, (n) => (attn(n) ? 'lowrank' : 'frozen'));
    expectClasses('lora-all-linear', GPT2, (n) => (linear(n) ? 'lowrank' : 'frozen'));
    // Biases are 1-D `.bias`; the 4-D attn.bias mask buffer is not a bias.
    expectClasses('bitfit', GPT2, (n, x) => (n.endsWith('.bias') && x.shape.length === 1 ? 'free' : 'frozen'));
    expectClasses('bounded-full', GPT2, boundedFull);
    // The LM head is tied to wte (no tensor of its own): head-only refuses.
    assert.throws(() => templatePolicy('head-only', GPT2), (e: unknown) => e instanceof ModelError && e.code === 'TEMPLATE_NO_MATCH');
  });

  it('BERT', () => {
    const attn = (n: string): boolean => /attention\.(self\.(query|key|value)|output\.dense)\.weight$/.test(n);
    const linear = (n: string): boolean => attn(n) || /(intermediate|output|pooler)\.dense\.weight$/.test(n);
    expectClasses('lora-attention', BERT, (n) => (attn(n) ? 'lowrank' : 'frozen'));
    expectClasses('lora-all-linear', BERT, (n) => (linear(n) ? 'lowrank' : 'frozen'));
    expectClasses('bitfit', BERT, (n) => (n.endsWith('.bias') || n === 'classifier.weight' ? 'free' : 'frozen'));
    expectClasses('head-only', BERT, (n) => (n.startsWith('classifier.') ? 'free' : 'frozen'));
    expectClasses('bounded-full', BERT, boundedFull); // position_ids (I64) stays frozen
  });

  it('CNN (4-D conv kernels) and plain MLPs', () => {
    expectClasses('lora-all-linear', CNN, (n) => (n.endsWith('conv1.weight') ? 'lowrank' : 'frozen'));
    expectClasses('bitfit', CNN, (n) => (n.endsWith('.bias') || n === 'fc.weight' ? 'free' : 'frozen'));
    expectClasses('head-only', CNN, (n) => (n.startsWith('fc.') ? 'free' : 'frozen'));
    expectClasses('bounded-full', CNN, boundedFull);
    assert.throws(() => templatePolicy('lora-attention', CNN), (e: unknown) => e instanceof ModelError && e.code === 'TEMPLATE_NO_MATCH');

    expectClasses('lora-all-linear', MLP, (n) => (/^layers\.\d\.weight$/.test(n) ? 'lowrank' : 'frozen'));
    expectClasses('bitfit', MLP, (n) => (n.endsWith('.bias') || n === 'head.weight' ? 'free' : 'frozen'));
    expectClasses('head-only', MLP, (n) => (n.startsWith('head.') ? 'free' : 'frozen'));
    expectClasses('bounded-full', MLP, boundedFull);
  });

  it('options change the parameters; unknown names are UNKNOWN_TEMPLATE', () => {
    const p = templatePolicy('lora-attention', LLAMA, { rank: 8, residualMaxLinf: null, fractionalBits: 20 });
    assert.deepEqual(p.rules[0], { match: '*self_attn.{q,k,v,o}_proj.weight', class: 'lowrank', rank: 8 });
    assert.equal(p.fractionalBits, 20);
    const b = templatePolicy('bounded-full', MLP, { maxRelativeL2: 0.1, maxLinf: 0.2 });
    assert.deepEqual(b.default, { class: 'norm', maxRelativeL2: 0.1 });
    assert.deepEqual(b.rules[0], { match: '*.bias', class: 'linf', maxLinf: 0.2 });
    assert.throws(() => templatePolicy('lora', LLAMA), (e: unknown) => e instanceof ModelError && e.code === 'UNKNOWN_TEMPLATE' && e.message.includes(TEMPLATE_NAMES.join(', ')));
  });

  it('fixes overlapping patterns with exact names, and refuses names glob syntax cannot express', () => {
    // `*.bias` (linf under bounded-full) would also catch the 4-D mask buffer, which is norm.
    const p = templatePolicy('bounded-full', GPT2);
    assert.ok(p.rules.some((r) => r.match === 'h.0.attn.bias' && r.class === 'norm'));
    // A 3-D `.bias` needs its own (norm) rule ahead of `*.bias`; `{1}` in its name would be glob syntax.
    const weird = [t('x.bias', [4]), t('m{1}.bias', [1, 1, 4])];
    assert.throws(() => templatePolicy('bounded-full', weird), (e: unknown) => e instanceof ModelError && e.code === 'TEMPLATE_AMBIGUOUS' && e.tensor === 'm{1}.bias');
  });

  it('describeResolution rows and their table', () => {
    const rows = describeResolution(templatePolicy('lora-attention', LLAMA), LLAMA);
    assert.equal(rows.length, LLAMA.length);
    assert.deepEqual(rows[1], {
      tensor: 'model.layers.0.self_attn.q_proj.weight',
      shape: [16, 16],
      dtype: 'BF16',
      class: 'lowrank',
      params: { rank: 16, residualMaxLinf: 2 ** -10 },
      rule: 0,
      match: '*self_attn.{q,k,v,o}_proj.weight',
    });
    assert.deepEqual(rows[0], { tensor: 'model.embed_tokens.weight', shape: [128, 16], dtype: 'BF16', class: 'frozen', params: {}, rule: 'default', match: null });
    const table = formatResolution(rows);
    assert.match(table, /^tensor\s+shape\s+dtype\s+class\s+params\s+rule\n/);
    assert.match(table, /model\.layers\.0\.self_attn\.q_proj\.weight\s+\[16, 16\]\s+BF16\s+lowrank\s+rank=16 residualMaxLinf=0\.0009765625\s+rules\[0\]/);
  });
});
