/**
 * Certificate codec and verifier (smdp/certificate.ts, smdp/verifier.ts; PROTOCOLS.md §6,
 * DESIGN.md "Certificate"; ../../shared/).
 *
 * Fixture: a certificate over an INSECURE dev SRS (N = 6) with a norm tensor (2 blocks), a
 * frozen tensor, a revealed-sparse tensor, a low-rank tile, an linf tensor and a free tensor,
 * assembled the way the pipeline's finalize step does (aggregateBlocks + provenTensorResult +
 * sealCertificate). Shown here:
 *   - round trip: decode(encode(c)) = c, encoding is byte-stable, any JSON whitespace decodes;
 *   - the verifier accepts it and rejects each forgery: edited JSON fields (bound, rank, k, s,
 *     SRS id, base digest, summaries, frozen hashes, …) — with the stale digest the decoder
 *     throws DIGEST_MISMATCH, re-sealed the verifier rejects; flipped blob bytes likewise;
 *     swapped blocks; a forged accumulator (altered, or the identity, which passes the pairing
 *     on its own); a block failing its pairing is named;
 *   - every decoder error code, caps, and a fuzz property that arbitrary input gives only
 *     SmdpError; encode∘decode identity on generated certificates (fast-check); the digest
 *     covers every JSON field.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes } from '@noble/hashes/utils.js';
import { aggregateBlocks, type BlockRecord } from '../smdp/aggregate.ts';
import { encodeBlockProof } from '../smdp/blocks.ts';
import {
  CERT_BLOB_MAGIC,
  canonicalJson,
  certificateDigest,
  decodeCertificate,
  decodeCertificateBlob,
  encodeCertificate,
  provenTensorResult,
  sealCertificate,
  type Certificate,
  type CertificateBody,
  type JsonValue,
  type TensorResult,
} from '../smdp/certificate.ts';
import { commitFactorB, proveLowRank } from '../smdp/classes/lowrank.ts';
import { decodeNormProof, encodeNormProof, proveNormBound, type BlockInput } from '../smdp/classes/norm.ts';
import { encodeSparseRevealedProof, proveSparseRevealed } from '../smdp/classes/sparse.ts';
import { SmdpError, type SmdpErrorCode } from '../smdp/errors.ts';
import { G1 } from '../smdp/field.ts';
import { testMsm } from './backend.ts';
import { commitSmall, type ProverContext } from '../smdp/pst.ts';
import { devSrs } from '../smdp/srs-insecure-dev.ts';
import type { Srs } from '../smdp/srs.ts';
import type { BlockStatement, DriftSpec, TileGeometry } from '../smdp/statement.ts';
import { verifyCertificate, type BaseTensorInfo, type CertificateVerdict } from '../smdp/verifier.ts';

const N = 6;
const JOB = 'job-cert';
const FC_SEED = 0xce47;
const FAN_IN = 4;
const enc = new TextEncoder();
const hex = (b: Uint8Array): string => bytesToHex(b);
const sha = (s: string): string => hex(sha256(enc.encode(s)));

let srs: Srs;
let ctx: ProverContext;
let cert: Certificate;
let files: { json: string; blob: Uint8Array };
const BASE_DIGEST = sha('base manifest');
const POLICY_DIGEST = sha('policy');
const FROZEN_SHA = sha('emb raw bytes');

const tile = (rowOffset: number, colOffset: number, muRows: number, muCols: number): TileGeometry => ({ rowOffset, colOffset, muRows, muCols });

async function inputFor(tensor: string, blockIndex: number, tensorShape: number[], t: TileGeometry, drift: DriftSpec, seed: number): Promise<BlockInput> {
  const base = Array.from({ length: 1 << (t.muRows + t.muCols) }, (_, i) => ((i * 29 + seed * 13) % 97) - 48);
  return { srsId: srs.id, job: JOB, tensor, blockIndex, tensorShape, tile: t, fractionalBits: 24, drift, cBase: await commitSmall(ctx, base) };
}

function delta(n: number, seed: number, amp: number): bigint[] {
  // i² + 3i + seed: not constant modulo any small 2·amp + 1.
  return Array.from({ length: n }, (_, i) => BigInt(((i * i + 3 * i + seed) % (2 * amp + 1)) - amp));
}

/** Finalize: aggregate, state the per-tensor results, insert the frozen tensor, seal. */
function assemble(blocks: readonly BlockRecord[], frozen: readonly TensorResult[] = []): Certificate {
  const agg = aggregateBlocks(srs, blocks, FAN_IN);
  assert.ok(agg.ok, agg.ok ? '' : JSON.stringify(agg.failing));
  const tensors = agg.tensors.map(provenTensorResult);
  tensors.splice(1, 0, ...frozen);
  const body: CertificateBody = {
    version: 1,
    job: JOB,
    baseManifestDigest: BASE_DIGEST,
    policyDigest: POLICY_DIGEST,
    fineTunedFiles: [{ name: 'model.safetensors', sha256: sha('ft file') }],
    srs: { id: srs.id, kind: srs.kind, N: srs.N },
    fractionalBits: 24,
    tensors,
    fanIn: FAN_IN,
    blocks,
    accumulator: agg.accumulator,
    root: agg.root,
  };
  return sealCertificate(body);
}

