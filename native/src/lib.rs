//! fti native BLS12-381 backend: the curve work of the SMDP prover and verifier over `blst`,
//! exposed to Node through napi-rs. The TypeScript side (`native/loader.ts`) converts noble
//! points and JS scalars at the boundary; everything here works on byte layouts:
//!
//! - G1 affine points as 96 bytes `x ‖ y` (big-endian, no flag bits), the SRS file layout;
//!   results come back in blst's uncompressed serialisation (the identity as `0x40` followed
//!   by zeros);
//! - compressed G1 points as the 48-byte ZCash format; G2 points compressed (96 bytes);
//! - scalars as little-endian magnitudes of a fixed width plus a sign flag per scalar, so a
//!   signed scalar s is |s| applied to P or to −P. Signed small scalars stay small (a 32-bit
//!   weight is a 33-bit pippenger, not a 255-bit one).
//!
//! MSMs use blst's multi-threaded pippenger (`MultiPoint::mult`) with the bit length of the
//! largest magnitude present, or for small scalars (≤ 62 bits, ≥ 4096 points: commitments)
//! the batch-affine pippenger of `msm.rs`, and blst's batch-affine `MultiPoint::add` for
//! subset sums. SRS bases live in native memory (`G1Basis`) and calls address sub-ranges of
//! them, so points cross the boundary once. Every entry point validates its inputs and returns an error rather
//! than panicking; panics (none are expected) are caught and turned into errors as well.

mod field;
mod msm;
mod subset;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock};

use blst::{
    blst_fp12, blst_fp12_is_one, blst_fp_cneg, blst_p1, blst_p1_affine, blst_p1_affine_in_g1,
    blst_p1_deserialize, blst_p1_from_affine, blst_p1_serialize, blst_p1_uncompress,
    blst_p1_add_or_double, blst_p1_add_or_double_affine, blst_p1_cneg, blst_p1_is_inf, blst_p1s_to_affine, blst_p1_double, blst_p1s_mult_pippenger_scratch_sizeof, blst_p1s_tile_pippenger,
    blst_p2_affine, blst_p2_affine_in_g2, blst_p2_uncompress, limb_t, MultiPoint, BLST_ERROR,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Bytes of an affine G1 point `x ‖ y`.
const G1_AFFINE_BYTES: usize = 96;
/// Bytes of a compressed G1 point.
const G1_COMPRESSED_BYTES: usize = 48;
/// Bytes of a compressed G2 point.
const G2_COMPRESSED_BYTES: usize = 96;
/// Bytes of a full scalar magnitude (little-endian).
const SCALAR_BYTES: usize = 32;
/// Largest magnitude of a small scalar: 2^53 − 1 (a JS safe integer).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, msg.into())
}

/// Runs `f`, turning a panic into an error (a panic must never cross into Node).
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => Err(Error::new(Status::GenericFailure, format!("{what}: internal error (panic) in the native backend"))),
    }
}

/// Parses an affine point `x ‖ y` (no flags): coordinates below p and on the curve. Subgroup
/// membership is not required (the MSMs are group arithmetic on E(Fp)): SRS points are
/// vouched for by the SRS digest; a verifier's proof points are decoded without the subgroup
/// test and settled by `pairing_check`, which tests its inputs for G1 membership.
fn parse_affine(b: &[u8], i: usize) -> Result<blst_p1_affine> {
    if b[0] & 0xe0 != 0 {
        return Err(invalid(format!("point {i} has non-canonical coordinates")));
    }
    let mut p = blst_p1_affine::default();
    match unsafe { blst_p1_deserialize(&mut p, b.as_ptr()) } {
        BLST_ERROR::BLST_SUCCESS => Ok(p),
        BLST_ERROR::BLST_BAD_ENCODING => Err(invalid(format!("point {i} has non-canonical coordinates"))),
        // (0, ±2): on the curve, of order 3 (blst flags it, having set `p`). Not a G1 point, but
        // a point of E(Fp) like any other proof point decoded without the subgroup test (or a
        // combination of them): MSMs take it, `pairing_check`'s G1 test rejects it.
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => Ok(p),
        _ => Err(invalid(format!("point {i} is not on the curve"))),
    }
}

