/**
 * The base manifest (PROTOCOLS §0; DESIGN.md "Base publisher"): what a registry trusts about
 * the base model, committed once per base, SRS and quantization.
 *
 *   { format: "fti-base-manifest", version: 1, fractionalBits, srs: { id, kind, N },
 *     files: [{ name, sha256 }], tensors: [{ name, dtype, shape, sha256, l2,
 *     tiles: [{ rowOffset, colOffset, muRows, muCols, commitment }] }], digest }
 *
 * `sha256` is over each tensor's raw bytes (frozen tensors are checked by it alone); `l2` is
 * the base tensor's real L2 norm (for `maxRelativeL2`), as a decimal string so the canonical
 * JSON stays integer-only; `tiles` are the planner's default (elementwise) tiling with each
 * block's commitment C_base (compressed G1, hex) — empty for non-float tensors. `digest` is
 * SHA-256 over the canonical JSON (sorted keys, no whitespace) without the digest field, and
 * is what certificates cite as `baseManifestDigest`.
 */
import { readFile } from 'node:fs/promises';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { canonicalJson, type JsonValue } from '../smdp/certificate.ts';
import { decodeG1, encodeG1 } from '../smdp/encoding.ts';
import { SmdpError } from '../smdp/errors.ts';
import type { G1Point } from '../smdp/field.ts';
import type { BaseTensorInfo } from '../smdp/verifier.ts';
import type { TileGeometry } from '../smdp/statement.ts';
import { ModelError } from './errors.ts';

export const MANIFEST_FORMAT = 'fti-base-manifest';
export const MANIFEST_VERSION = 1;

export interface ManifestTile extends TileGeometry {
  readonly commitment: G1Point;
}

export interface ManifestTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly sha256: string;
  readonly l2: number;
  readonly tiles: readonly ManifestTile[];
}

export interface BaseManifest {
  readonly fractionalBits: number;
  readonly srs: { readonly id: string; readonly kind: string; readonly N: number };
  readonly files: readonly { readonly name: string; readonly sha256: string }[];
  readonly tensors: readonly ManifestTensor[];
}

function bodyJson(m: BaseManifest): { [key: string]: JsonValue } {
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    fractionalBits: m.fractionalBits,
    srs: { id: m.srs.id, kind: m.srs.kind, N: m.srs.N },
    files: m.files.map((f) => ({ name: f.name, sha256: f.sha256 })),
    tensors: m.tensors.map((t) => ({
      name: t.name,
      dtype: t.dtype,
      shape: [...t.shape],
      sha256: t.sha256,
      l2: String(t.l2),
      tiles: t.tiles.map((g) => ({ rowOffset: g.rowOffset, colOffset: g.colOffset, muRows: g.muRows, muCols: g.muCols, commitment: bytesToHex(encodeG1(g.commitment)) })),
    })),
  };
}

export function manifestDigest(m: BaseManifest): string {
  return bytesToHex(sha256(new TextEncoder().encode(canonicalJson(bodyJson(m)))));
}

