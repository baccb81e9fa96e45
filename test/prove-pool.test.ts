// The worker-thread proving pool gives the same block records and commitments as proving in
// this thread, carries drift violations back typed, and never leaves a request hanging.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inlineProver, startProverPool, type BlockProver } from '../activities/prove-pool.ts';
import type { TileWork } from '../activities/prove-block.ts';
import { encodeStatement, type DriftSpec } from '../smdp/statement.ts';
import { DriftPolicyViolation } from '../smdp/errors.ts';
import { testMsm } from './backend.ts';
import { commitSmall, type ProverContext } from '../smdp/pst.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';
import type { Srs } from '../smdp/srs.ts';
import { verifyBlockProof } from '../smdp/blocks.ts';
import { pairingCheck } from '../smdp/accumulator.ts';
import { encodeFloats, writeSafetensors } from '../model/safetensors.ts';
import { decodeProofRecord, decodeTileWork, decodeUnitWork, encodeProofRecord, encodeTileWork, encodeUnitWork } from '../activities/codec.ts';
import { groupUnits } from '../activities/prove-block.ts';
import { blockViolation } from '../activities/certify.ts';
import { recordStatements } from '../smdp/aggregate.ts';
import { verifyRecordProof } from '../smdp/blocks.ts';
import { SmdpError } from '../smdp/errors.ts';

let srs: Srs;
let ctx: ProverContext;
let pool: BlockProver;
before(async () => {
  srs = devSrs(6).srs;
  ctx = { srs, msm: testMsm };
  pool = await startProverPool(srs, 2);
});
after(async () => {
  await pool.close();
});

const MU = 4;
const base = Array.from({ length: 1 << MU }, (_, i) => ((i * 7919) % 2001) - 1000);
const delta = Float64Array.from({ length: 1 << MU }, (_, i) => ((i * 37) % 13) - 6); // ΣΔ² = 252

async function work(drift: DriftSpec, blockIndex = 0): Promise<TileWork> {
  return {
    input: {
      srsId: srs.id,
      job: 'job-pool',
      tensor: 'layers.0.mlp.up.weight',
      blockIndex,
      tensorShape: [4, 4],
      tile: { rowOffset: 0, colOffset: 0, muRows: 2, muCols: 2 },
      fractionalBits: 24,
      drift,
      cBase: await commitSmall(ctx, base),
    },
    delta,
  };
}

describe('tile work codec (the pipeline stores Δ as float64 of exact integers)', () => {
  it('unit works and unit records round-trip; a one-tile unit is stored as its tile work', async () => {
    const unit = await Promise.all([0, 1, 2].map((k) => work({ class: 'norm', maxSquaredNorm: 1000n }, k)));
    assert.deepEqual(encodeUnitWork(unit.slice(0, 1)), encodeTileWork(unit[0]!));
    const back = decodeUnitWork(encodeUnitWork(unit));
    assert.deepEqual(back.map((w) => w.input.blockIndex), [0, 1, 2]);
    assert.deepEqual(encodeUnitWork(back), encodeUnitWork(unit));
    const rec = await inlineProver(ctx).prove(unit);
    const stored = encodeProofRecord(rec);
    assert.deepEqual(encodeProofRecord(decodeProofRecord(stored)), stored);
    assert.throws(() => decodeProofRecord(stored.slice(0, stored.length - 1), 'proofs/x'), (e: unknown) => e instanceof SmdpError && /proofs\/x/.test(e.message));
    const one = encodeUnitWork(unit.slice(0, 2)).slice();
    new DataView(one.buffer).setUint32(11, 1); // the tile count after the 11-byte magic
    assert.throws(() => decodeUnitWork(one, 'blocks/y'), (e: unknown) => e instanceof SmdpError && e.code === 'BAD_VALUE' && /blocks\/y\.tiles\.length/.test(e.message));
  });

  it('round-trips Δ and the block input exactly', async () => {
    const w = await work({ class: 'norm', maxSquaredNorm: 300n }, 2);
    const back = decodeTileWork(encodeTileWork(w));
    assert.deepEqual(Array.from(back.delta), Array.from(delta));
    assert.ok(back.input.cBase.equals(w.input.cBase));
    assert.deepEqual(encodeTileWork(back), encodeTileWork(w));
  });

  it('refuses a Δ entry that is not a safe integer, naming it, when encoding and decoding', async () => {
    const w = await work({ class: 'norm', maxSquaredNorm: 300n });
    assert.throws(() => encodeTileWork({ ...w, delta: delta.map((x, i) => (i === 5 ? 2 ** 53 : x)) }), /delta\[5\] = 9007199254740992 is not a safe integer/);
    const bytes = encodeTileWork(w);
    // Δ[1] sits after the statement; find its float64 bytes and replace them with 0.5.
    const at = Buffer.from(bytes).indexOf(Buffer.from(new Float64Array([delta[0]!, delta[1]!]).buffer));
    assert.ok(at > 0, 'Δ found in the encoding');
    const bad = Uint8Array.from(bytes);
    bad.set(new Uint8Array(new Float64Array([0.5]).buffer), at + 8);
    assert.throws(() => decodeTileWork(bad, 'work/abc'), (e: unknown) => e instanceof SmdpError && /work\/abc\.delta\[1\]/.test(e.message) && /0\.5 is not a safe integer/.test(e.message));
  });
});

