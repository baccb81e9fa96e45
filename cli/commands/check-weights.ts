/**
 * `fti check-weights`: does this set of weights match a certificate? The deployer's check
 * (PROTOCOLS §0): recompute every block commitment C_ft from the served weights, and the
 * SHA-256 of every frozen tensor and model file, and compare with what the certificate states.
 */
import { blockCount, recordStatements } from '../../smdp/aggregate.ts';
import { openModelReader } from '../../activities/safetensors-reader.ts';
import { gatherTile } from '../../activities/certify.ts';
import { quantize } from '../../model/quantize.ts';
import { activeBackend } from '../backend.ts';
import { commitSmall } from '../../smdp/pst.ts';
import { str, type Command } from '../command.ts';
import { readCertificateFiles, srsForCertificate } from '../engine.ts';
import { EXIT_OK, EXIT_REJECTED, InputError, UsageError } from '../io.ts';

export const checkWeights: Command = {
  name: 'check-weights',
  summary: 'check that served weights are the ones a certificate certifies',
  help: `usage: fti check-weights --ft PATH --cert CERT.json [--srs FILE] [--json]

Recomputes the fine-tuned commitment of every certified block and the SHA-256 of every frozen
tensor and model file, and compares them with the certificate. Exit 0 when all match, 3 when
any differs (each difference is listed).`,
  options: { ft: { type: 'string' }, cert: { type: 'string' }, srs: { type: 'string' } },
  positionals: [0, 0],
  async run(args, ctx) {
    const ftPath = str(args, 'ft');
    const certPath = str(args, 'cert');
    if (!ftPath || !certPath) throw new UsageError('check-weights: --ft PATH and --cert CERT.json are required');
    const cert = await readCertificateFiles(certPath);
    const srs = await srsForCertificate(cert, certPath, str(args, 'srs'), ctx.say);
    if (srs.id !== cert.srs.id) throw new InputError('SRS_MISMATCH', `the certificate was made under SRS ${cert.srs.id}, the given SRS is ${srs.id}`);
    const ft = await openModelReader(ftPath);
    const mismatches: string[] = [];
    try {
      const files = await ft.files();
      for (const f of cert.fineTunedFiles) {
        const got = files.find((x) => x.name === f.name);
        if (!got) mismatches.push(`file ${f.name}: not in ${ftPath}`);
        else if (got.sha256 !== f.sha256) mismatches.push(`file ${f.name}: SHA-256 ${got.sha256} ≠ certified ${f.sha256}`);
      }
      const present = new Set(ft.tensors.map((t) => t.name));
      for (const t of cert.tensors) {
        if (!present.has(t.name)) {
          mismatches.push(`tensor ${t.name}: missing from ${ftPath}`);
          continue;
        }
        if (t.kind === 'frozen') {
          const got = await ft.tensorSha256(t.name);
          if (got !== t.ftSha256) mismatches.push(`tensor ${t.name}: SHA-256 ${got} ≠ certified ${t.ftSha256}`);
        }
      }
      const ctxP = { srs, msm: activeBackend().msm };
      const statements = cert.blocks.flatMap((b) => recordStatements(b));
      const cache = new Map<string, Float64Array>();
      for (const st of statements) {
        if (!present.has(st.tensor)) continue;
        let q = cache.get(st.tensor);
        if (!q) {
          cache.clear(); // one tensor at a time: blocks of a tensor are contiguous
          q = quantize(await ft.readValues(st.tensor), st.fractionalBits, { file: ftPath, tensor: st.tensor, startIndex: 0 });
          cache.set(st.tensor, q);
        }
        const c = await commitSmall(ctxP, gatherTile(q, st.tensorShape, st.tile));
        if (!c.equals(st.cFt)) mismatches.push(`tensor ${st.tensor}, block ${st.blockIndex}: the weights' commitment differs from the certified C_ft`);
      }
    } finally {
      await ft.close();
    }
    const ok = mismatches.length === 0;
    ctx.say(ok ? `match: ${ftPath} is what certificate ${cert.digest} certifies (${blockCount(cert.blocks)} block commitments, ${cert.tensors.length} tensors)` : `MISMATCH (${mismatches.length}):\n  ${mismatches.join('\n  ')}`);
    ctx.emit({ match: ok, certificate: cert.digest, mismatches });
    return ok ? EXIT_OK : EXIT_REJECTED;
  },
};