const FROZEN: TensorResult = { kind: 'frozen', verdict: 'valid', name: 'emb', baseSha256: FROZEN_SHA, ftSha256: FROZEN_SHA };
let blocks: BlockRecord[];

before(async () => {
  const t0 = performance.now();
  srs = devSrs(N).srs;
  ctx = { srs, msm: testMsm };
  const out: BlockRecord[] = [];
  const norm: DriftSpec = { class: 'norm', maxSquaredNorm: 300n };
  for (let b = 0; b < 2; b++) {
    const { statement, proof } = await proveNormBound(ctx, await inputFor('attn.q', b, [4, 8], tile(2 * b, 0, 1, 3), norm, b), delta(16, b, 2));
    out.push({ statement, proofBytes: encodeNormProof(proof) });
  }
  {
    const d = new Array<bigint>(8).fill(0n);
    d[2] = 4n;
    d[7] = -1n;
    const { statement, proof } = await proveSparseRevealed(ctx, await inputFor('head', 0, [2, 4], tile(0, 0, 1, 2), { class: 'sparse', reveal: true, maxNonzeros: 4 }, 5), d);
    out.push({ statement, proofBytes: encodeSparseRevealedProof(proof) });
  }
  {
    // rank 2, λ = 1: Δ = A·B on a 4 × 8 tile.
    const B = Array.from({ length: 16 }, (_, i) => BigInt(((i * 3) % 5) - 2));
    const A = Array.from({ length: 8 }, (_, i) => BigInt((i % 3) - 1));
    const d: bigint[] = [];
    for (let row = 0; row < 4; row++) for (let c = 0; c < 8; c++) d.push(A[row * 2]! * B[c]! + A[row * 2 + 1]! * B[8 + c]!);
    const drift: DriftSpec = { class: 'lowrank', rank: 2, factorBitsA: 12, factorBitsB: 12, residual: { kind: 'none' } };
    const cB = await commitFactorB(ctx, B, 1, 3);
    const { statement, proof } = await proveLowRank(ctx, await inputFor('lora.w', 0, [4, 8], tile(0, 0, 2, 3), drift, 6), d, { A, B, cB });
    out.push({ statement, proofBytes: encodeBlockProof({ kind: 'lowrank', proof }) });
  }
  {
    const { statement, proof } = await proveNormBound(ctx, await inputFor('ln.b', 0, [8], tile(0, 0, 0, 3), { class: 'linf', maxAbs: 2n }, 7), delta(8, 3, 2));
    out.push({ statement, proofBytes: encodeNormProof(proof) });
  }
  {
    const input = await inputFor('free.x', 0, [4], tile(0, 0, 0, 2), { class: 'free' }, 8);
    out.push({ statement: { ...input, cFt: await commitSmall(ctx, [1, 2, 3, 4]) }, proofBytes: new Uint8Array(0) });
  }
  blocks = out;
  cert = assemble(blocks, [FROZEN]);
  files = encodeCertificate(cert);
  console.log(`# certificate fixture: ${blocks.length} blocks, ${cert.tensors.length} tensors, JSON ${files.json.length} B, blob ${files.blob.length} B, built in ${(performance.now() - t0).toFixed(0)} ms`);
});

// ---------------------------------------------------------------------------------------------
// helpers

type Json = { [key: string]: unknown };

/** Re-seal edited JSON: blob SHA-256, length and digest recomputed as an honest encoder would. */
function reseal(obj: Json, blob: Uint8Array): string {
  const body: Json = { ...obj, proofBlob: { sha256: hex(sha256(blob)), bytes: blob.length } };
  delete body.digest;
  const digest = hex(sha256(concatBytes(enc.encode(canonicalJson(body as JsonValue)), sha256(blob))));
  return JSON.stringify({ ...body, digest }, null, 1);
}

function parsed(): Json {
  return JSON.parse(files.json) as Json;
}