/// Number of worker threads for work split here (decoding, basis loading).
fn parallelism() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Parses `count` affine points, in parallel for large inputs.
fn parse_affines(bytes: &[u8]) -> Result<Vec<blst_p1_affine>> {
    if !bytes.len().is_multiple_of(G1_AFFINE_BYTES) {
        return Err(invalid(format!("point bytes: length {} is not a multiple of {G1_AFFINE_BYTES}", bytes.len())));
    }
    let n = bytes.len() / G1_AFFINE_BYTES;
    let threads = parallelism().min(n / 4096).max(1);
    if threads == 1 {
        // No thread for small inputs (the verifier's MSMs of a few dozen points).
        return bytes.chunks_exact(G1_AFFINE_BYTES).enumerate().map(|(i, b)| parse_affine(b, i)).collect();
    }
    let mut out = vec![blst_p1_affine::default(); n];
    let chunk = n.div_ceil(threads).max(1);
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = out
            .chunks_mut(chunk)
            .enumerate()
            .map(|(c, dst)| {
                s.spawn(move || {
                    for (k, slot) in dst.iter_mut().enumerate() {
                        let i = c * chunk + k;
                        *slot = parse_affine(&bytes[i * G1_AFFINE_BYTES..(i + 1) * G1_AFFINE_BYTES], i)?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(invalid("point parsing panicked")))).collect()
    });
    for r in results {
        r?;
    }
    Ok(out)
}

fn serialize_p1(p: &blst_p1) -> Buffer {
    let mut out = vec![0u8; G1_AFFINE_BYTES];
    unsafe { blst_p1_serialize(out.as_mut_ptr(), p) };
    out.into()
}

fn negate(p: &blst_p1_affine) -> blst_p1_affine {
    let mut q = *p;
    unsafe { blst_fp_cneg(&mut q.y, &p.y, true) };
    q
}

/// The scalars of one MSM: per point a little-endian magnitude of `width` bytes and a sign.
struct Scalars {
    width: usize,
    mags: Vec<u8>,
    negative: Vec<bool>,
}

impl Scalars {
    fn len(&self) -> usize {
        self.negative.len()
    }

    fn mag(&self, i: usize) -> &[u8] {
        &self.mags[i * self.width..(i + 1) * self.width]
    }

    /// Bit length of the largest magnitude (0 when all are zero).
    fn max_bits(&self) -> usize {
        let mut best = 0;
        for i in 0..self.len() {
            let m = self.mag(i);
            if let Some(top) = m.iter().rposition(|&b| b != 0) {
                let bits = top * 8 + (8 - m[top].leading_zeros() as usize);
                best = best.max(bits);
            }
        }
        best
    }

    /// The low 64 bits of magnitude i.
    fn low_u64(&self, i: usize) -> u64 {
        let m = self.mag(i);
        let mut b = [0u8; 8];
        let k = m.len().min(8);
        b[..k].copy_from_slice(&m[..k]);
        u64::from_le_bytes(b)
    }

    fn is_zero(&self, i: usize) -> bool {
        self.mag(i).iter().all(|&b| b == 0)
    }
}

/// Σ ±m_i·P_i over `points` (same length as `scalars`), as a blst projective point.
///
/// Scalars of 2 … 62 bits over at least `TILED_MIN_POINTS` points go to `msm::msm` (signs and
/// zeros handled there). Otherwise zero scalars are dropped and negative ones applied to −P_i,
/// in a compacted copy of the points when either occurs (a copy costs ≈ 1% of the MSM);
/// magnitudes are re-packed to ⌈bits/8⌉ bytes for the pippenger of `bits` bits; one-bit MSMs
/// are subset sums.
fn msm_signed(points: &[blst_p1_affine], scalars: &Scalars) -> blst_p1 {
    msm_signed_with(points, scalars, false)
}

/// `msm_signed`, with `serial` choosing a single-threaded pippenger on the calling thread for
/// the MSMs below `TILED_MIN_POINTS` (blst's `mult` hands even a handful of points to its
/// thread pool, whose wake-ups dominate an MSM of a few dozen points).
fn msm_signed_with(points: &[blst_p1_affine], scalars: &Scalars, serial: bool) -> blst_p1 {
    let n = points.len();
    let bits = scalars.max_bits();
    if n == 0 || bits == 0 {
        return blst_p1::default();
    }
    // (msm.rs keeps a point index and a sign in a u32.)
    if !serial && (TILED_MIN_POINTS..1 << 31).contains(&n) && (2..=msm::MAX_BITS).contains(&bits) {
        // Small scalars (commitments to integer weights): batch-affine buckets, no copies.
        let mags: Vec<u64> = (0..n).map(|i| scalars.low_u64(i)).collect();
        return msm::msm(points, &mags, &scalars.negative, bits, parallelism());
    }
    let nbytes = bits.div_ceil(8);
    let needs_copy = (0..n).any(|i| scalars.negative[i] || scalars.is_zero(i));
    let owned: Vec<blst_p1_affine>;
    let pts: &[blst_p1_affine] = if needs_copy {
        let mut v = Vec::with_capacity(n);
        for (i, p) in points.iter().enumerate() {
            if scalars.is_zero(i) {
                continue;
            }
            v.push(if scalars.negative[i] { negate(p) } else { *p });
        }
        owned = v;
        &owned
    } else {
        points
    };
    if pts.is_empty() {
        return blst_p1::default();
    }
    if bits == 1 {
        return pts.add();
    }
    let mut packed = Vec::with_capacity(pts.len() * nbytes);
    for i in 0..n {
        if needs_copy && scalars.is_zero(i) {
            continue;
        }
        // nbytes ≤ width: `bits` is the bit length of the largest magnitude.
        packed.extend_from_slice(&scalars.mag(i)[..nbytes]);
    }
    if serial && pts.len() < TILED_MIN_POINTS {
        serial_pippenger(pts, &packed, bits)
    } else if pts.len() < TILED_MIN_POINTS {
        pts.mult(&packed, bits)
    } else {
        tiled_pippenger(pts, &packed, bits)
    }
}

/// Σ s_i·P_i with `bits`-bit little-endian scalars of ⌈bits/8⌉ bytes on the calling thread
/// (no thread pool), by whichever is modelled cheaper: double-and-add over the bits, all
/// points at once (`bits` doublings and one mixed addition per set bit: the verifier's
/// range checks have power-of-two weights, one set bit each), or blst tile pippengers on the
/// tiling `choose_tiling` picks for one thread.
fn serial_pippenger(points: &[blst_p1_affine], scalars: &[u8], bits: usize) -> blst_p1 {
    let n = points.len();
    let nbytes = bits.div_ceil(8);
    let set_bits: usize = scalars[..n * nbytes].iter().map(|b| b.count_ones() as usize).sum();
    let horner = (bits + set_bits) as f64;
    let t = choose_tiling(n, bits, 1);
    // One point (no tiling found) or an oversized window: double-and-add.
    let pippenger = if n < 2 || t.window > 20 {
        f64::INFINITY
    } else {
        t.windows as f64 * (n as f64 + BUCKET_REDUCE_COST * (1u64 << (t.window - 1)) as f64) + bits as f64
    };
    let mut acc = blst_p1::default();
    if horner <= pippenger {
        for b in (0..bits).rev() {
            unsafe { blst_p1_double(&mut acc, &acc) };
            let (byte, mask) = (b / 8, 1u8 << (b % 8));
            for (i, p) in points.iter().enumerate() {
                if scalars[i * nbytes + byte] & mask != 0 {
                    unsafe { blst_p1_add_or_double_affine(&mut acc, &acc, p) };
                }
            }
        }
        return acc;
    }
    let scratch_words = unsafe { blst_p1s_mult_pippenger_scratch_sizeof(0) } / 8;
    let mut scratch: Vec<limb_t> = vec![0; scratch_words << (t.window - 1)];
    let p: [*const blst_p1_affine; 2] = [points.as_ptr(), std::ptr::null()];
    let sc: [*const u8; 2] = [scalars.as_ptr(), std::ptr::null()];
    // Horner over the windows, top first (one chunk: all points).
    for w in (0..t.windows).rev() {
        if w + 1 < t.windows {
            for _ in 0..t.window {
                unsafe { blst_p1_double(&mut acc, &acc) };
            }
        }
        let mut tile = blst_p1::default();
        unsafe {
            blst_p1s_tile_pippenger(&mut tile, p.as_ptr(), n, sc.as_ptr(), bits, scratch.as_mut_ptr(), w * t.window, t.window);
            blst_p1_add_or_double(&mut acc, &acc, &tile);
        }
    }
    acc
}

/// Below this many points blst's own `mult` (which picks its tiling for full-size scalars)
/// is used; above, `tiled_pippenger` picks windows for the actual bit length.
const TILED_MIN_POINTS: usize = 4096;

/// Modelled cost of reducing one bucket, in units of one bucket accumulation (a mixed
/// addition): two xyzz additions per bucket.
const BUCKET_REDUCE_COST: f64 = 2.8;

/// Tiling of an MSM: `windows` scalar windows of `window` bits (the top one narrower), each
/// over `chunks` slices of the points; every (window, chunk) tile is one blst tile pippenger.
#[derive(Clone, Copy, Debug)]
struct Tiling {
    windows: usize,
    window: usize,
    chunks: usize,
}

/// Picks the tiling with the least modelled wall time on `threads` threads (ties: least CPU).
///
/// blst's `mult` derives its tiling from the point count alone (sized for 255-bit scalars): a
/// 33-bit MSM of 2^20 points gets three 12-bit windows, where two windows of 17 bits do the
/// same with two thirds of the bucket additions. With W windows the width is ⌊bits/W⌋ + 1, so
/// the top window is strictly narrower (blst's Booth recoding needs that spare bit).
fn choose_tiling(npoints: usize, bits: usize, threads: usize) -> Tiling {
    let mut best = Tiling { windows: 1, window: bits + 1, chunks: 1 };
    let mut best_cost = (f64::INFINITY, f64::INFINITY);
    for windows in 1..=bits {
        let window = bits / windows + 1;
        // The top window keeps at least one bit: bits − window·(W − 1) ≥ 1.
        if window > 20 || window * (windows - 1) >= bits {
            continue;
        }
        for chunks in 1..=threads.max(1) {
            if npoints / chunks < 2 {
                break;
            }
            let tiles = windows * chunks;
            let per_tile = (npoints as f64 / chunks as f64) + BUCKET_REDUCE_COST * (1u64 << (window - 1)) as f64;
            let rounds = tiles.div_ceil(threads.max(1));
            let cost = (rounds as f64 * per_tile, tiles as f64 * per_tile);
            if cost < best_cost {
                best_cost = cost;
                best = Tiling { windows, window, chunks };
            }
        }
    }
    best
}

/// A G1 point that may be sent between threads (blst's projective point is plain data).
#[derive(Clone, Copy, Default)]
struct Sum(blst_p1);

/// Σ s_i·P_i with `bits`-bit little-endian scalars of ⌈bits/8⌉ bytes, by blst tile pippengers
/// on a tiling chosen for `bits` (see `choose_tiling`), tiles shared out to worker threads.
fn tiled_pippenger(points: &[blst_p1_affine], scalars: &[u8], bits: usize) -> blst_p1 {
    let n = points.len();
    let nbytes = bits.div_ceil(8);
    let threads = parallelism();
    let t = choose_tiling(n, bits, threads);
    let chunk_len = n.div_ceil(t.chunks);
    let tiles = t.windows * t.chunks;
    let results: Vec<std::sync::Mutex<Sum>> = (0..tiles).map(|_| std::sync::Mutex::new(Sum::default())).collect();
    let next = AtomicUsize::new(0);
    let scratch_words = unsafe { blst_p1s_mult_pippenger_scratch_sizeof(0) } / 8;
    std::thread::scope(|s| {
        for _ in 0..threads.min(tiles) {
            s.spawn(|| {
                let mut scratch: Vec<limb_t> = vec![0; scratch_words << (t.window - 1)];
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= tiles {
                        break;
                    }
                    let (w, c) = (k / t.chunks, k % t.chunks);
                    let start = c * chunk_len;
                    let end = ((c + 1) * chunk_len).min(n);
                    let p: [*const blst_p1_affine; 2] = [&points[start], std::ptr::null()];
                    let sc: [*const u8; 2] = [&scalars[start * nbytes], std::ptr::null()];
                    let mut out = blst_p1::default();
                    unsafe {
                        blst_p1s_tile_pippenger(&mut out, p.as_ptr(), end - start, sc.as_ptr(), bits, scratch.as_mut_ptr(), w * t.window, t.window);
                    }
                    if let Ok(mut slot) = results[k].lock() {
                        slot.0 = out;
                    }
                }
            });
        }
    });
    msm::horner_windows(t.windows, t.window, t.chunks, |w, c| results[w * t.chunks + c].lock().map(|g| g.0).unwrap_or_default())
}

