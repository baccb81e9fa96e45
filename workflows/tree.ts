/**
 * The aggregation tree's shape (PROTOCOLS §6, smdp/aggregate.ts `aggregationLevels` and
 * `nodeChildRange`), restated without crypto imports so workflow bundles stay small and
 * deterministic. test/workflows-tree.test.ts checks these agree with smdp's.
 */

/** Node counts per level: [#leaves, …, 1]; at least one level above the leaves. */
export function treeLevels(leaves: number, fanIn: number): number[] {
  const levels = [leaves];
  let n = leaves;
  do {
    n = Math.max(1, Math.ceil(n / fanIn));
    levels.push(n);
  } while (n > 1);
  return levels;
}

/**
 * Leaves per proving batch: the largest F^k ≤ `max` (k ≥ 1). A batch of F^k consecutive
 * leaves starting at a multiple of F^k is exactly the subtree of one node at level k, so a
 * batch child workflow can fold its own subtree and the parent folds the batch roots.
 */
export function batchShape(fanIn: number, max: number): { size: number; levels: number } {
  let size = fanIn;
  let levels = 1;
  while (size * fanIn <= max) {
    size *= fanIn;
    levels++;
  }
  return { size, levels };
}

/** Children [start, end) of node `index` over a level of `size` nodes. */
export function childRange(index: number, fanIn: number, size: number): { start: number; end: number } {
  const start = index * fanIn;
  return { start, end: Math.min(start + fanIn, size) };
}