function expectCode(fn: () => unknown, code: SmdpErrorCode, field?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SmdpError, `expected SmdpError(${code}), got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    if (field) assert.match(e.field, field);
    return true;
  });
}

/** Decode and verify; an undecodable certificate counts as not accepted. */
function verdictOf(json: string, blob: Uint8Array, expected = {}): CertificateVerdict | SmdpError {
  let c: Certificate;
  try {
    c = decodeCertificate(json, blob);
  } catch (e) {
    if (e instanceof SmdpError) return e;
    throw e;
  }
  return verifyCertificate(srs, c, expected);
}

function assertNotAccepted(v: CertificateVerdict | SmdpError, what: string, pattern?: RegExp): void {
  if (v instanceof SmdpError) return;
  assert.equal(v.valid, false, `${what}: accepted`);
  if (pattern && !v.valid) assert.match(v.reason, pattern, what);
}

function assertRejectedByVerifier(v: CertificateVerdict | SmdpError, what: string, pattern?: RegExp): void {
  assert.ok(!(v instanceof SmdpError), `${what}: expected a decodable certificate, got ${v instanceof SmdpError ? v.message : ''}`);
  assertNotAccepted(v, what, pattern);
}

/** A comparable form: points, bytes and bigints as strings. */
function normalize(x: unknown): unknown {
  if (x instanceof G1) return `G1:${hex(x.toBytes(true))}`;
  if (x instanceof Uint8Array) return `bytes:${hex(x)}`;
  if (typeof x === 'bigint') return `n:${x}`;
  if (Array.isArray(x)) return x.map(normalize);
  if (typeof x === 'object' && x !== null) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, normalize(v)]));
  return x;
}

// ---------------------------------------------------------------------------------------------

describe('round trip and the honest certificate', () => {
  it('decode(encode(c)) = c; re-encoding is byte-identical; the verifier accepts', () => {
    const t0 = performance.now();
    const d = decodeCertificate(files.json, files.blob);
    const t1 = performance.now();
    assert.deepEqual(normalize(d), normalize(cert));
    const again = encodeCertificate(d);
    assert.equal(again.json, files.json);
    assert.deepEqual(again.blob, files.blob);
    const v = verifyCertificate(srs, d, { baseManifestDigest: BASE_DIGEST, policyDigest: POLICY_DIGEST });
    const t2 = performance.now();
    assert.ok(v.valid, v.valid ? '' : v.reason);
    assert.deepEqual(
      v.tensors.map((t) => [t.name, t.class, t.verdict.valid]),
      [
        ['attn.q', 'norm', true],
        ['emb', 'frozen', true],
        ['head', 'sparse', true],
        ['lora.w', 'lowrank', true],
        ['ln.b', 'linf', true],
        ['free.x', 'free', true],
      ],
    );
    console.log(`# decode ${(t1 - t0).toFixed(0)} ms, verify ${(t2 - t1).toFixed(0)} ms (${blocks.length} blocks, N = ${N})`);
  });

  it('the JSON is sorted, indented, bigint-safe; any whitespace decodes to the same digest', () => {
    const o = parsed();
    assert.deepEqual(Object.keys(o), [...Object.keys(o)].sort());
    const t0 = (o.tensors as Json[])[0]!;
    assert.deepEqual(t0.params, { maxSquaredNorm: '300' });
    assert.equal(typeof (t0.summary as Json).squaredNorm, 'string');
    const minified = JSON.stringify(o);
    assert.equal(decodeCertificate(minified, files.blob).digest, cert.digest);
    assert.equal(decodeCertificate(enc.encode(minified), files.blob).digest, cert.digest);
  });

  it('the verifier holds the base manifest: frozen hashes, C_base, completeness', () => {
    const baseTensors = new Map<string, BaseTensorInfo>([
      ['attn.q', { blockCommitments: [blocks[0]!.statement.cBase, blocks[1]!.statement.cBase] }],
      ['emb', { sha256: FROZEN_SHA }],
      ['head', {}],
      ['lora.w', {}],
      ['ln.b', {}],
    ]);
    const ok = verifyCertificate(srs, cert, { baseTensors });
    assert.ok(ok.valid, ok.valid ? '' : ok.reason);
    const tamper = (name: string, info: BaseTensorInfo | null): Map<string, BaseTensorInfo> => {
      const m = new Map(baseTensors);
      if (info === null) m.delete(name);
      else m.set(name, info);
      return m;
    };
    assertNotAccepted(verifyCertificate(srs, cert, { baseTensors: tamper('emb', { sha256: sha('other') }) }), 'frozen hash vs manifest', /differs from the base manifest's/);
    assertNotAccepted(
      verifyCertificate(srs, cert, { baseTensors: tamper('attn.q', { blockCommitments: [blocks[1]!.statement.cBase, blocks[1]!.statement.cBase] }) }),
      'C_base vs manifest',
      /C_base differs from the base manifest's/,
    );
    assertNotAccepted(verifyCertificate(srs, cert, { baseTensors: tamper('removed.w', {}) }), 'removed tensor', /missing from the certificate/);
    assertNotAccepted(verifyCertificate(srs, cert, { baseTensors: tamper('ln.b', null) }), 'added non-free tensor', /an added tensor must be free/);
    // free.x is not in the manifest: added tensors may be free (accepted above).
  });

  it('an empty certificate (frozen tensors only) round-trips and verifies', () => {
    const c = assemble([], [FROZEN]);
    const f = encodeCertificate(c);
    const v = verifyCertificate(srs, decodeCertificate(f.json, f.blob));
    assert.ok(v.valid, v.valid ? '' : v.reason);
    const changed = assemble([], [{ ...FROZEN, ftSha256: sha('changed') }]);
    const w = verifyCertificate(srs, changed);
    assert.ok(!w.valid && /frozen tensor "emb" changed/.test(w.reason));
    assert.equal(w.tensors[0]!.verdict.valid, false);
  });
});