/// Small signed scalars (JS safe integers) as 8-byte magnitudes and signs.
fn small_scalars(values: &[f64]) -> Result<Scalars> {
    let mut mags = Vec::with_capacity(values.len() * 8);
    let mut negative = Vec::with_capacity(values.len());
    for (i, &s) in values.iter().enumerate() {
        if !(s.is_finite() && s.trunc() == s && s.abs() <= MAX_SAFE) {
            return Err(invalid(format!("scalar {i} is not a safe integer: {s}")));
        }
        mags.extend_from_slice(&(s.abs() as u64).to_le_bytes());
        negative.push(s < 0.0);
    }
    Ok(Scalars { width: 8, mags, negative })
}

/// Full scalars: 32-byte little-endian magnitudes and 0/1 sign bytes.
fn full_scalars(mags: &[u8], signs: &[u8]) -> Result<Scalars> {
    if mags.len() != signs.len() * SCALAR_BYTES {
        return Err(invalid(format!("expected {} scalar bytes for {} signs, got {}", signs.len() * SCALAR_BYTES, signs.len(), mags.len())));
    }
    let mut negative = Vec::with_capacity(signs.len());
    for (i, &s) in signs.iter().enumerate() {
        if s > 1 {
            return Err(invalid(format!("sign {i} is not 0 or 1: {s}")));
        }
        negative.push(s == 1);
    }
    Ok(Scalars { width: SCALAR_BYTES, mags: mags.to_vec(), negative })
}

