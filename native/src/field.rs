//! Scalar-field (Fr) kernels of the SMDP prover: the range sub-protocol's sumcheck and the
//! batched opening of its bit vectors (smdp/classes/range.ts, smdp/pst.ts). They compute
//! exactly what the JavaScript code computes — same tables, same round polynomials, same
//! quotient tables — so proofs are byte-identical on either backend; only the arithmetic moves
//! from JS bigints to blst's Montgomery-form field operations.
//!
//! Scalars cross the boundary as 32-byte little-endian canonical encodings (< r). The
//! Fiat–Shamir transcript stays in JavaScript: the sumcheck calls back into JS once per round
//! with the round polynomial and receives the round challenge.
//!
//! Hand-written because no maintained crate offers these protocol-specific loops over blst's
//! field (arkworks has its own field types and would duplicate the curve library).

use blst::{
    blst_fr, blst_fr_add, blst_fr_from_scalar, blst_fr_from_uint64, blst_fr_mul, blst_fr_sqr, blst_fr_sub,
    blst_lendian_from_scalar, blst_scalar, blst_scalar_fr_check, blst_scalar_from_fr, blst_scalar_from_lendian,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::{guarded, invalid};

const FR_BYTES: usize = 32;
/// r as little-endian bytes; (r − 1)/2 decides the sign of a full scalar for the MSM format.
const HALF_R_LE: [u64; 4] = [0x7fffffff80000000, 0xa9ded2017fff2dff, 0x199cec0404d0ec02, 0x39f6d3a994cebea4];
const R_LE: [u64; 4] = [0xffffffff00000001, 0x53bda402fffe5bfe, 0x3339d80809a1d805, 0x73eda753299d7d48];

#[derive(Clone, Copy, Default)]
struct Fr(blst_fr);

impl Fr {
    const ZERO: Fr = Fr(blst_fr { l: [0; 4] });

    fn from_u64(x: u64) -> Fr {
        let limbs = [x, 0, 0, 0];
        let mut out = blst_fr::default();
        unsafe { blst_fr_from_uint64(&mut out, limbs.as_ptr()) };
        Fr(out)
    }

    fn one() -> Fr {
        Fr::from_u64(1)
    }

    fn add(self, b: Fr) -> Fr {
        let mut out = blst_fr::default();
        unsafe { blst_fr_add(&mut out, &self.0, &b.0) };
        Fr(out)
    }

    fn sub(self, b: Fr) -> Fr {
        let mut out = blst_fr::default();
        unsafe { blst_fr_sub(&mut out, &self.0, &b.0) };
        Fr(out)
    }

    fn mul(self, b: Fr) -> Fr {
        let mut out = blst_fr::default();
        unsafe { blst_fr_mul(&mut out, &self.0, &b.0) };
        Fr(out)
    }

    fn sqr(self) -> Fr {
        let mut out = blst_fr::default();
        unsafe { blst_fr_sqr(&mut out, &self.0) };
        Fr(out)
    }

    fn is_zero(&self) -> bool {
        self.0.l == [0; 4]
    }

    /// Canonical little-endian bytes (< r), or None.
    fn from_le(b: &[u8]) -> Option<Fr> {
        let mut s = blst_scalar::default();
        let mut out = blst_fr::default();
        unsafe {
            blst_scalar_from_lendian(&mut s, b.as_ptr());
            // accepts 0 and anything below r
            if !blst_scalar_fr_check(&s) {
                return None;
            }
            blst_fr_from_scalar(&mut out, &s);
        }
        Some(Fr(out))
    }

    fn to_limbs(self) -> [u64; 4] {
        let mut s = blst_scalar::default();
        let mut le = [0u8; FR_BYTES];
        unsafe {
            blst_scalar_from_fr(&mut s, &self.0);
            blst_lendian_from_scalar(le.as_mut_ptr(), &s);
        }
        let mut limbs = [0u64; 4];
        for (k, chunk) in le.chunks_exact(8).enumerate() {
            limbs[k] = u64::from_le_bytes(chunk.try_into().expect("8-byte chunk"));
        }
        limbs
    }

    fn write_le(self, out: &mut [u8]) {
        for (k, limb) in self.to_limbs().iter().enumerate() {
            out[8 * k..8 * k + 8].copy_from_slice(&limb.to_le_bytes());
        }
    }
}

/// a > b for little-endian limbs.
fn limbs_gt(a: &[u64; 4], b: &[u64; 4]) -> bool {
    for k in (0..4).rev() {
        if a[k] != b[k] {
            return a[k] > b[k];
        }
    }
    false
}

/// a − b for little-endian limbs (a ≥ b).
fn limbs_sub(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let mut out = [0u64; 4];
    let mut borrow = 0u64;
    for k in 0..4 {
        let (d1, b1) = a[k].overflowing_sub(b[k]);
        let (d2, b2) = d1.overflowing_sub(borrow);
        out[k] = d2;
        borrow = (b1 || b2) as u64;
    }
    out
}

/// The MSM scalar format of native/backend.ts `fullScalarBytes`: magnitude (LE) and sign,
/// where s > (r − 1)/2 is written as −(r − s).
fn write_signed(x: Fr, mag: &mut [u8], sign: &mut u8) {
    let limbs = x.to_limbs();
    let (m, neg) = if limbs_gt(&limbs, &HALF_R_LE) { (limbs_sub(&R_LE, &limbs), true) } else { (limbs, false) };
    for (k, limb) in m.iter().enumerate() {
        mag[8 * k..8 * k + 8].copy_from_slice(&limb.to_le_bytes());
    }
    *sign = neg as u8;
}

fn read_frs(what: &str, b: &[u8], count: usize) -> Result<Vec<Fr>> {
    if b.len() != count * FR_BYTES {
        return Err(invalid(format!("{what}: expected {count} scalars ({} bytes), got {} bytes", count * FR_BYTES, b.len())));
    }
    b.chunks_exact(FR_BYTES)
        .enumerate()
        .map(|(i, c)| Fr::from_le(c).ok_or_else(|| invalid(format!("{what}: scalar {i} is not below r"))))
        .collect()
}

fn read_fr(what: &str, b: &[u8]) -> Result<Fr> {
    Ok(read_frs(what, b, 1)?[0])
}

/// eq(b, r) for all b ∈ {0,1}^μ, LSB-first (smdp/mle.ts `eqTable`).
fn eq_table(r: &[Fr]) -> Vec<Fr> {
    let mut t = vec![Fr::one()];
    for &x in r {
        let half = t.len();
        let mut next = vec![Fr::ZERO; 2 * half];
        for i in 0..half {
            let hi = t[i].mul(x);
            next[i] = t[i].sub(hi);
            next[i + half] = hi;
        }
        t = next;
    }
    t
}

/// out[j] = f[2j] + x·(f[2j+1] − f[2j]) (smdp/mle.ts `foldLowest`).
fn fold(f: &[Fr], x: Fr) -> Vec<Fr> {
    (0..f.len() / 2)
        .map(|j| {
            let (f0, f1) = (f[2 * j], f[2 * j + 1]);
            if f0.0.l == f1.0.l {
                f0
            } else {
                f0.add(x.mul(f1.sub(f0)))
            }
        })
        .collect()
}

/// Validated bit matrix: `ell` rows of `n` bytes, each 0 or 1.
fn read_bits(bits: &[u8], n: usize, ell: usize) -> Result<()> {
    if n == 0 || n & (n - 1) != 0 {
        return Err(invalid(format!("rangeSumcheck: n = {n} is not a power of two")));
    }
    if bits.len() != n * ell {
        return Err(invalid(format!("rangeSumcheck: expected {ell} × {n} bit bytes, got {}", bits.len())));
    }
    if let Some(i) = bits.iter().position(|&b| b > 1) {
        return Err(invalid(format!("rangeSumcheck: bit {} of vector {} is not 0 or 1", i % n, i / n)));
    }
    Ok(())
}

/// The range sub-protocol's sumcheck (smdp/classes/range.ts `proveRangeTiles`) over T tiles
/// in lockstep: tables [eq(r, ·), β_{0,0} … β_{T−1,ℓ−1}] (tile-major), degree 3, combine
///   v ↦ eq·Σ_k a_k β_k(β_k − 1) + Σ_t c_t·(Σ_j w_j β_{t,j} − B)²   (square terms only if `with_sq`),
/// with a_k the T·ℓ booleanity coefficients (`alpha_pows`) and c_t the T square coefficients
/// (`c`, T × 32 bytes; T = `groups`). T = 1 is the one-tile sumcheck.
/// Rounds bind the lowest variable first; `challenge(g)` receives g(0..3) (4 × 32 bytes LE),
/// absorbs them into the transcript and returns ρ_i (32 bytes LE).
/// Returns the μ round polynomials (μ × 4 × 32 bytes) followed by β_k(ρ) (T·ℓ × 32 bytes).
#[napi(js_name = "rangeSumcheck")]
#[allow(clippy::too_many_arguments)]
pub fn range_sumcheck(
    bits: Uint8Array,
    n: u32,
    ell: u32,
    groups: u32,
    r: Uint8Array,
    alpha_pows: Uint8Array,
    weights: Uint8Array,
    neg_b: Uint8Array,
    c: Uint8Array,
    with_sq: bool,
    challenge: Function<Buffer, Buffer>,
) -> Result<Buffer> {
    let (n, ell, groups) = (n as usize, ell as usize, groups as usize);
    if groups == 0 {
        return Err(invalid("rangeSumcheck: expected at least one tile".to_string()));
    }
    let total = ell.checked_mul(groups).ok_or_else(|| invalid("rangeSumcheck: ℓ × T overflows".to_string()))?;
    read_bits(&bits, n, total)?;
    let mu = n.trailing_zeros() as usize;
    let r = read_frs("rangeSumcheck r", &r, mu)?;
    let alpha = read_frs("rangeSumcheck alpha powers", &alpha_pows, total)?;
    let w = read_frs("rangeSumcheck weights", &weights, ell)?;
    let neg_b = read_fr("rangeSumcheck −B", &neg_b)?;
    let c = read_frs("rangeSumcheck square coefficients", &c, groups)?;
    let bits = bits.to_vec();
    let mut out = vec![0u8; (mu * 4 + total) * FR_BYTES];
    let mut draw = |round: usize, g: &[Fr; 4]| -> Result<Fr> {
        let mut buf = vec![0u8; 4 * FR_BYTES];
        for (x, v) in g.iter().enumerate() {
            v.write_le(&mut buf[x * FR_BYTES..(x + 1) * FR_BYTES]);
        }
        out[round * 4 * FR_BYTES..(round + 1) * 4 * FR_BYTES].copy_from_slice(&buf);
        let rho: Buffer = challenge.call(buf.into())?;
        read_fr("rangeSumcheck challenge", &rho)
    };
    let evals = guarded("rangeSumcheck", || range_sumcheck_rounds(&bits, n, ell, &r, &alpha, &w, neg_b, &c, with_sq, &mut draw))?;
    for (j, e) in evals.iter().enumerate() {
        e.write_le(&mut out[(mu * 4 + j) * FR_BYTES..(mu * 4 + j + 1) * FR_BYTES]);
    }
    Ok(out.into())
}

/// Rounds of the range sumcheck that read the bits as patterns (`range_sumcheck_rounds`): in
/// round k (1-based) a pair of folded entries is a function of 2^k original bits, so up to
/// 2^(2^k) patterns — 256 for k = 3.
const PATTERN_ROUNDS: usize = 3;

/// The 0/1 bytes `b` (at most 8) as a bit pattern, b[0] lowest.
fn pattern(b: &[u8]) -> usize {
    b.iter().enumerate().fold(0, |acc, (i, &x)| acc | (x as usize) << i)
}

/// v(t) = v0 + t·(v1 − v0) at t = 0, 1, 2, 3, by additions.
fn line4(v0: Fr, v1: Fr) -> [Fr; 4] {
    let d = v1.sub(v0);
    let v2 = v1.add(d);
    [v0, v1, v2, v2.add(d)]
}

/// Σ over the set bits i of `pat` of w[i], for every pattern of w.len() bits (additions).
fn subset_values(w: &[Fr]) -> Vec<Fr> {
    let mut m = vec![Fr::ZERO; 1 << w.len()];
    for pat in 1..m.len() {
        let low = pat.trailing_zeros() as usize;
        m[pat] = m[pat & (pat - 1)].add(w[low]);
    }
    m
}

/// The range sumcheck's rounds (see `range_sumcheck`). Each round polynomial is the unique
/// g(t) = Σ_p eq_t(p)·Σ_j α^j β_{j,t}(p)(β_{j,t}(p) − 1) + c·Σ_p Δ_t(p)² at t = 0..3, so how
/// the sums are grouped does not change a byte of the proof.
///
/// The first `PATTERN_ROUNDS` rounds never multiply per bit: in round k the folded entries
/// β_{j,t}(p) are fixed by the pattern of original bits β_j[p·2^k .. (p+1)·2^k) and ρ_1..ρ_{k−1},
/// so the boolean part is Σ_pat h_pat(t)·Σ_j α^j·Σ_{p: pattern_j(p) = pat} eq_t(p), where the
/// inner sums are additions of eq values and h_pat(t) is computed once per pattern. All-zero
/// and all-one patterns (constant high bits) contribute nothing and are skipped. After them,
/// the bit tables are materialised by pattern lookup (no multiplication) and the remaining
/// rounds, on n/2^PATTERN_ROUNDS entries, fold them as dense field tables.
#[allow(clippy::too_many_arguments)]
fn range_sumcheck_rounds(
    bits: &[u8],
    n: usize,
    ell: usize,
    r: &[Fr],
    alpha: &[Fr],
    w: &[Fr],
    neg_b: Fr,
    c: &[Fr],
    with_sq: bool,
    draw: &mut dyn FnMut(usize, &[Fr; 4]) -> Result<Fr>,
) -> Result<Vec<Fr>> {
    let mu = r.len();
    let groups = c.len();
    let total = ell * groups;
    if mu == 0 {
        // No rounds: the final values are the bits themselves.
        return Ok((0..total).map(|k| if bits[k * n] == 1 { Fr::one() } else { Fr::ZERO }).collect());
    }
    let one = Fr::one();
    let mut eq = eq_table(r);
    // Each tile's Δ_t(b) = Σ_j w_j β_{t,j}(b) − B is multilinear too; it is folded alongside
    // (same values as evaluating the combine on the folded bits, by linearity).
    let mut deltas: Vec<Vec<Fr>> = if with_sq {
        (0..groups)
            .map(|t| {
                let mut d = vec![neg_b; n];
                for (j, &wj) in w.iter().enumerate() {
                    let k = t * ell + j;
                    for (x, &b) in d.iter_mut().zip(&bits[k * n..(k + 1) * n]) {
                        if b == 1 {
                            *x = x.add(wj);
                        }
                    }
                }
                d
            })
            .collect()
    } else {
        Vec::new()
    };
    // Σ_t c_t·Σ_p Δ_t,x(p)² at x = 0..3 over the current Δ tables.
    let square_sum = |deltas: &[Vec<Fr>]| -> [Fr; 4] {
        let mut out = [Fr::ZERO; 4];
        for (delta, &ct) in deltas.iter().zip(c) {
            let mut sq = [Fr::ZERO; 4];
            for pair in delta.chunks_exact(2) {
                let d = line4(pair[0], pair[1]);
                for x in 0..4 {
                    sq[x] = sq[x].add(d[x].sqr());
                }
            }
            for x in 0..4 {
                out[x] = out[x].add(ct.mul(sq[x]));
            }
        }
        out
    };
    let pattern_rounds = mu.min(PATTERN_ROUNDS);
    let mut rho: Vec<Fr> = Vec::with_capacity(mu);
    for round in 0..pattern_rounds {
        let size = 1usize << (round + 1);
        let half = size / 2;
        let npat = 1usize << size;
        // Value of a folded entry whose 2^round original bits have pattern `sub`.
        let folded = subset_values(&eq_table(&rho));
        // x0/x1[pat] = Σ_j α^j Σ_{p: pattern_j(p) = pat} eq[2p] / eq[2p + 1].
        let (mut x0, mut x1) = (vec![Fr::ZERO; npat], vec![Fr::ZERO; npat]);
        let (mut g0, mut g1) = (vec![Fr::ZERO; npat], vec![Fr::ZERO; npat]);
        let mut seen = vec![false; npat];
        for j in 0..total {
            let row = &bits[j * n..(j + 1) * n];
            for (p, chunk) in row.chunks_exact(size).enumerate() {
                let pat = pattern(chunk);
                if pat == 0 || pat == npat - 1 {
                    continue;
                }
                g0[pat] = g0[pat].add(eq[2 * p]);
                g1[pat] = g1[pat].add(eq[2 * p + 1]);
                seen[pat] = true;
            }
            for pat in 1..npat - 1 {
                if seen[pat] {
                    x0[pat] = x0[pat].add(alpha[j].mul(g0[pat]));
                    x1[pat] = x1[pat].add(alpha[j].mul(g1[pat]));
                    g0[pat] = Fr::ZERO;
                    g1[pat] = Fr::ZERO;
                    seen[pat] = false;
                }
            }
        }
        let mut g = [Fr::ZERO; 4];
        for pat in 1..npat - 1 {
            if x0[pat].is_zero() && x1[pat].is_zero() {
                continue;
            }
            let e = line4(x0[pat], x1[pat]);
            let b = line4(folded[pat & ((1 << half) - 1)], folded[pat >> half]);
            for x in 0..4 {
                // β(β − 1) at t = x
                let h = b[x].sqr().sub(b[x]);
                g[x] = g[x].add(e[x].mul(h));
            }
        }
        if with_sq {
            let sq = square_sum(&deltas);
            for x in 0..4 {
                g[x] = g[x].add(sq[x]);
            }
        }
        let x = draw(round, &g)?;
        rho.push(x);
        eq = fold(&eq, x);
        deltas = deltas.iter().map(|d| fold(d, x)).collect();
    }
    // The bit tables after the pattern rounds, by lookup.
    let size = 1usize << pattern_rounds;
    let folded = subset_values(&eq_table(&rho));
    let mut tables: Vec<Vec<Fr>> = (0..total).map(|j| bits[j * n..(j + 1) * n].chunks_exact(size).map(|chunk| folded[pattern(chunk)]).collect()).collect();
    for round in pattern_rounds..mu {
        let half = eq.len() / 2;
        let mut boolean = [Fr::ZERO; 4];
        for p in 0..half {
            let e = line4(eq[2 * p], eq[2 * p + 1]);
            // β_t(β_t − 1) = P0 + t·P1 + t²·P2 with P0 = β_0(β_0 − 1), P1 = δ(2β_0 − 1), P2 = δ².
            let (mut s0, mut s1, mut s2) = (Fr::ZERO, Fr::ZERO, Fr::ZERO);
            for (j, t) in tables.iter().enumerate() {
                let (b0, b1) = (t[2 * p], t[2 * p + 1]);
                if b0.0.l == b1.0.l && (b0.is_zero() || b0.0.l == one.0.l) {
                    // A constant 0 or 1 (a bit plane constant over the pair): β(β − 1) ≡ 0.
                    continue;
                }
                let db = b1.sub(b0);
                let p0 = b0.sqr().sub(b0);
                let p1 = db.mul(b0.add(b0).sub(one));
                let p2 = db.sqr();
                s0 = s0.add(alpha[j].mul(p0));
                s1 = s1.add(alpha[j].mul(p1));
                s2 = s2.add(alpha[j].mul(p2));
            }
            // value at t: s0 + t·s1 + t²·s2
            let v1 = s0.add(s1).add(s2);
            let s2x2 = s2.add(s2);
            let v2 = v1.add(s1).add(s2x2).add(s2);
            let v3 = v2.add(s1).add(s2x2).add(s2x2).add(s2);
            boolean[0] = boolean[0].add(e[0].mul(s0));
            boolean[1] = boolean[1].add(e[1].mul(v1));
            boolean[2] = boolean[2].add(e[2].mul(v2));
            boolean[3] = boolean[3].add(e[3].mul(v3));
        }
        let mut g = boolean;
        if with_sq {
            let sq = square_sum(&deltas);
            for x in 0..4 {
                g[x] = g[x].add(sq[x]);
            }
        }
        let x = draw(round, &g)?;
        eq = fold(&eq, x);
        deltas = deltas.iter().map(|d| fold(d, x)).collect();
        tables = tables.iter().map(|t| fold(t, x)).collect();
    }
    Ok(tables.iter().map(|t| t[0]).collect())
}

/// The weights of round r's pair-difference sums S_{j,t} (j < ℓ, t < h = 2^(r−1), j-major) in
/// the batched opening's quotient: η^j·eq(t, ρ_1..ρ_{r−1}), or η^{j+1}·eq(t, …) when a leading
/// vector takes η^0 — in the MSM scalar format (32-byte LE magnitudes, 0/1 signs).
pub(crate) fn pair_diff_weights(eta: &[u8], prefix: &[u8], ell: usize, lead: bool) -> Result<(Vec<u8>, Vec<u8>)> {
    let eta = read_fr("bitPairDiffQuotient η", eta)?;
    let prefix = read_frs("bitPairDiffQuotient prefix", prefix, prefix.len() / FR_BYTES)?;
    let eq = eq_table(&prefix);
    let h = eq.len();
    let mut mags = vec![0u8; ell * h * FR_BYTES];
    let mut signs = vec![0u8; ell * h];
    let mut pow = if lead { eta } else { Fr::one() };
    for j in 0..ell {
        for (t, e) in eq.iter().enumerate() {
            let at = j * h + t;
            let w = pow.mul(*e);
            if !w.is_zero() {
                write_signed(w, &mut mags[at * FR_BYTES..(at + 1) * FR_BYTES], &mut signs[at]);
            }
        }
        pow = pow.mul(eta);
    }
    Ok((mags, signs))
}

/// The batched opening's tables (smdp/pst.ts `openAt` of `combineVectors([lead?, β_0, …], η)`):
/// for the combined vector f = Σ_j η^j β_j — or, with a leading vector v (n × 32 bytes LE),
/// f = v + Σ_j η^{j+1} β_j — and the point ρ (μ coordinates), the quotient tables
/// q_i = f_odd − f_even of each round, folded with ρ_i, in the MSM scalar format of
/// native/backend.ts (`fullScalarBytes`): magnitudes (32 bytes LE each) and signs, rounds
/// concatenated (n/2 + n/4 + … + 1 = n − 1 scalars), then the value f(ρ) (32 bytes LE).
/// For the first `split_rounds` rounds the table holds only v's part of the quotient (zeros
/// without v): the caller commits the bits' part as signed subset sums (`bitPairDiffQuotient`).
#[napi(js_name = "openBitsTables")]
pub fn open_bits_tables(
    bits: Uint8Array,
    n: u32,
    ell: u32,
    eta: Uint8Array,
    point: Uint8Array,
    lead: Option<Uint8Array>,
    split_rounds: u32,
) -> Result<Vec<Buffer>> {
    guarded("openBitsTables", || {
        let (n, ell) = (n as usize, ell as usize);
        read_bits(&bits, n, ell)?;
        let mu = n.trailing_zeros() as usize;
        let eta = read_fr("openBitsTables η", &eta)?;
        let point = read_frs("openBitsTables point", &point, mu)?;
        let lead = match &lead {
            Some(b) => Some(read_frs("openBitsTables lead", b, n)?),
            None => None,
        };
        let mut pows = Vec::with_capacity(ell);
        let mut p = if lead.is_some() { eta } else { Fr::one() };
        for _ in 0..ell {
            pows.push(p);
            p = p.mul(eta);
        }
        let mut table: Vec<Fr> = (0..n)
            .map(|i| {
                let mut acc = lead.as_ref().map_or(Fr::ZERO, |v| v[i]);
                for j in 0..ell {
                    if bits[j * n + i] == 1 {
                        acc = acc.add(pows[j]);
                    }
                }
                acc
            })
            .collect();
        let total = n - 1;
        let mut mags = vec![0u8; total * FR_BYTES];
        let mut signs = vec![0u8; total];
        let mut at = 0;
        // v folded on its own, for the split rounds.
        let mut lead_table: Option<Vec<Fr>> = lead.clone();
        for (round, &x) in point.iter().enumerate() {
            let half = table.len() / 2;
            let split = round < split_rounds as usize;
            for j in 0..half {
                let q = match (&lead_table, split) {
                    (Some(v), true) => v[2 * j + 1].sub(v[2 * j]),
                    (None, true) => Fr::ZERO,
                    _ => table[2 * j + 1].sub(table[2 * j]),
                };
                if !q.is_zero() {
                    write_signed(q, &mut mags[(at + j) * FR_BYTES..(at + j + 1) * FR_BYTES], &mut signs[at + j]);
                }
            }
            at += half;
            table = fold(&table, x);
            if split {
                lead_table = lead_table.map(|v| fold(&v, x));
            }
        }
        let mut value = vec![0u8; FR_BYTES];
        table[0].write_le(&mut value);
        Ok(vec![mags.into(), Buffer::from(signs), value.into()])
    })
}