describe('a prover\'s prior aggregate (one pass over the blocks in its self-check)', () => {
  it('is used only for the certificate\'s own block records, and changes no verdict', () => {
    const c = assemble(blocks, [FROZEN]);
    const prior = aggregateBlocks(srs, blocks, FAN_IN);
    assert.equal(verifyCertificate(srs, c, {}, { blocks, fanIn: FAN_IN, result: prior }).valid, true);
    // It is used: a deliberately wrong prior for the same records is caught by the checks that
    // still run on it (the stated root no longer matches the "fold").
    assert.ok(prior.ok);
    const wrong = { ...prior, root: '0'.repeat(64) };
    const w = verifyCertificate(srs, c, {}, { blocks, fanIn: FAN_IN, result: wrong });
    assert.ok(!w.valid && /proof index root mismatch/.test(w.reason), 'the prior was used');
    // It is ignored for other records: a tampered block (re-sealed certificate) with the honest
    // prior is re-aggregated and rejected; so is a prior for another fan-in.
    const p = decodeNormProof(blocks[0]!.proofBytes);
    const bits = [...p.range.bitCommitments];
    bits[0] = bits[0]!.add(G1.BASE);
    const tampered = [{ statement: blocks[0]!.statement, proofBytes: encodeNormProof({ ...p, range: { ...p.range, bitCommitments: bits } }) }, ...blocks.slice(1)];
    const bad = sealCertificate({ ...c, blocks: tampered });
    const v = verifyCertificate(srs, bad, {}, { blocks, fanIn: FAN_IN, result: prior });
    assert.ok(!v.valid && /block 0/.test(v.reason), 'tampered records: the prior is not used');
    const other = aggregateBlocks(srs, blocks, 2);
    assert.equal(verifyCertificate(srs, c, {}, { blocks, fanIn: 2, result: { ...other, root: '0'.repeat(64) } as typeof other }).valid, true, 'fan-in differs: recomputed');
  });
});

describe('edited JSON fields: stale digest → DIGEST_MISMATCH, re-sealed → rejected', () => {
  const edits: [string, (o: Json) => void, RegExp | undefined][] = [
    ['norm bound', (o) => (((o.tensors as Json[])[0]!.params as Json).maxSquaredNorm = '301'), /other parameters/],
    ['linf bound', (o) => (((o.tensors as Json[])[4]!.params as Json).maxAbs = '3'), /other parameters/],
    ['rank', (o) => (((o.tensors as Json[])[3]!.params as Json).rank = 1), /other parameters/],
    ['summary rank', (o) => (((o.tensors as Json[])[3]!.summary as Json).rank = 1), /states rank 1/],
    ['k', (o) => (((o.tensors as Json[])[2]!.params as Json).maxNonzeros = 5), /other parameters/],
    ['reveal', (o) => (((o.tensors as Json[])[2]!.params as Json).reveal = false), /other parameters/],
    ['s', (o) => (o.fractionalBits = 16), /quantization s = 24, the certificate states 16/],
    ['summary nonzeros', (o) => (((o.tensors as Json[])[2]!.summary as Json).nonzeros = 1), /states 1 nonzeros/],
    ['summary squared norm', (o) => (((o.tensors as Json[])[0]!.summary as Json).squaredNorm = '1'), /states squared norm 1/],
    ['summary blocks', (o) => (((o.tensors as Json[])[0]!.summary as Json).blocks = 1), /states 1 blocks/],
    ['summary C_B', (o) => (((o.tensors as Json[])[3]!.summary as Json).factorCommitment = hex(G1.BASE.toBytes(true))), /C_B/],
    ['frozen ft hash', (o) => (((o.tensors as Json[])[1]!.frozen as Json).ftSha256 = sha('x')), /changed/],
    ['tensor name', (o) => ((o.tensors as Json[])[4]!.name = 'ln.c'), /not listed|without blocks/],
    ['tensor dropped', (o) => (o.tensors as Json[]).splice(4, 1), /not listed/],
    ['tensor order', (o) => (o.tensors as Json[]).reverse(), /order/],
    ['stated rejected verdict', (o) => Object.assign((o.tensors as Json[])[5]!, { verdict: 'rejected', reason: 'x' }), /recorded|records it as rejected/],
    ['job', (o) => (o.job = 'other-job'), /blocks state job/],
    ['srs id', (o) => ((o.srs as Json).id = sha('other srs')), /certificate is for SRS/],
    ['srs N', (o) => ((o.srs as Json).N = N + 1), undefined],
    ['srs kind', (o) => ((o.srs as Json).kind = 'ceremony'), /kind ceremony/],
    ['base digest', (o) => (o.baseManifestDigest = sha('other base')), /base manifest/],
    ['policy digest', (o) => (o.policyDigest = sha('other policy')), /policy/],
  ];
  for (const [what, edit, pattern] of edits) {
    it(what, () => {
      const o = parsed();
      edit(o);
      expectCode(() => decodeCertificate(JSON.stringify(o), files.blob), what === 'srs N' ? 'BAD_VALUE' : 'DIGEST_MISMATCH');
      const v = verdictOf(reseal(o, files.blob), files.blob, { baseManifestDigest: BASE_DIGEST, policyDigest: POLICY_DIGEST });
      if (what === 'srs N') {
        assert.ok(v instanceof SmdpError && v.code === 'BAD_VALUE', 'blob N disagrees with the JSON');
        return;
      }
      assertRejectedByVerifier(v, what, pattern);
    });
  }
});