fn range(basis: &G1Basis, offset: u32, len: u32) -> Result<(usize, usize)> {
    let (o, l) = (offset as usize, len as usize);
    match o.checked_add(l) {
        Some(end) if end <= basis.points.len() => Ok((o, end)),
        _ => Err(invalid(format!("range [{o}, {o} + {l}) outside the basis of {} points", basis.points.len()))),
    }
}

/// A list of G1 points held in native memory (an SRS Lagrange basis, or ad-hoc points).
#[napi]
pub struct G1Basis {
    points: Arc<Vec<blst_p1_affine>>,
    /// Σ of all points, computed on first use: a dense subset sum over the whole basis is
    /// the total minus the points not selected.
    total: Arc<OnceLock<blst_p1>>,
}

#[napi]
impl G1Basis {
    /// From `n × 96` bytes of affine points `x ‖ y` (big-endian, no flags); each is checked to
    /// have canonical coordinates and lie on the curve.
    #[napi(constructor)]
    pub fn new(bytes: Uint8Array) -> Result<Self> {
        guarded("G1Basis", || Ok(G1Basis { points: Arc::new(parse_affines(&bytes)?), total: Arc::new(OnceLock::new()) }))
    }

    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.points.len() as u32
    }
}

/// The job of one asynchronous MSM, run on a libuv worker (blst's pool does the work).
enum MsmJob {
    Signed { points: Arc<Vec<blst_p1_affine>>, start: usize, end: usize, scalars: Scalars },
    Subset { points: Arc<Vec<blst_p1_affine>>, start: usize, end: usize, bits: Vec<u8>, total: Option<Arc<OnceLock<blst_p1>>> },
    /// One point: Σ_{j,t} w_{j,t}·S_{j,t} with S_{j,t} = Σ_k (β_j[(2k+1)h + t] − β_j[2kh + t])·P_k
    /// for each bit vector β_j of `n` entries and t < h (h = 2^(round−1)), `weights` j-major.
    PairDiffs { points: Arc<Vec<blst_p1_affine>>, start: usize, end: usize, bits: Vec<u8>, n: usize, h: usize, weights: Scalars },
    /// Σ_{β_j = 1} P for each of the vectors β_j of `n` entries in `bits`.
    Subsets { points: Arc<Vec<blst_p1_affine>>, start: usize, end: usize, bits: Vec<u8>, n: usize, total: Option<Arc<OnceLock<blst_p1>>> },
}

pub struct MsmTask(Option<MsmJob>);

fn run_job(job: MsmJob) -> Result<Vec<u8>> {
    if let MsmJob::PairDiffs { points, start, end, bits, n, h, weights } = job {
        let pts = &points[start..end];
        return Ok(serialize_p1(&weighted_sum(&pair_diff_sums(pts, &bits, n, h), &weights)).to_vec());
    }
    if let MsmJob::Subsets { points, start, end, bits, n, total } = job {
        let vectors: Vec<&[u8]> = bits.chunks_exact(n).collect();
        let mut out = Vec::with_capacity(vectors.len() * G1_AFFINE_BYTES);
        for p in subset::subset_sums(&points[start..end], &vectors, total.as_deref()) {
            out.extend_from_slice(&serialize_p1(&p));
        }
        return Ok(out);
    }
    let p = match job {
        MsmJob::PairDiffs { .. } | MsmJob::Subsets { .. } => unreachable!("handled above"),
        MsmJob::Signed { points, start, end, scalars } => msm_signed(&points[start..end], &scalars),
        MsmJob::Subset { points, start, end, bits, total } => subset_sum(&points[start..end], &bits, total.as_deref()),
    };
    Ok(serialize_p1(&p).to_vec())
}