describe('proving pool (worker threads)', () => {
  it('proves the same block records as the inline prover, and they verify', async () => {
    const inline = inlineProver(ctx);
    for (const drift of [{ class: 'norm', maxSquaredNorm: 300n }, { class: 'linf', maxAbs: 6n }, { class: 'sparse', maxNonzeros: 16, reveal: false }, { class: 'free' }] as DriftSpec[]) {
      const w = await work(drift);
      const [a, b] = await Promise.all([pool.prove([w]), inline.prove([w])]);
      assert.ok('statement' in a && 'statement' in b, 'a one-tile unit is a block record');
      assert.deepEqual(encodeStatement(a.statement), encodeStatement(b.statement), `${drift.class}: statement`);
      assert.deepEqual(a.proofBytes, b.proofBytes, `${drift.class}: proof bytes`);
      const chk = verifyBlockProof(srs, a.statement, a.proofBytes, 'block');
      assert.ok(chk.valid && (chk.accumulator === null || pairingCheck(srs, chk.accumulator.evaluate())), `${drift.class}: verifies`);
    }
  });

  it('proves a unit of tiles like the inline prover; a refusal inside a unit names its block', async () => {
    const drift: DriftSpec = { class: 'norm', maxSquaredNorm: 1000n };
    const unit = await Promise.all([0, 1, 2].map((k) => work(drift, k)));
    const [a, b] = await Promise.all([pool.prove(unit), inlineProver(ctx).prove(unit)]);
    assert.deepEqual(recordStatements(a).map(encodeStatement), recordStatements(b).map(encodeStatement));
    assert.deepEqual(a.proofBytes, b.proofBytes);
    assert.equal(recordStatements(a).length, 3);
    const chk = verifyRecordProof(srs, a, 'unit');
    assert.ok(chk.valid && chk.accumulator !== null && pairingCheck(srs, chk.accumulator.evaluate()));
    const tight = await Promise.all([0, 1, 2].map((k) => work({ class: 'linf', maxAbs: 6n }, k)));
    tight[2] = { ...tight[2]!, delta: delta.map((x, i) => (i === 1 ? 7 : x)) };
    await assert.rejects(pool.prove(tight), (e: unknown) => e instanceof DriftPolicyViolation && e.block === 2 && e.check === 'linf');
    assert.deepEqual(blockViolation('t', 0, new DriftPolicyViolation('linf', '7', '6', 'x', 2))?.block, 2);
  });

  it('groups tiles into units: consecutive norm/linf/lowrank/hidden-sparse tiles of one size, evenly; revealed sparse and free alone', async () => {
    const n = await Promise.all(Array.from({ length: 7 }, (_, k) => work({ class: 'norm', maxSquaredNorm: 300n }, k)));
    assert.deepEqual(groupUnits(n, 3).map((u) => u.map((w) => w.input.blockIndex)), [[0, 1], [2, 3], [4, 5, 6]]);
    assert.deepEqual(groupUnits(n, 16).map((u) => u.length), [7]);
    assert.deepEqual(groupUnits(n, 1).map((u) => u.length), [1, 1, 1, 1, 1, 1, 1]);
    const revealed = await Promise.all([0, 1].map((k) => work({ class: 'sparse', maxNonzeros: 16, reveal: true }, k)));
    assert.deepEqual(groupUnits(revealed, 16).map((u) => u.length), [1, 1]);
    const hidden = await Promise.all([0, 1].map((k) => work({ class: 'sparse', maxNonzeros: 16, reveal: false }, k)));
    assert.deepEqual(groupUnits(hidden, 16).map((u) => u.length), [2]);
    const free = await Promise.all([0, 1].map((k) => work({ class: 'free' }, k)));
    assert.deepEqual(groupUnits(free, 16).map((u) => u.length), [1, 1]);
    const wide = { ...n[2]!, input: { ...n[2]!.input, tile: { ...n[2]!.input.tile, muCols: 3 } } };
    assert.deepEqual(groupUnits([n[0]!, n[1]!, wide, n[3]!], 16).map((u) => u.length), [2, 1, 1]);
    assert.throws(() => groupUnits(n, 0), /unit size/);
  });

  it('commits like commitSmall, many requests at once (queued over both workers)', async () => {
    const vectors = Array.from({ length: 6 }, (_, k) => Array.from({ length: 1 << MU }, (_, i) => ((i + 1) * (k + 3)) % 97 - 48));
    const points = await Promise.all(vectors.map((v) => pool.commit(v)));
    for (const [k, v] of vectors.entries()) assert.ok(points[k]!.equals(await commitSmall(ctx, v)), `vector ${k}`);
  });

  it('a tile outside its class comes back as a DriftPolicyViolation with its measured value', async () => {
    await assert.rejects(pool.prove([await work({ class: 'norm', maxSquaredNorm: 251n })]), (e: unknown) => {
      assert.ok(e instanceof DriftPolicyViolation, String(e));
      assert.equal(e.check, 'norm.l2');
      assert.equal(e.measured, 'Σ Δ² = 252');
      assert.match(e.bound, /251/);
      return true;
    });
  });

  it('other worker errors are rejected with their message, and the pool keeps serving', async () => {
    const bad = await work({ class: 'norm', maxSquaredNorm: 300n });
    await assert.rejects(pool.prove([{ ...bad, delta: delta.slice(1) }]), /./);
    await assert.rejects(pool.prove([{ ...bad, delta: delta.map((x, i) => (i === 3 ? 0.5 : x)) }]), /tensor layers\.0\.mlp\.up\.weight block 0: delta\[3\] = 0\.5 is not a safe integer/);
    const w = await work({ class: 'free' });
    const ok = await pool.prove([w]);
    assert.deepEqual(recordStatements(ok).map(encodeStatement), recordStatements(await inlineProver(ctx).prove([w])).map(encodeStatement));
  });

  it('requests after close are refused, not left pending', async () => {
    const p = await startProverPool(srs, 1);
    await p.close();
    await assert.rejects(p.commit(base), /closed/);
  });
});