export function encodeManifest(m: BaseManifest): string {
  return JSON.stringify({ ...bodyJson(m), digest: manifestDigest(m) }, null, 2) + '\n';
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Parse and check a manifest file's text; every problem names the file and field. */
export function parseManifest(text: string, file: string): { manifest: BaseManifest; digest: string } {
  const bad = (field: string, msg: string): never => {
    throw new ModelError('BAD_VALUE', `${file}: base manifest ${field}: ${msg}`, { file, field });
  };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return bad('(json)', `not valid JSON (${(e as Error).message})`);
  }
  const o = obj(data, 'manifest', bad);
  if (o.format !== MANIFEST_FORMAT) bad('format', `expected ${JSON.stringify(MANIFEST_FORMAT)}`);
  if (o.version !== MANIFEST_VERSION) bad('version', `unsupported version ${JSON.stringify(o.version)}`);
  const s = o.fractionalBits;
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 40) bad('fractionalBits', 'expected an integer in 0..40');
  const srsO = obj(o.srs, 'srs', bad);
  const srs = { id: hex64(srsO.id, 'srs.id', bad), kind: str(srsO.kind, 'srs.kind', bad), N: nat(srsO.N, 'srs.N', bad) };
  const files = arr(o.files, 'files', bad).map((f, i) => {
    const fo = obj(f, `files[${i}]`, bad);
    return { name: str(fo.name, `files[${i}].name`, bad), sha256: hex64(fo.sha256, `files[${i}].sha256`, bad) };
  });
  const tensors = arr(o.tensors, 'tensors', bad).map((t, i): ManifestTensor => {
    const f = `tensors[${i}]`;
    const to = obj(t, f, bad);
    const l2 = Number(str(to.l2, `${f}.l2`, bad));
    if (!Number.isFinite(l2) || l2 < 0) bad(`${f}.l2`, 'expected a non-negative decimal number');
    return {
      name: str(to.name, `${f}.name`, bad),
      dtype: str(to.dtype, `${f}.dtype`, bad),
      shape: arr(to.shape, `${f}.shape`, bad).map((d, k) => nat(d, `${f}.shape[${k}]`, bad)),
      sha256: hex64(to.sha256, `${f}.sha256`, bad),
      l2,
      tiles: arr(to.tiles, `${f}.tiles`, bad).map((g, k) => {
        const gf = `${f}.tiles[${k}]`;
        const go = obj(g, gf, bad);
        let commitment: G1Point;
        try {
          commitment = decodeG1(hexToBytes(str(go.commitment, `${gf}.commitment`, bad)), `${file}: ${gf}.commitment`);
        } catch (e) {
          return bad(`${gf}.commitment`, e instanceof SmdpError ? e.message : 'not a hex-encoded compressed G1 point');
        }
        return { rowOffset: nat(go.rowOffset, `${gf}.rowOffset`, bad), colOffset: nat(go.colOffset, `${gf}.colOffset`, bad), muRows: nat(go.muRows, `${gf}.muRows`, bad), muCols: nat(go.muCols, `${gf}.muCols`, bad), commitment };
      }),
    };
  });
  const manifest: BaseManifest = { fractionalBits: s as number, srs, files, tensors };
  const digest = manifestDigest(manifest);
  if (o.digest !== digest) bad('digest', `does not match the content (stated ${JSON.stringify(o.digest)}, computed ${digest})`);
  return { manifest, digest };
}

export async function readManifest(path: string): Promise<{ manifest: BaseManifest; digest: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ModelError('NOT_FOUND', `${path}: cannot read base manifest (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file: path });
  }
  return parseManifest(text, path);
}

/** What the verifier checks certificates against: per tensor, its hash and block commitments. */
export function manifestExpectations(m: BaseManifest): Map<string, BaseTensorInfo> {
  return new Map(m.tensors.map((t) => [t.name, { sha256: t.sha256, blockCommitments: t.tiles.map((g) => g.commitment) }]));
}

type Bad = (field: string, msg: string) => never;
function obj(v: unknown, field: string, bad: Bad): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(field, 'expected an object');
  return v as Record<string, unknown>;
}
function arr(v: unknown, field: string, bad: Bad): unknown[] {
  if (!Array.isArray(v)) bad(field, 'expected an array');
  return v as unknown[];
}
function str(v: unknown, field: string, bad: Bad): string {
  if (typeof v !== 'string') bad(field, 'expected a string');
  return v;
}
function nat(v: unknown, field: string, bad: Bad): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(field, 'expected a non-negative integer');
  return v;
}
function hex64(v: unknown, field: string, bad: Bad): string {
  if (typeof v !== 'string' || !HEX64.test(v)) bad(field, 'expected 64 lowercase hex characters');
  return v;
}