/// Σ_i w_i·P_i for projective points (identities and zero weights dropped), on this thread.
fn weighted_sum(points: &[blst_p1], weights: &Scalars) -> blst_p1 {
    let mut keep = Vec::with_capacity(points.len());
    let mut mags = Vec::with_capacity(points.len() * weights.width);
    let mut negative = Vec::with_capacity(points.len());
    for (i, p) in points.iter().enumerate() {
        if unsafe { blst_p1_is_inf(p) } || weights.is_zero(i) {
            continue;
        }
        keep.push(*p);
        mags.extend_from_slice(weights.mag(i));
        negative.push(weights.negative[i]);
    }
    if keep.is_empty() {
        return blst_p1::default();
    }
    let mut affine = vec![blst_p1_affine::default(); keep.len()];
    let refs = [keep.as_ptr(), std::ptr::null()];
    unsafe { blst_p1s_to_affine(affine.as_mut_ptr(), refs.as_ptr(), keep.len()) };
    msm_signed_with(&affine, &Scalars { width: weights.width, mags, negative }, true)
}

/// For each 0/1 row b of `n` entries in `bits` (j-major) and t < h, Σ_k (b[(2k+1)h + t] −
/// b[2kh + t])·P_k (a share of an early quotient of an opening of bit vectors, pst.ts; h = 1 is
/// the first round): the subset sum of the odd entries minus that of the even ones, all of
/// them computed together (`subset::subset_sums`).
fn pair_diff_sums(points: &[blst_p1_affine], bits: &[u8], n: usize, h: usize) -> Vec<blst_p1> {
    let m = points.len();
    let mut vectors: Vec<Vec<u8>> = Vec::with_capacity(2 * bits.len() / n.max(1) * h);
    for row in bits.chunks_exact(n) {
        for t in 0..h {
            vectors.push((0..m).map(|k| row[(2 * k + 1) * h + t]).collect());
            vectors.push((0..m).map(|k| row[2 * k * h + t]).collect());
        }
    }
    let refs: Vec<&[u8]> = vectors.iter().map(|v| v.as_slice()).collect();
    let mut total = None;
    // With s_f = Σ_{v ≠ f} P: a vector's sum is s_0, or T − s_1 (T = Σ P). Odd and even
    // halves flipped alike (a constant high bit) need no T: their difference is ±(s_odd − s_even).
    subset::minority_sums(points, &refs)
        .chunks_exact(2)
        .map(|pair| {
            let ((f_odd, odd), (f_even, even)) = (pair[0], pair[1]);
            match (f_odd, f_even) {
                (false, false) => subset::minus(odd, even),
                (true, true) => subset::minus(even, odd),
                // T − s_odd − s_even
                (true, false) => subset::minus(subset::minus(subset::total_of(points, None, &mut total), odd), even),
                // s_odd + s_even − T
                (false, true) => subset::minus(subset::minus(odd, subset::minus(blst_p1::default(), even)), subset::total_of(points, None, &mut total)),
            }
        })
        .collect()
}

fn sum_where(points: &[blst_p1_affine], bits: &[u8], want: u8) -> blst_p1 {
    let selected: Vec<blst_p1_affine> = points.iter().zip(bits).filter(|(_, &b)| b == want).map(|(p, _)| *p).collect();
    if selected.is_empty() {
        blst_p1::default()
    } else {
        selected.as_slice().add()
    }
}

/// Σ_{bits_i = 1} P_i. When `total` (the sum of all of `points`, cached on the basis) is
/// given and most bits are set, computes total − Σ_{bits_i = 0} P_i instead: range proofs'
/// high bit vectors are nearly constant, so this makes their cost that of the unset bits. Same group element.
fn subset_sum(points: &[blst_p1_affine], bits: &[u8], total: Option<&OnceLock<blst_p1>>) -> blst_p1 {
    let ones = bits.iter().filter(|&&b| b == 1).count();
    match total {
        Some(cache) if 2 * ones > bits.len() => {
            let all = cache.get_or_init(|| points.add());
            let mut rest = sum_where(points, bits, 0);
            let mut out = blst_p1::default();
            unsafe {
                blst_p1_cneg(&mut rest, true);
                blst_p1_add_or_double(&mut out, all, &rest);
            }
            out
        }
        _ => sum_where(points, bits, 1),
    }
}

impl Task for MsmTask {
    type Output = Vec<u8>;
    type JsValue = Buffer;

    fn compute(&mut self) -> Result<Self::Output> {
        let job = self.0.take().ok_or_else(|| Error::new(Status::GenericFailure, "MSM task ran twice"))?;
        guarded("msm", || run_job(job))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.into())
    }
}

/// Σ s_i·P_{offset+i} for signed safe-integer scalars, asynchronously. Resolves to the
/// 96-byte uncompressed result.
#[napi]
pub fn msm_small(basis: &G1Basis, offset: u32, scalars: Float64Array) -> Result<AsyncTask<MsmTask>> {
    guarded("msmSmall", || {
        let (start, end) = range(basis, offset, scalars.len() as u32)?;
        let scalars = small_scalars(&scalars)?;
        Ok(AsyncTask::new(MsmTask(Some(MsmJob::Signed { points: basis.points.clone(), start, end, scalars }))))
    })
}

/// Σ_{bits_i = 1} P_{offset+i} (bits are 0/1 bytes), asynchronously.
#[napi(js_name = "subsetSum")]
pub fn subset_sum_js(basis: &G1Basis, offset: u32, bits: Uint8Array) -> Result<AsyncTask<MsmTask>> {
    guarded("subsetSum", || {
        let (start, end) = range(basis, offset, bits.len() as u32)?;
        if let Some(i) = bits.iter().position(|&b| b > 1) {
            return Err(invalid(format!("bit {i} is not 0 or 1: {}", bits[i])));
        }
        let total = (start == 0 && end == basis.points.len()).then(|| basis.total.clone());
        Ok(AsyncTask::new(MsmTask(Some(MsmJob::Subset { points: basis.points.clone(), start, end, bits: bits.to_vec(), total }))))
    })
}