describe('blob tampering', () => {
  it('every flipped blob byte with the original JSON is DIGEST_MISMATCH', () => {
    const t0 = performance.now();
    for (let pos = 0; pos < files.blob.length; pos++) {
      const b = files.blob.slice();
      b[pos] = b[pos]! ^ (1 << (pos % 8));
      expectCode(() => decodeCertificate(files.json, b), 'DIGEST_MISMATCH', /proofBlob\.sha256/);
    }
    console.log(`# ${files.blob.length} blob flips checked in ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it('flipped blob bytes with the JSON re-sealed: SmdpError or rejected, in every region', () => {
    const d = decodeCertificateBlob(files.blob);
    const accStart = files.blob.length - 32 - 48 * (N + 1);
    const positions = [0, 7, 8, 12, 16, 20, 24, 40, 80, 150, 300, 500, 900, 1500, 2500, accStart - 5, accStart + 1, accStart + 100, files.blob.length - 40, files.blob.length - 1];
    assert.ok(d.blocks.length === blocks.length);
    let decodeErrors = 0;
    for (const pos of positions.filter((p) => p < files.blob.length)) {
      const b = files.blob.slice();
      b[pos] = b[pos]! ^ (1 << (pos % 8));
      const v = verdictOf(reseal(parsed(), b), b);
      if (v instanceof SmdpError) decodeErrors++;
      assertNotAccepted(v, `blob byte ${pos}`);
    }
    console.log(`# re-sealed blob flips: ${decodeErrors} bad input, ${positions.length - decodeErrors} rejected by the verifier`);
  });

  it('swapped blocks (re-sealed) are rejected', () => {
    const swapped = sealCertificate({ ...cert, blocks: [blocks[1]!, blocks[0]!, ...blocks.slice(2)] });
    const v = verifyCertificate(srs, swapped);
    assert.ok(!v.valid && /in order/.test(v.reason), v.valid ? '' : v.reason);
    assert.equal(v.tensors[0]!.verdict.valid, false);
    assert.match(v.tensors[0]!.verdict.valid ? '' : v.tensors[0]!.verdict.reason, /block/);
  });

  it('a forged accumulator is rejected: altered, or the identity (which passes the pairing alone)', () => {
    const altered = cert.accumulator.slice();
    altered[0] = altered[0]!.add(G1.BASE);
    for (const accumulator of [altered, cert.accumulator.map(() => G1.ZERO)]) {
      const forged = sealCertificate({ ...cert, accumulator });
      const f = encodeCertificate(forged);
      const v = verdictOf(f.json, f.blob);
      assertRejectedByVerifier(v, 'forged accumulator', /forged accumulator: P_0/);
    }
    const stale = { ...cert, accumulator: altered }; // not re-sealed: the digest no longer matches
    const v = verifyCertificate(srs, stale);
    assert.ok(!v.valid && /digest mismatch/.test(v.reason));
  });

  it('a forged root is rejected', () => {
    const v = verifyCertificate(srs, sealCertificate({ ...cert, root: sha('root') }));
    assert.ok(!v.valid && /root mismatch/.test(v.reason));
  });

  it('a block failing its pairing (accumulator honestly folded from it) is named', () => {
    const p = decodeNormProof(blocks[1]!.proofBytes);
    const quotients = p.quotients.slice();
    quotients[1] = quotients[1]!.add(G1.BASE);
    const bad = blocks.slice();
    bad[1] = { statement: blocks[1]!.statement, proofBytes: encodeNormProof({ ...p, quotients }) };
    const c = assemble(bad, [FROZEN]);
    const v = verifyCertificate(srs, c);
    assert.ok(!v.valid && /final multi-pairing fails \(blocks at positions 1 fail alone\)/.test(v.reason), v.valid ? '' : v.reason);
    const byName = new Map(v.tensors.map((t) => [t.name, t.verdict]));
    assert.match(byName.get('attn.q')!.valid ? '' : (byName.get('attn.q') as { reason: string }).reason, /block 1 \(position 1\) fails its pairing check/);
    assert.match(byName.get('head')!.valid ? '' : (byName.get('head') as { reason: string }).reason, /not verified/);
  });

  it('a certificate for a different SRS of the same size is rejected', () => {
    const other = devSrs(N, 'another-seed').srs;
    const v = verifyCertificate(other, cert);
    assert.ok(!v.valid && /certificate is for SRS/.test(v.reason));
  });
});

describe('decoder: every error code names the field', () => {
  it('BAD_JSON / BAD_MAGIC / UNSUPPORTED_VERSION / BAD_VALUE / LIMIT_EXCEEDED in the JSON', () => {
    expectCode(() => decodeCertificate('{', files.blob), 'BAD_JSON');
    expectCode(() => decodeCertificate(new Uint8Array([0x7b, 0xff, 0x7d]), files.blob), 'BAD_JSON');
    expectCode(() => decodeCertificate('[]', files.blob), 'BAD_MAGIC', /format/);
    const edit = (f: (o: Json) => void): string => {
      const o = parsed();
      f(o);
      return reseal(o, files.blob);
    };
    expectCode(() => decodeCertificate(edit((o) => (o.format = 'x')), files.blob), 'BAD_MAGIC', /format/);
    expectCode(() => decodeCertificate(edit((o) => (o.version = 2)), files.blob), 'UNSUPPORTED_VERSION', /version/);
    expectCode(() => decodeCertificate(edit((o) => (o.extra = 1)), files.blob), 'BAD_JSON', /certificate\.extra/);
    expectCode(() => decodeCertificate(edit((o) => delete o.job), files.blob), 'BAD_JSON', /certificate\.job/);
    expectCode(() => decodeCertificate(edit((o) => ((o.tensors as Json[])[0]!.extra = true)), files.blob), 'BAD_JSON', /tensors\[0\]\.extra/);
    expectCode(() => decodeCertificate(edit((o) => (((o.tensors as Json[])[0]!.summary as Json).nonzeros = 1)), files.blob), 'BAD_JSON', /summary\.nonzeros/);
    expectCode(() => decodeCertificate(edit((o) => (((o.tensors as Json[])[0]!.params as Json).maxSquaredNorm = 300)), files.blob), 'BAD_JSON', /maxSquaredNorm/);
    expectCode(() => decodeCertificate(edit((o) => (((o.tensors as Json[])[0]!.params as Json).maxSquaredNorm = '0300')), files.blob), 'BAD_VALUE', /maxSquaredNorm/);
    expectCode(() => decodeCertificate(edit((o) => (((o.tensors as Json[])[0]!.params as Json).maxSquaredNorm = '1'.repeat(200))), files.blob), 'LIMIT_EXCEEDED', /maxSquaredNorm/);
    expectCode(() => decodeCertificate(edit((o) => (o.baseManifestDigest = BASE_DIGEST.toUpperCase())), files.blob), 'BAD_VALUE', /baseManifestDigest/);
    expectCode(() => decodeCertificate(edit((o) => ((o.tensors as Json[])[0]!.verdict = 'maybe')), files.blob), 'BAD_VALUE', /verdict/);
    expectCode(() => decodeCertificate(edit((o) => ((o.tensors as Json[])[0]!.reason = 'why')), files.blob), 'BAD_JSON', /reason/);
    expectCode(() => decodeCertificate(edit((o) => ((o.tensors as Json[])[0]!.class = 'dense')), files.blob), 'BAD_VALUE', /class/);
    expectCode(() => decodeCertificate(edit((o) => ((o.tensors as Json[])[0]!.name = 'x'.repeat(5000))), files.blob), 'LIMIT_EXCEEDED', /name/);
    expectCode(() => decodeCertificate(edit((o) => ((o.tensors as Json[])[0]!.name = 'bad\ud800')), files.blob), 'BAD_VALUE', /name/);
    const nonInteger = parsed();
    nonInteger.fractionalBits = 1.5; // canonical JSON has no such number: decoded with the stale digest
    expectCode(() => decodeCertificate(JSON.stringify(nonInteger), files.blob), 'BAD_JSON', /fractionalBits/);
    expectCode(() => decodeCertificate(edit((o) => (o.fractionalBits = 256)), files.blob), 'BAD_VALUE', /fractionalBits/);
    expectCode(() => decodeCertificate(edit((o) => (((o.tensors as Json[])[3]!.summary as Json).factorCommitment = 'c0' + '00'.repeat(46) + '01')), files.blob), 'NON_CANONICAL', /factorCommitment/);
    expectCode(() => decodeCertificate(edit((o) => (o.fineTunedFiles = Array.from({ length: 5000 }, () => ({ name: 'f', sha256: BASE_DIGEST })))), files.blob), 'LIMIT_EXCEEDED', /fineTunedFiles/);
    const o = parsed();
    o.digest = sha('x');
    expectCode(() => decodeCertificate(JSON.stringify(o), files.blob), 'DIGEST_MISMATCH', /certificate\.digest/);
    o.digest = 'nothex';
    expectCode(() => decodeCertificate(JSON.stringify(o), files.blob), 'BAD_VALUE', /certificate\.digest/);
  });

  it('blob: BAD_MAGIC, UNSUPPORTED_VERSION, TRUNCATED, TRAILING_BYTES, LIMIT_EXCEEDED, BAD_VALUE, point codes', () => {
    const withBlob = (b: Uint8Array): (() => unknown) => () => decodeCertificate(reseal(parsed(), b), b);
    const patch = (pos: number, bytes: number[]): Uint8Array => {
      const b = files.blob.slice();
      b.set(bytes, pos);
      return b;
    };
    expectCode(withBlob(patch(0, [0x46, 0x54, 0x49, 0x2d, 0x43, 0x45, 0x52, 0x55])), 'BAD_MAGIC', /blob\.magic/);
    expectCode(withBlob(patch(8, [0, 0, 0, 3])), 'UNSUPPORTED_VERSION', /blob\.version/);
    expectCode(withBlob(patch(12, [0, 0, 0, 99])), 'LIMIT_EXCEEDED', /blob\.N/);
    expectCode(withBlob(patch(16, [0, 0, 0, 1])), 'BAD_VALUE', /blob\.fanIn/);
    expectCode(withBlob(patch(20, [0xff, 0xff, 0xff, 0xff])), 'LIMIT_EXCEEDED', /blocks\.length/);
    expectCode(withBlob(patch(20, [0, 0x10, 0, 0])), 'TRUNCATED', /blob\.blocks/);
    expectCode(withBlob(files.blob.subarray(0, files.blob.length - 1)), 'TRUNCATED', /root/);
    expectCode(withBlob(concatBytes(files.blob, new Uint8Array(1))), 'TRAILING_BYTES', /blob/);
    expectCode(withBlob(patch(24, [0, 1, 0, 1])), 'LIMIT_EXCEEDED', /statement/);
    const accStart = files.blob.length - 32 - 48 * (N + 1);
    expectCode(withBlob(patch(accStart, [files.blob[accStart]! & 0x7f])), 'NON_CANONICAL', /accumulator\[0\]/);
    expectCode(() => decodeCertificateBlob(new Uint8Array(3)), 'TRUNCATED');
    assert.deepEqual(CERT_BLOB_MAGIC, enc.encode('FTI-CERT'));
  });

  it('fuzz: arbitrary JSON text and blobs give only SmdpError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.constant(files.json)), fc.uint8Array({ maxLength: 200 }), (json, blob) => {
        try {
          decodeCertificate(json, blob);
          return false;
        } catch (e) {
          return e instanceof SmdpError;
        }
      }),
      { numRuns: 300, seed: FC_SEED },
    );
    // Truncations of the real blob, re-sealed, parse up to the cut and fail cleanly.
    for (let cut = 0; cut < files.blob.length; cut += 97) {
      const b = files.blob.subarray(0, cut);
      assert.throws(
        () => decodeCertificate(reseal(parsed(), b), b),
        (e: unknown) => e instanceof SmdpError,
      );
    }
  });
});

