/** Binary form of a sumcheck proof: u32 rounds ‖ u8 (d+1) ‖ rounds·(d+1) scalars. */
import type { ByteReader, ByteWriter } from './bytes.ts';
import { badInput } from './errors.ts';
import type { SumcheckProof } from './sumcheck.ts';

export const MAX_SUMCHECK_ROUNDS = 64;
export const MAX_SUMCHECK_DEGREE = 16;

export function writeSumcheck(w: ByteWriter, p: SumcheckProof): void {
  w.u32(p.rounds.length);
  const width = p.rounds[0]?.length ?? 0;
  w.u8(width);
  for (const g of p.rounds) {
    if (g.length !== width) throw new Error('writeSumcheck: rounds of unequal degree');
    for (const e of g) w.scalar(e);
  }
}

export function readSumcheck(r: ByteReader, field: string): SumcheckProof {
  const n = r.count(`${field}.rounds`, MAX_SUMCHECK_ROUNDS);
  const width = r.u8(`${field}.width`);
  if (width > MAX_SUMCHECK_DEGREE + 1) badInput('LIMIT_EXCEEDED', `${r.what}.${field}.width`, `degree ${width - 1} exceeds ${MAX_SUMCHECK_DEGREE}`);
  const rounds: bigint[][] = [];
  for (let i = 0; i < n; i++) {
    const g: bigint[] = [];
    for (let x = 0; x < width; x++) g.push(r.scalar(`${field}.rounds[${i}][${x}]`));
    rounds.push(g);
  }
  return { rounds };
}
