/**
 * Block planner (issue 3 item 4; model/planner.ts; PROTOCOLS.md §1 "Blocks").
 *
 * Known tilings for 1-D, 2-D, 3-D, 4-D conv, scalar and empty tensors, column splitting of
 * long rows for elementwise classes and ROW_TOO_LONG for lowrank, the lowrank κ limits, the
 * field caps (smaller blocks for a loose norm budget, BOUND_TOO_LARGE past r), dtype and
 * shape errors, and the tensor-set violations of `planModel`. Then by property, over random
 * shapes, SRS sizes and classes: the verifier's own tensor-level check
 * (smdp/aggregate.ts `checkTensors`, which runs `matrixView` and the coverage rule: tiles
 * disjoint, each meeting the matrix, covering it exactly) accepts every plan; tiles are in
 * row-major block order and as large as the limits allow; and `tileIndices` maps the tiles
 * onto every flat index of the tensor exactly once, the rest being padding.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkTensors, matrixView } from '../smdp/aggregate.ts';
import type { BlockSummary } from '../smdp/classes/common.ts';
import { factorRankBits } from '../smdp/classes/lowrank.ts';
import { G1, R } from '../smdp/field.ts';
import type { BlockStatement, DriftSpec, TileGeometry } from '../smdp/statement.ts';
import { ModelError } from '../model/errors.ts';
import { floorSqrt, planModel, planTensor, tileIndices, type TensorMeta } from '../model/planner.ts';
import type { ResolvedTensor } from '../model/policy.ts';

const FREE: DriftSpec = { class: 'free' };
const LINF: DriftSpec = { class: 'linf', maxAbs: 100n };
const lowrank = (rank: number, residual: Extract<DriftSpec, { class: 'lowrank' }>['residual'] = { kind: 'none' }): DriftSpec => ({
  class: 'lowrank',
  rank,
  factorBitsA: 12,
  factorBitsB: 12,
  residual,
});

function resolved(name: string, drift: DriftSpec | null): ResolvedTensor {
  return { name, class: drift === null ? 'frozen' : drift.class, rule: 0, drift };
}

function plan(shape: number[], drift: DriftSpec | null, N: number, dtype = 'F32'): readonly TileGeometry[] {
  return planTensor({ name: 'w', shape, dtype }, resolved('w', drift), N).tiles;
}

const tile = (rowOffset: number, colOffset: number, muRows: number, muCols: number): TileGeometry => ({ rowOffset, colOffset, muRows, muCols });

function throwsCode(fn: () => unknown, code: string, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ModelError, `expected a ModelError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const f of fragments) assert.ok(e.message.includes(f), `${JSON.stringify(e.message)} should contain ${JSON.stringify(f)}`);
    return true;
  });
}

describe('planTensor: known tilings', () => {
  it('1-D, 2-D, 3-D, scalars: whole-row bands, as tall as fit', () => {
    assert.deepEqual(plan([10], FREE, 8), [tile(0, 0, 0, 4)]); // 1 × 10 → one 1 × 16 tile
    assert.deepEqual(plan([5, 3], LINF, 8), [tile(0, 0, 3, 2)]); // 8 × 4 covers 5 × 3
    assert.deepEqual(plan([5, 3], LINF, 4), [tile(0, 0, 2, 2), tile(4, 0, 2, 2)]); // 4 × 4 bands
    assert.deepEqual(plan([4, 2, 3], FREE, 4), [tile(0, 0, 1, 3), tile(2, 0, 1, 3)]); // 4 × 6
    assert.deepEqual(plan([], FREE, 8), [tile(0, 0, 0, 0)]); // a scalar is 1 × 1
    assert.deepEqual(plan([1], FREE, 0), [tile(0, 0, 0, 0)]);
    assert.deepEqual(plan([2, 2], FREE, 0), [tile(0, 0, 0, 0), tile(0, 1, 0, 0), tile(1, 0, 0, 0), tile(1, 1, 0, 0)]);
  });

  it('frozen and empty tensors need no tiles', () => {
    assert.deepEqual(plan([64, 64], null, 8), []);
    assert.deepEqual(plan([0], FREE, 8), []);
    assert.deepEqual(plan([0, 4], LINF, 8), []);
    assert.deepEqual(plan([4, 0, 3], lowrank(2), 8), []);
    const p = planTensor({ name: 'e', shape: [3, 0], dtype: 'F32' }, resolved('e', FREE), 8);
    assert.deepEqual([p.rows, p.cols, p.tiles.length], [3, 0, 0]);
  });

  it('4-D conv kernels: o × i·kh·kw; long rows split for elementwise classes, ROW_TOO_LONG for lowrank', () => {
    const p = planTensor({ name: 'conv', shape: [5, 3, 3, 3], dtype: 'F32' }, resolved('conv', LINF), 4);
    assert.deepEqual([p.rows, p.cols], [5, 27]);
    assert.deepEqual(
      p.tiles,
      [0, 1, 2, 3, 4].flatMap((r) => [tile(r, 0, 0, 4), tile(r, 16, 0, 4)]),
    );
    throwsCode(() => plan([5, 3, 3, 3], lowrank(2), 4), 'ROW_TOO_LONG', '"w"', '27 columns pad to 2^5', 'beyond the SRS size 2^4');
    // N = 6 fits rows of 2^5 and 2^1 factor rows: bands of 2 rows (A_t: 2^μt × 2^κ, μt ≤ N − μy).
    assert.deepEqual(plan([5, 3, 3, 3], lowrank(2), 6), [tile(0, 0, 1, 5), tile(2, 0, 1, 5), tile(4, 0, 1, 5)]);
    // Sparse and norm split columns just as linf does.
    assert.equal(plan([3, 100], { class: 'sparse', reveal: false, maxNonzeros: 3 }, 5).length, 3 * 4);
    assert.equal(plan([3, 100], { class: 'norm', maxSquaredNorm: 10n }, 5).length, 3 * 4);
  });

  it('lowrank: κ + μy ≤ N and κ + μt ≤ N', () => {
    assert.equal(plan([100, 16], lowrank(16), 8).length, 7); // κ = 4: bands of 2^4 rows
    assert.equal(plan([100, 8], lowrank(17), 8).length, 13); // κ = 5: bands of 2^3 rows
    throwsCode(() => plan([100, 16], lowrank(32), 8), 'ROW_TOO_LONG', 'rank 32 padded to 2^5 rows', '2^9 entries');
    assert.deepEqual(plan([3, 4], lowrank(1), 2), [tile(0, 0, 0, 2), tile(1, 0, 0, 2), tile(2, 0, 0, 2)]);
  });

  it('field caps: a loose norm budget gets smaller blocks; past r it is BOUND_TOO_LARGE', () => {
    // B = ⌊√T⌋ = 2^125: 2^μ·B² < r ≈ 2^254.9 holds for μ ≤ 4 only.
    const loose: DriftSpec = { class: 'norm', maxSquaredNorm: 1n << 250n };
    assert.deepEqual(plan([2, 64], loose, 8), [0, 1].flatMap((r) => [0, 16, 32, 48].map((c) => tile(r, c, 0, 4))));
    assert.deepEqual(plan([64, 4], loose, 8).length, 16); // 4-row bands of 4 columns
    throwsCode(() => plan([2, 2], { class: 'norm', maxSquaredNorm: 4n * R }, 8), 'BOUND_TOO_LARGE', '"w"', 'squared-norm bound');
    assert.equal(plan([2, 2], { class: 'linf', maxAbs: (R - 1n) / 2n }, 8).length, 1);
    throwsCode(() => plan([2, 2], { class: 'linf', maxAbs: (R + 1n) / 2n }, 8), 'BOUND_TOO_LARGE', 'linf bound');
    // The lowrank l2 residual: the same cap, but rows cannot split.
    const lr = lowrank(1, { kind: 'l2', maxSquaredNorm: 1n << 250n });
    assert.equal(plan([4, 16], lr, 8).length, 4);
    throwsCode(() => plan([4, 32], lr, 8), 'BOUND_TOO_LARGE', 'rows of 2^5 columns');
    throwsCode(() => plan([4, 4], lowrank(1, { kind: 'linf', maxAbs: R }), 8), 'BOUND_TOO_LARGE', 'residual linf bound');
  });

  it('floorSqrt: y² ≤ x < (y+1)², fast for inputs near r (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 520n }), (x) => {
        const y = floorSqrt(x);
        assert.ok(y * y <= x && x < (y + 1n) * (y + 1n));
      }),
      { numRuns: 500, seed: 3 },
    );
    assert.equal(floorSqrt(4n * R) ** 2n <= 4n * R, true);
  });

  it('dtypes and shapes', () => {
    throwsCode(() => plan([4], LINF, 8, 'I64'), 'UNSUPPORTED_DTYPE', '"w"', 'I64', 'linf');
    assert.equal(plan([4], FREE, 8, 'I64').length, 1); // free takes any dtype
    assert.equal(plan([4], null, 8, 'BOOL').length, 0); // frozen: a hash
    for (const dt of ['F64', 'F32', 'F16', 'BF16']) assert.equal(plan([4], lowrank(1), 8, dt).length, 1);
    throwsCode(() => plan([-1, 4], FREE, 8), 'BAD_SHAPE', 'dimension -1');
    throwsCode(() => plan([1.5], FREE, 8), 'BAD_SHAPE', 'dimension 1.5');
    throwsCode(() => plan([1, 1, 1, 1, 1, 1, 1, 1, 1], FREE, 8), 'BAD_SHAPE', '9 dimensions');
    throwsCode(() => plan([2 ** 27, 2 ** 27], null, 8), 'BAD_SHAPE', '2^53');
    assert.throws(() => plan([4], FREE, 33), /SRS size N/);
  });
});

describe('planModel: tensor-set violations', () => {
  const m = (name: string, shape: number[], dtype = 'F32'): TensorMeta => ({ name, shape, dtype });
  it('added (unless free), removed, reshaped, retyped', () => {
    const base = [m('a', [4, 4]), m('b', [4, 4]), m('c', [4]), m('d', [2]), m('g', [3])];
    const ft = [m('a', [4, 4]), m('b', [4, 2]), m('c', [4], 'BF16'), m('e', [8]), m('f', [8]), m('g', [3, 1], 'F16')];
    const r = [resolved('a', LINF), resolved('b', LINF), resolved('c', null), resolved('e', FREE), { ...resolved('f', null), rule: 'default' as const }, resolved('g', FREE)];
    const { plans, violations } = planModel(base, ft, r, 8);
    assert.deepEqual(
      plans.map((p) => [p.name, p.added, p.tiles.length]),
      [
        ['a', false, 1],
        ['e', true, 1],
      ],
    );
    assert.deepEqual(
      violations.map((v) => [v.tensor, v.kind]),
      [
        ['b', 'reshaped'],
        ['c', 'retyped'],
        ['f', 'added'],
        ['g', 'reshaped'],
        ['g', 'retyped'],
        ['d', 'removed'],
      ],
    );
    const detail = new Map(violations.map((v) => [`${v.tensor}/${v.kind}`, v.detail]));
    assert.equal(detail.get('b/reshaped'), 'tensor "b" has shape [4, 4] in the base and [4, 2] in the fine-tuned model');
    assert.equal(detail.get('c/retyped'), 'tensor "c" has dtype F32 in the base and BF16 in the fine-tuned model');
    assert.equal(detail.get('d/removed'), 'tensor "d" of the base is missing from the fine-tuned model');
    assert.match(detail.get('f/added')!, /only a tensor the policy classes free may be added, and the default rule classes it frozen/);
    assert.throws(() => planModel(base, ft, r.slice(1), 8), /no policy resolution for fine-tuned tensor "a"/);
  });
});

// ---------------------------------------------------------------------------------------
// Properties: the verifier's coverage rule, block order, maximal tiles, tileIndices
// ---------------------------------------------------------------------------------------

function statementsFor(name: string, shape: number[], drift: DriftSpec, tiles: readonly TileGeometry[]): { statements: BlockStatement[]; summaries: BlockSummary[] } {
  const statements = tiles.map((t, blockIndex) => ({
    srsId: 'srs',
    job: 'job',
    tensor: name,
    blockIndex,
    tensorShape: shape,
    tile: t,
    fractionalBits: 24,
    drift,
    cBase: G1.BASE,
    cFt: G1.BASE,
  }));
  const summary: BlockSummary =
    drift.class === 'norm'
      ? { squaredNorm: 0n }
      : drift.class === 'sparse'
        ? { nonzeros: 0 }
        : drift.class === 'lowrank'
          ? { factorCommitment: G1.BASE, ...(drift.residual.kind === 'l2' ? { squaredNorm: 0n } : {}) }
          : {};
  return { statements, summaries: tiles.map(() => summary) };
}

const ceilLog2 = (x: number): number => (x <= 1 ? 0 : Math.ceil(Math.log2(x)));

describe('planner properties', () => {
  const shapeArb = fc.oneof(
    fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 4 }),
    fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 2 }),
  );
  const driftArb = fc.oneof(
    fc.constant<DriftSpec>(FREE),
    fc.constant<DriftSpec>(LINF),
    fc.constant<DriftSpec>({ class: 'sparse', reveal: true, maxNonzeros: 5 }),
    fc.bigInt({ min: 0n, max: 1n << 252n }).map<DriftSpec>((T) => ({ class: 'norm', maxSquaredNorm: T })),
    fc.integer({ min: 1, max: 40 }).map((rank) => lowrank(rank)),
    fc.integer({ min: 1, max: 8 }).map((rank) => lowrank(rank, { kind: 'l2', maxSquaredNorm: 1n << 240n })),
  );

  it('every plan passes the verifier’s tensor checks; tiles are ordered, maximal and index every entry once', () => {
    let planned = 0;
    fc.assert(
      fc.property(shapeArb, fc.integer({ min: 0, max: 8 }), driftArb, (shape, N, drift) => {
        let tiles: readonly TileGeometry[];
        try {
          tiles = plan(shape, drift, N);
        } catch (e) {
          // Only lowrank rows wider than the SRS (or its field cap) may be refused.
          assert.ok(e instanceof ModelError && ['ROW_TOO_LONG', 'BOUND_TOO_LARGE'].includes(e.code), String(e));
          assert.equal(drift.class, 'lowrank');
          return;
        }
        planned++;
        const { rows, cols } = matrixView(shape);
        const total = Number(rows * cols);
        if (total === 0) {
          assert.equal(tiles.length, 0);
          return;
        }
        // The verifier's rule, by the verifier's code.
        const { statements, summaries } = statementsFor('w', shape, drift, tiles);
        const check = checkTensors(statements, summaries);
        assert.ok(check.ok, check.ok ? '' : check.failing.reason);
        // Row-major block order, and block sizes within the SRS (and lowrank's κ limits).
        for (let i = 1; i < tiles.length; i++) {
          const [a, b] = [tiles[i - 1]!, tiles[i]!];
          assert.ok(a.rowOffset < b.rowOffset || (a.rowOffset === b.rowOffset && a.colOffset < b.colOffset));
        }
        for (const t of tiles) {
          assert.ok(t.muRows + t.muCols <= N);
          if (drift.class === 'lowrank') {
            const kappa = factorRankBits(drift.rank);
            assert.equal(t.colOffset, 0);
            assert.ok(kappa + t.muRows <= N && kappa + t.muCols <= N);
          }
        }
        // As large as fits: a whole-matrix band, or a tile that cannot grow under the limits.
        const muY = ceilLog2(Number(cols));
        const first = tiles[0]!;
        if (first.muCols === muY && drift.class !== 'norm' && drift.class !== 'lowrank') {
          assert.ok(first.muRows === ceilLog2(Number(rows)) || first.muRows + first.muCols === N);
        }
        if (first.muCols < muY) assert.equal(first.muRows, 0); // split rows: one row per tile
        // tileIndices: each flat index exactly once; everything else is padding.
        const seen = new Uint8Array(total);
        let padding = 0;
        for (const t of tiles) {
          for (const ix of tileIndices(shape, t)) {
            if (ix < 0) padding++;
            else {
              assert.ok(Number.isInteger(ix) && ix < total);
              seen[ix]!++;
            }
          }
        }
        assert.ok(seen.every((x) => x === 1));
        assert.equal(padding, tiles.reduce((s, t) => s + 2 ** (t.muRows + t.muCols), 0) - total);
      }),
      { numRuns: 1500, seed: 11 },
    );
    assert.ok(planned > 1000);
  });

  it('tileIndices: row-major within the tile, index row·2^μy + col, matrix row-major in the tensor', () => {
    // 3 × 5 matrix view of [3, 5]; a 2 × 4 tile at (1, 4) (a split row piece would be 1 × w).
    assert.deepEqual([...tileIndices([3, 5], tile(1, 4, 1, 2))], [9, -1, -1, -1, 14, -1, -1, -1]);
    // [2, 2, 2] → 2 × 4; the whole matrix in one 2 × 4 tile is the identity.
    assert.deepEqual([...tileIndices([2, 2, 2], tile(0, 0, 1, 2))], [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual([...tileIndices([], tile(0, 0, 0, 1))], [0, -1]);
  });
});