/// Σ_{β_j[i] = 1} P_{offset+i} for each of the 0/1 vectors β_0 … β_{ℓ−1} of `n` entries in
/// `bits` (ℓ·n bytes), asynchronously; resolves to ℓ × 96 bytes. The same points as ℓ calls
/// of `subsetSum`, for far fewer additions (`subset::subset_sums`).
#[napi(js_name = "subsetSums")]
pub fn subset_sums_js(basis: &G1Basis, offset: u32, bits: Uint8Array, n: u32) -> Result<AsyncTask<MsmTask>> {
    guarded("subsetSums", || {
        let n = n as usize;
        if n == 0 || !bits.len().is_multiple_of(n) {
            return Err(invalid(format!("subsetSums: {} bytes are not whole vectors of {n} entries", bits.len())));
        }
        let (start, end) = range(basis, offset, n as u32)?;
        if let Some(i) = bits.iter().position(|&b| b > 1) {
            return Err(invalid(format!("bit {} of vector {} is not 0 or 1: {}", i % n, i / n, bits[i])));
        }
        let total = (start == 0 && end == basis.points.len()).then(|| basis.total.clone());
        Ok(AsyncTask::new(MsmTask(Some(MsmJob::Subsets { points: basis.points.clone(), start, end, bits: bits.to_vec(), n, total }))))
    })
}

/// For bit vectors β_0 … β_{ℓ−1} of `n` entries each (ℓ·n bytes, 0/1) and an opening round
/// r ≥ 1 (h = 2^(r−1)), the ℓ·h signed subset sums S_{j,t} = Σ_k (β_j[(2k+1)h + t] −
/// β_j[2kh + t])·P_{offset+k} over n/2^r basis points, combined with their weights:
/// Σ_{j,t} η^j·eq(t, ρ_1..ρ_{r−1})·S_{j,t} — or with η^{j+1} when `lead` (a leading vector
/// takes η^0) — round r's bit part of the batched opening's quotient (native/backend.ts
/// `openBits`; signed subset sums instead of a 255-bit MSM), as one 96-byte point,
/// asynchronously. `eta` is 32 bytes LE, `prefix` the r − 1 coordinates ρ_1..ρ_{r−1} (32 bytes
/// LE each).
#[napi(js_name = "bitPairDiffQuotient")]
#[allow(clippy::too_many_arguments)]
pub fn bit_pair_diff_quotient(basis: &G1Basis, offset: u32, bits: Uint8Array, n: u32, round: u32, eta: Uint8Array, prefix: Uint8Array, lead: bool) -> Result<AsyncTask<MsmTask>> {
    guarded("bitPairDiffQuotient", || {
        let n_rows = if n == 0 { 0 } else { bits.len() / n as usize };
        if prefix.len() != (round.max(1) as usize - 1) * SCALAR_BYTES {
            return Err(invalid(format!("bitPairDiffQuotient: round {round} takes {} prefix coordinates, got {} bytes", round.max(1) - 1, prefix.len())));
        }
        let (mags, signs) = field::pair_diff_weights(&eta, &prefix, n_rows, lead)?;
        let weights = full_scalars(&mags, &signs)?;
        Ok(AsyncTask::new(MsmTask(Some(pair_diffs_job("bitPairDiffQuotient", basis, offset, &bits, n, round, weights)?))))
    })
}

/// The checked job of `bitPairDiffQuotient`.
fn pair_diffs_job(what: &str, basis: &G1Basis, offset: u32, bits: &[u8], n: u32, round: u32, weights: Scalars) -> Result<MsmJob> {
    let n = n as usize;
    if !(1..=20).contains(&round) {
        return Err(invalid(format!("{what}: round {round} is not in 1..=20")));
    }
    let h = 1usize << (round - 1);
    if n < 2 * h || !n.is_multiple_of(2 * h) || !bits.len().is_multiple_of(n) {
        return Err(invalid(format!("{what}: {} bytes are not whole vectors of a length n = {n} divisible by 2^{round}", bits.len())));
    }
    let (start, end) = range(basis, offset, (n / (2 * h)) as u32)?;
    if let Some(i) = bits.iter().position(|&b| b > 1) {
        return Err(invalid(format!("bit {} of vector {} is not 0 or 1: {}", i % n, i / n, bits[i])));
    }
    Ok(MsmJob::PairDiffs { points: basis.points.clone(), start, end, bits: bits.to_vec(), n, h, weights })
}

/// Σ ±m_i·P_{offset+i} for 32-byte little-endian magnitudes m_i and 0/1 signs, asynchronously.
#[napi]
pub fn msm_full(basis: &G1Basis, offset: u32, mags: Uint8Array, signs: Uint8Array) -> Result<AsyncTask<MsmTask>> {
    guarded("msmFull", || {
        let (start, end) = range(basis, offset, signs.len() as u32)?;
        let scalars = full_scalars(&mags, &signs)?;
        Ok(AsyncTask::new(MsmTask(Some(MsmJob::Signed { points: basis.points.clone(), start, end, scalars }))))
    })
}

/// Synchronous full-scalar MSM over ad-hoc affine points (`n × 96` bytes) on blst's thread
/// pool: the reference `msmFullPointsGroups` is tested against.
#[napi]
pub fn msm_full_points(points: Uint8Array, mags: Uint8Array, signs: Uint8Array) -> Result<Buffer> {
    guarded("msmFullPoints", || {
        let pts = parse_affines(&points)?;
        if pts.len() != signs.len() {
            return Err(invalid(format!("expected {} scalars, got {}", pts.len(), signs.len())));
        }
        let scalars = full_scalars(&mags, &signs)?;
        Ok(serialize_p1(&msm_signed(&pts, &scalars)))
    })
}