describe('properties', () => {
  const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hex);
  const big = fc.bigInt({ min: 0n, max: (1n << 300n) - 1n });
  const point = fc.nat({ max: 1 << 20 }).map((k) => (k === 0 ? G1.ZERO : G1.BASE.multiply(BigInt(k))));
  const name = fc.string({ maxLength: 12 });
  const drift: fc.Arbitrary<DriftSpec> = fc.oneof(
    fc.constant<DriftSpec>({ class: 'free' }),
    fc.record({ reveal: fc.boolean(), maxNonzeros: fc.nat() }).map((r): DriftSpec => ({ class: 'sparse', ...r })),
    big.map((maxSquaredNorm): DriftSpec => ({ class: 'norm', maxSquaredNorm })),
    big.map((maxAbs): DriftSpec => ({ class: 'linf', maxAbs })),
    fc
      .record({
        rank: fc.integer({ min: 1, max: 1 << 20 }),
        factorBitsA: fc.nat({ max: 255 }),
        factorBitsB: fc.nat({ max: 255 }),
        residual: fc.oneof(
          fc.constant({ kind: 'none' as const }),
          big.map((maxAbs) => ({ kind: 'linf' as const, maxAbs })),
          big.map((maxSquaredNorm) => ({ kind: 'l2' as const, maxSquaredNorm })),
        ),
      })
      .map((r): DriftSpec => ({ class: 'lowrank', ...r })),
  );
  const tensor: fc.Arbitrary<TensorResult> = fc.oneof(
    fc.record({ name, baseSha256: hex64, ftSha256: hex64 }).map((r): TensorResult => ({ kind: 'frozen', verdict: 'valid', ...r })),
    fc
      .record({ name, drift, blocks: fc.integer({ min: 1, max: 1000 }), n: fc.nat(), s: big, c: point, rejectedReason: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }) })
      .map(({ name: nm, drift: d, blocks: nb, n, s, c, rejectedReason }): TensorResult => {
        const summary =
          d.class === 'sparse'
            ? { blocks: nb, nonzeros: n }
            : d.class === 'norm'
              ? { blocks: nb, squaredNorm: s }
              : d.class === 'lowrank'
                ? { blocks: nb, rank: d.rank, factorCommitment: c, ...(d.residual.kind === 'l2' ? { squaredNorm: s } : {}) }
                : { blocks: nb };
        const verdict = rejectedReason === undefined ? { verdict: 'valid' as const } : { verdict: 'rejected' as const, reason: rejectedReason };
        return { kind: 'proven', name: nm, drift: d, summary, ...verdict };
      }),
  );
  const statement: fc.Arbitrary<BlockStatement> = fc
    .record({
      srsId: hex64,
      job: name,
      tensor: name,
      blockIndex: fc.nat(),
      tensorShape: fc.array(fc.nat({ max: 1 << 30 }), { maxLength: 4 }),
      tile: fc.record({ rowOffset: fc.nat(), colOffset: fc.nat(), muRows: fc.nat({ max: 16 }), muCols: fc.nat({ max: 16 }) }),
      fractionalBits: fc.nat({ max: 255 }),
      drift,
      cBase: point,
      cFt: point,
    })
    .map((r) => r);
  const certificate: fc.Arbitrary<Certificate> = fc
    .record({
      job: name,
      baseManifestDigest: hex64,
      policyDigest: hex64,
      fineTunedFiles: fc.array(fc.record({ name, sha256: hex64 }), { maxLength: 3 }),
      srs: fc.record({ id: hex64, kind: fc.constantFrom('dev' as const, 'ceremony' as const), N: fc.nat({ max: 3 }) }),
      fractionalBits: fc.nat({ max: 255 }),
      tensors: fc.array(tensor, { maxLength: 4 }),
      fanIn: fc.integer({ min: 2, max: 1024 }),
      blocks: fc.array(fc.record({ statement, proofBytes: fc.uint8Array({ maxLength: 64 }) }), { maxLength: 3 }),
      root: hex64,
      accPoints: fc.array(point, { minLength: 4, maxLength: 4 }),
    })
    .map(({ accPoints, ...r }) => sealCertificate({ version: 1, ...r, accumulator: accPoints.slice(0, r.srs.N + 1) }));

  it('encode∘decode is the identity on generated certificates (and encoding is stable)', () => {
    fc.assert(
      fc.property(certificate, (c) => {
        const f = encodeCertificate(c);
        const d = decodeCertificate(f.json, f.blob);
        assert.deepEqual(normalize(d), normalize(c));
        const g = encodeCertificate(d);
        assert.equal(g.json, f.json);
        assert.deepEqual(g.blob, f.blob);
        assert.equal(certificateDigest(d), c.digest);
      }),
      { numRuns: 40, seed: FC_SEED },
    );
  });

  it('the digest covers every JSON field: each leaf edit changes the digest and fails decoding', () => {
    const o = parsed();
    const leaves: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]): void => {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
      else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
      else leaves.push(path);
    };
    walk(o, []);
    const mutate = (v: unknown): unknown => {
      if (typeof v === 'number') return v + 1;
      if (typeof v === 'boolean') return !v;
      if (typeof v === 'string') {
        if (/^[0-9]+$/.test(v)) return (BigInt(v) + 1n).toString();
        if (/^[0-9a-f]+$/.test(v)) return v.slice(0, -1) + (v.endsWith('0') ? '1' : '0');
        return v + 'x';
      }
      return 'x';
    };
    const digestOfJson = (obj: Json): string => {
      const body = { ...obj };
      delete body.digest;
      return hex(sha256(concatBytes(enc.encode(canonicalJson(body as JsonValue)), sha256(files.blob))));
    };
    assert.equal(digestOfJson(o), cert.digest);
    let checked = 0;
    for (const path of leaves) {
      if (path[0] === 'digest') continue;
      const e = parsed();
      let parent = e as Record<string | number, unknown>;
      for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
      const last = path[path.length - 1]!;
      parent[last] = mutate(parent[last]);
      assert.notEqual(digestOfJson(e), cert.digest, `field ${path.join('.')} is not covered by the digest`);
      assert.throws(
        () => decodeCertificate(JSON.stringify(e), files.blob),
        (err: unknown) => err instanceof SmdpError,
        `edited ${path.join('.')} decoded`,
      );
      checked++;
    }
    assert.ok(checked > 40, `only ${checked} fields`);
  });
});