describe('fti certify --workers (spawned)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fti-workers-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env, FTI_CACHE: join(dir, 'cache') };
  const fti = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { encoding: 'utf8', env });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const vals = (n: number, seed: number) => {
    let s = seed;
    return Float64Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647), (s / 2147483647 - 0.5) * 0.05));
  };

  before(async () => {
    const t = (v: Float64Array, shape: number[]) => ({ dtype: 'F32' as const, shape, data: encodeFloats(v, 'F32') });
    const names = ['a.up.weight', 'b.up.weight', 'c.up.weight'];
    const baseVals = names.map((_, i) => vals(32 * 16, i + 1));
    await writeSafetensors(join(dir, 'base.safetensors'), new Map(names.map((n, i) => [n, t(baseVals[i]!, [32, 16])])));
    const ft = baseVals.map((v) => v.map((x, i) => x + 1e-5 * Math.cos(i)));
    await writeSafetensors(join(dir, 'ft.safetensors'), new Map(names.map((n, i) => [n, t(ft[i]!, [32, 16])])));
    const over = ft.map((v, k) => (k === 2 ? v.map((x) => x + 0.01) : v));
    await writeSafetensors(join(dir, 'over.safetensors'), new Map(names.map((n, i) => [n, t(over[i]!, [32, 16])])));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ version: 1, default: { class: 'frozen' }, rules: [{ match: '*.up.weight', class: 'norm', maxL2: 0.001 }] }));
  });

  it('the certificate is byte-identical with 1 and 2 workers', () => {
    const outs = ['1', '2'].map((n) => {
      const out = join(dir, `w${n}`);
      const r = fti('certify', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--policy', join(dir, 'policy.json'), '--out', out, '--workers', n, '--json');
      assert.equal(r.code, 0, r.stderr);
      return out;
    });
    assert.deepEqual(readFileSync(join(outs[0]!, 'certificate.json')), readFileSync(join(outs[1]!, 'certificate.json')));
    assert.deepEqual(readFileSync(join(outs[0]!, 'certificate.bin')), readFileSync(join(outs[1]!, 'certificate.bin')));
    assert.deepEqual(readFileSync(join(outs[0]!, 'base-manifest.json')), readFileSync(join(outs[1]!, 'base-manifest.json')));
  });

  it('a violation found on a worker rejects the job (exit 3) naming tensor and bound', () => {
    const r = fti('certify', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'over.safetensors'), '--policy', join(dir, 'policy.json'), '--out', join(dir, 'over'), '--workers', '2', '--json');
    assert.equal(r.code, 3, r.stderr);
    const doc = JSON.parse(r.stdout) as { verdict: string; violations: { tensor: string; check: string }[] };
    assert.equal(doc.verdict, 'rejected');
    assert.deepEqual(doc.violations.map((v) => [v.tensor, v.check]), [['c.up.weight', 'norm.l2']]);
  });

  it('--workers must be a positive whole number (exit 2)', () => {
    for (const bad of ['0', 'two', '1.5', '-1']) {
      const r = fti('certify', '--base', join(dir, 'base.safetensors'), '--ft', join(dir, 'ft.safetensors'), '--policy', join(dir, 'policy.json'), '--out', join(dir, 'bad'), `--workers=${bad}`);
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--workers must be a whole number in 1\.\.256/);
    }
  });
});