/// Several full-scalar MSMs over ad-hoc affine points in one call (the verifier's accumulator
/// evaluation: one MSM per slot). Group `g` is the next `counts[g]` points and scalars; the
/// result is `counts.len() × 96` bytes, group by group. Groups of at least `GROUP_THREADED_MIN`
/// points run one after another on every thread (as `msmFullPoints`); the smaller ones are
/// spread over the threads, each on one (a single-threaded pippenger or double-and-add), so a dozen MSMs of a few
/// dozen points cost one boundary crossing and no per-MSM thread pool hand-off.
/// Groups of `msmFullPointsGroups` at least this large use every thread on their own.
const GROUP_THREADED_MIN: usize = 256;

#[napi(js_name = "msmFullPointsGroups")]
pub fn msm_full_points_groups(points: Uint8Array, mags: Uint8Array, signs: Uint8Array, counts: Uint32Array) -> Result<Buffer> {
    guarded("msmFullPointsGroups", || {
        let pts = parse_affines(&points)?;
        if pts.len() != signs.len() {
            return Err(invalid(format!("expected {} scalars, got {}", pts.len(), signs.len())));
        }
        let total: usize = counts.iter().map(|&c| c as usize).sum();
        if total != pts.len() {
            return Err(invalid(format!("group counts add up to {total}, expected {} points", pts.len())));
        }
        let scalars = full_scalars(&mags, &signs)?;
        let mut ranges = Vec::with_capacity(counts.len());
        let mut at = 0usize;
        for &c in counts.iter() {
            ranges.push((at, at + c as usize));
            at += c as usize;
        }
        let group = |(a, b): (usize, usize), serial: bool| -> blst_p1 {
            let sub = Scalars { width: scalars.width, mags: scalars.mags[a * scalars.width..b * scalars.width].to_vec(), negative: scalars.negative[a..b].to_vec() };
            msm_signed_with(&pts[a..b], &sub, serial)
        };
        let mut out = vec![blst_p1::default(); ranges.len()];
        let small: Vec<usize> = (0..ranges.len()).filter(|&g| ranges[g].1 - ranges[g].0 < GROUP_THREADED_MIN).collect();
        for g in 0..ranges.len() {
            if ranges[g].1 - ranges[g].0 >= GROUP_THREADED_MIN {
                out[g] = group(ranges[g], false);
            }
        }
        let small_points: usize = small.iter().map(|&g| ranges[g].1 - ranges[g].0).sum();
        let threads = parallelism().min(small.len()).min(small_points / 64).max(1);
        if threads == 1 {
            for &g in &small {
                out[g] = group(ranges[g], true);
            }
        } else {
            // Round-robin by size (largest first) so the threads get similar work.
            let mut order = small.clone();
            order.sort_by_key(|&g| std::cmp::Reverse(ranges[g].1 - ranges[g].0));
            let results: Vec<Vec<(usize, blst_p1)>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let mine: Vec<usize> = order.iter().copied().skip(t).step_by(threads).collect();
                        let group = &group;
                        let ranges = &ranges;
                        s.spawn(move || mine.into_iter().map(|g| (g, group(ranges[g], true))).collect::<Vec<_>>())
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
            });
            let mut done = 0;
            for r in results {
                for (g, p) in r {
                    out[g] = p;
                    done += 1;
                }
            }
            if done != small.len() {
                return Err(invalid("msmFullPointsGroups: a worker thread panicked"));
            }
        }
        let mut bytes = vec![0u8; out.len() * G1_AFFINE_BYTES];
        for (g, p) in out.iter().enumerate() {
            unsafe { blst_p1_serialize(bytes[g * G1_AFFINE_BYTES..].as_mut_ptr(), p) };
        }
        Ok(bytes.into())
    })
}

/// blst's own pippenger on the range with `nbits`-bit little-endian scalars of ⌈nbits/8⌉ bytes
/// each, no sign handling: the reference the benchmarks compare `msmFull` with.
#[napi]
pub fn blst_pippenger(basis: &G1Basis, offset: u32, len: u32, scalars: Uint8Array, nbits: u32) -> Result<Buffer> {
    guarded("blstPippenger", || {
        let (start, end) = range(basis, offset, len)?;
        let nbits = nbits as usize;
        if nbits == 0 || nbits > 256 || scalars.len() != (end - start) * nbits.div_ceil(8) {
            return Err(invalid("blstPippenger: bad scalar length or bit count"));
        }
        if start == end {
            return Ok(serialize_p1(&blst_p1::default()));
        }
        Ok(serialize_p1(&basis.points[start..end].mult(&scalars, nbits)))
    })
}

/// Decoding outcome codes of `g1_decompress`.
const DEC_OK: u8 = 0;
const DEC_BAD_ENCODING: u8 = 1;
const DEC_NOT_ON_CURVE: u8 = 2;
const DEC_NOT_IN_GROUP: u8 = 3;
const DEC_INFINITY: u8 = 4;

fn decompress_one(src: &[u8], dst: &mut [u8], check_subgroup: bool) {
    let mut p = blst_p1_affine::default();
    let status = match unsafe { blst_p1_uncompress(&mut p, src.as_ptr()) } {
        BLST_ERROR::BLST_SUCCESS => {
            if src[0] & 0x40 != 0 {
                DEC_INFINITY
            } else if !check_subgroup || unsafe { blst_p1_affine_in_g1(&p) } {
                DEC_OK
            } else {
                DEC_NOT_IN_GROUP
            }
        }
        BLST_ERROR::BLST_POINT_NOT_ON_CURVE => DEC_NOT_ON_CURVE,
        // (0, ±2), of order 3: flagged by blst's decoder itself (with `p` set).
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP if !check_subgroup => DEC_OK,
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => DEC_NOT_IN_GROUP,
        _ => DEC_BAD_ENCODING,
    };
    dst[0] = status;
    if status == DEC_OK {
        let mut q = blst_p1::default();
        unsafe {
            blst_p1_from_affine(&mut q, &p);
            blst_p1_serialize(dst[1..].as_mut_ptr(), &q);
        }
    }
}

/// Decompresses `k × 48` bytes of compressed G1 points with the curve check and, unless
/// `check_subgroup` is false, the subgroup check (default: checked), in parallel. Returns
/// `k × 97` bytes: a status byte (0 ok, 1 bad encoding, 2 not on the curve, 3 not in the
/// subgroup, 4 the identity) then the 96-byte uncompressed point. Unchecked points are points
/// of E(Fp) whose G1 membership the caller settles later (smdp: proof points, checked through
/// the accumulator that `pairing_check` tests).
#[napi]
pub fn g1_decompress(bytes: Uint8Array, check_subgroup: Option<bool>) -> Result<Buffer> {
    guarded("g1Decompress", || {
        let check = check_subgroup.unwrap_or(true);
        if !bytes.len().is_multiple_of(G1_COMPRESSED_BYTES) {
            return Err(invalid(format!("compressed points: length {} is not a multiple of {G1_COMPRESSED_BYTES}", bytes.len())));
        }
        let k = bytes.len() / G1_COMPRESSED_BYTES;
        let mut out = vec![0u8; k * (G1_AFFINE_BYTES + 1)];
        // Unchecked decoding is ≈ 4× cheaper per point: threads only for larger batches.
        let threads = parallelism().min(k / if check { 4 } else { 16 }).max(1);
        let chunk = k.div_ceil(threads).max(1);
        let src: &[u8] = &bytes;
        if threads == 1 {
            for (i, d) in out.chunks_mut(G1_AFFINE_BYTES + 1).enumerate() {
                decompress_one(&src[i * G1_COMPRESSED_BYTES..(i + 1) * G1_COMPRESSED_BYTES], d, check);
            }
            return Ok(out.into());
        }
        std::thread::scope(|s| {
            for (c, dst) in out.chunks_mut(chunk * (G1_AFFINE_BYTES + 1)).enumerate() {
                s.spawn(move || {
                    for (j, d) in dst.chunks_mut(G1_AFFINE_BYTES + 1).enumerate() {
                        let i = c * chunk + j;
                        decompress_one(&src[i * G1_COMPRESSED_BYTES..(i + 1) * G1_COMPRESSED_BYTES], d, check);
                    }
                });
            }
        });
        Ok(out.into())
    })
}

/// The G2 side of a verifier key, decompressed once: [1]_2, [τ_1]_2 … [τ_N]_2.
#[napi]
pub struct G2Table {
    points: Vec<blst_p2_affine>,
}

#[napi]
impl G2Table {
    /// From `(N+1) × 96` bytes of compressed G2 points, each checked (curve and subgroup).
    #[napi(constructor)]
    pub fn new(bytes: Uint8Array) -> Result<Self> {
        guarded("G2Table", || {
            if !bytes.len().is_multiple_of(G2_COMPRESSED_BYTES) {
                return Err(invalid(format!("G2 points: length {} is not a multiple of {G2_COMPRESSED_BYTES}", bytes.len())));
            }
            let mut points = Vec::with_capacity(bytes.len() / G2_COMPRESSED_BYTES);
            for (j, b) in bytes.chunks(G2_COMPRESSED_BYTES).enumerate() {
                let mut q = blst_p2_affine::default();
                let err = unsafe { blst_p2_uncompress(&mut q, b.as_ptr()) };
                if err != BLST_ERROR::BLST_SUCCESS || b[0] & 0x40 != 0 || !unsafe { blst_p2_affine_in_g2(&q) } {
                    return Err(invalid(format!("G2 point {j} is not a non-identity point of G2")));
                }
                points.push(q);
            }
            Ok(G2Table { points })
        })
    }

    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.points.len() as u32
    }
}

/// Π_k e(P_k, Q_{slots_k}) == 1 for affine G1 points (`m × 96` bytes, none the identity) and
/// indices into the table: one multi-Miller loop (split over blst's threads) and one final
/// exponentiation. An empty product is 1. A point outside the subgroup G1 (a point of E(Fp)
/// with a cofactor component: decoded without the subgroup check, see `g1_decompress`) fails
/// the check: every pairing input is tested for G1 membership first.
#[napi]
pub fn pairing_check(table: &G2Table, g1: Uint8Array, slots: Uint32Array) -> Result<bool> {
    guarded("pairingCheck", || {
        let ps = parse_affines(&g1)?;
        if ps.len() != slots.len() {
            return Err(invalid(format!("expected {} slots, got {}", ps.len(), slots.len())));
        }
        if ps.is_empty() {
            return Ok(true);
        }
        if !ps.iter().all(|p| unsafe { blst_p1_affine_in_g1(p) }) {
            return Ok(false);
        }
        let mut qs = Vec::with_capacity(ps.len());
        for &j in slots.iter() {
            let q = table.points.get(j as usize).ok_or_else(|| invalid(format!("slot {j} outside the G2 table of {}", table.points.len())))?;
            qs.push(*q);
        }
        let f = blst_fp12::miller_loop_n(&qs, &ps).final_exp();
        Ok(unsafe { blst_fp12_is_one(&f) })
    })
}
