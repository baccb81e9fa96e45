//! Pippenger's bucket method with batch-affine bucket accumulation, for MSMs whose scalars are
//! small (≤ `MAX_BITS` bits): the prover's commitments to integer weights.
//!
//! Why by hand: blst's tile pippenger adds every point into an XYZZ bucket with a mixed
//! addition (≈ 8M + 2S). Summing the points of a bucket in affine coordinates instead costs
//! ≈ 5M + 1S per addition when many independent additions share one field inversion
//! (Montgomery's trick: one inversion and 3M per element) — the "batch-affine" technique of
//! gnark-crypto, arkworks and sppark. blst exposes the field arithmetic but not this loop.
//!
//! One (window, chunk) tile: the signed (Booth) digit of every scalar in the window; a counting
//! sort of the points by bucket (|digit| − 1, the sign applied to the point); then groups of
//! at most `GROUP` consecutive sorted points are reduced in pairwise rounds — every bucket's run
//! of L points becomes ⌈L/2⌉ sums per round, all pairs of the group through one inversion —
//! so no two additions of a batch ever touch the same bucket and none waits for another. A
//! bucket cut by a group's end carries its partial sum into the next group. The bucket sums
//! S_b are then combined into Σ_b (b + 1)·S_b by running sums, also batch-affine: K chains
//! over K ranges of L buckets advance in step, the K additions of a step sharing an inversion,
//! and the chains are joined in Jacobian coordinates (see `combine_buckets`).
//!
//! Every case of the affine group law is handled exactly: P + Q with x_P ≠ x_Q, P + P (a
//! doubling, inverting 2y), P + (−P) and sums with the identity (which has no affine form here;
//! it is a flag, and blst's (0, 0) encoding of it is read as the identity, as blst does).

use blst::{
    blst_fp, blst_fp_add, blst_fp_cneg, blst_fp_inverse, blst_fp_mul, blst_fp_mul_by_3, blst_fp_sqr, blst_fp_sub, blst_p1,
    blst_p1_add_or_double, blst_p1_add_or_double_affine, blst_p1_affine, blst_p1_double,
};

/// Largest scalar bit length this module takes (Booth digits shift the scalar left by one bit).
pub const MAX_BITS: usize = 62;

/// Widest window considered (2^(c−1) buckets).
const MAX_WINDOW: usize = 20;

/// Sorted points reduced together: ≈ 1 MiB of working set (two point buffers and two field
/// scratch arrays), and few enough inversions (one per round) to be negligible.
const GROUP: usize = 4096;

/// Modelled cost of one bucket of the running-sum reduction (two batch-affine additions and
/// the bucket's share of the bookkeeping), in units of one batch-affine addition.
const BUCKET_COST: f64 = 2.5;

/// Most running-sum chains advanced in step by `combine_buckets` (their additions share an
/// inversion); the chains are joined with ≈ 3 Jacobian additions each.
const CHAINS: usize = 256;

// Field operations writing through `out` (blst reads and writes limbs with 8-byte accesses;
// results passed back by value would be re-read with wider loads, which the store buffer
// cannot forward). `out` may be an input (blst allows it), hence the raw pointers.

#[inline(always)]
fn mul(out: *mut blst_fp, a: *const blst_fp, b: *const blst_fp) {
    unsafe { blst_fp_mul(out, a, b) }
}

#[inline(always)]
fn sqr(out: *mut blst_fp, a: *const blst_fp) {
    unsafe { blst_fp_sqr(out, a) }
}

#[inline(always)]
fn add(out: *mut blst_fp, a: *const blst_fp, b: *const blst_fp) {
    unsafe { blst_fp_add(out, a, b) }
}

#[inline(always)]
fn sub(out: *mut blst_fp, a: *const blst_fp, b: *const blst_fp) {
    unsafe { blst_fp_sub(out, a, b) }
}

/// blst keeps field elements fully reduced (< p), so zero and equality are limb comparisons.
#[inline(always)]
fn is_zero(a: &blst_fp) -> bool {
    a.l.iter().all(|&w| w == 0)
}

/// An affine point or the identity (`inf`; its coordinates are then meaningless).
#[derive(Clone, Copy, Default)]
struct Aff {
    x: blst_fp,
    y: blst_fp,
    inf: bool,
}

const INF: Aff = Aff { x: blst_fp { l: [0; 6] }, y: blst_fp { l: [0; 6] }, inf: true };

/// The signed Booth digit of window `w` (bits [w·c − 1, w·c + c − 1]) of `s` < 2^63:
/// d ∈ [−2^(c−1), 2^(c−1)], and Σ_w d_w·2^(w·c) = s whenever s < 2^(W·c − 1).
#[inline(always)]
fn booth_digit(s: u64, w: usize, c: usize) -> i64 {
    let t = ((s << 1).checked_shr((w * c) as u32).unwrap_or(0)) & ((1u64 << (c + 1)) - 1);
    let v = (t + 1) >> 1;
    v as i64 - (((t >> c) as i64) << c)
}

/// Windows of width `c` needed for `bits`-bit scalars: W·c ≥ bits + 1.
fn windows_for(bits: usize, c: usize) -> usize {
    (bits + 1).div_ceil(c)
}

/// Tiling of an MSM: `windows` Booth windows of `window` bits, each over `chunks` slices of
/// the points; every (window, chunk) tile is one `tile_sum`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tiling {
    pub windows: usize,
    pub window: usize,
    pub chunks: usize,
}

/// Picks the tiling with the least modelled wall time on `threads` threads (ties: least CPU).
pub fn choose_tiling(npoints: usize, bits: usize, threads: usize) -> Tiling {
    let threads = threads.max(1);
    let mut best = Tiling { windows: windows_for(bits, 2), window: 2, chunks: 1 };
    let mut best_cost = (f64::INFINITY, f64::INFINITY);
    for c in 2..=MAX_WINDOW {
        let windows = windows_for(bits, c);
        for chunks in 1..=threads {
            if chunks > 1 && npoints / chunks < GROUP {
                break;
            }
            let tiles = windows * chunks;
            let per_tile = npoints as f64 / chunks as f64 + BUCKET_COST * (1u64 << (c - 1)) as f64;
            let rounds = tiles.div_ceil(threads);
            let cost = (rounds as f64 * per_tile, tiles as f64 * per_tile);
            if cost < best_cost {
                best_cost = cost;
                best = Tiling { windows, window: c, chunks };
            }
        }
    }
    best
}

#[inline(always)]
fn prefetch(p: *const blst_p1_affine) {
    #[cfg(target_arch = "x86_64")]
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch(p as *const i8, _MM_HINT_T0);
        _mm_prefetch((p as *const i8).add(64), _MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// A bucket's run inside the group being reduced.
#[derive(Clone, Copy)]
struct Seg {
    bucket: u32,
    start: u32,
    len: u32,
}

/// Pair kinds of a batch.
const K_ADD: u8 = 0;
const K_DOUBLE: u8 = 1;
const K_LEFT: u8 = 2;
const K_RIGHT: u8 = 3;
const K_INF: u8 = 4;

/// Montgomery's trick over the pairs of one batch: kinds, the denominators of the pairs that
/// need one, and their prefix products.
#[derive(Default)]
struct Batch {
    kind: Vec<u8>,
    den: Vec<blst_fp>,
    prod: Vec<blst_fp>,
    /// Pairs classified, and denominators recorded, so far.
    pairs: usize,
    dens: usize,
    /// While finishing: the inverse of the product of the denominators not yet used.
    inv: blst_fp,
}

impl Batch {
    fn reset(&mut self, max_pairs: usize) {
        if self.kind.len() < max_pairs {
            self.kind.resize(max_pairs, 0);
            self.den.resize(max_pairs, blst_fp::default());
            self.prod.resize(max_pairs, blst_fp::default());
        }
        self.pairs = 0;
        self.dens = 0;
    }

    /// Records the pair a + b: its kind and, for an addition (x_a ≠ x_b) or a doubling, the
    /// denominator of λ.
    #[inline(always)]
    fn classify(&mut self, a: &Aff, b: &Aff) {
        let kind = if a.inf || b.inf {
            match (a.inf, b.inf) {
                (true, true) => K_INF,
                (true, false) => K_RIGHT,
                _ => K_LEFT,
            }
        } else {
            let j = self.dens;
            let d = &mut self.den[j];
            sub(d, &b.x, &a.x);
            let kind = if !is_zero(d) {
                K_ADD
            } else if a.y.l == b.y.l && !is_zero(&a.y) {
                add(d, &a.y, &a.y);
                K_DOUBLE
            } else {
                // b = −a (or a point of order 2, which E(F_p) has none of): the identity.
                K_INF
            };
            if kind != K_INF {
                if j == 0 {
                    self.prod[0] = self.den[0];
                } else {
                    mul(&mut self.prod[j], &self.prod[j - 1], &self.den[j]);
                }
                self.dens = j + 1;
            }
            kind
        };
        self.kind[self.pairs] = kind;
        self.pairs += 1;
    }

    /// Inverts the product of all denominators, to finish the pairs last first.
    fn invert(&mut self) {
        if self.dens > 0 {
            unsafe { blst_fp_inverse(&mut self.inv, &self.prod[self.dens - 1]) };
        }
    }

    /// out ← a + b for the last pair not yet finished (pairs are finished in reverse order).
    #[inline(always)]
    fn finish(&mut self, out: &mut Aff, a: &Aff, b: &Aff) {
        self.pairs -= 1;
        let kind = self.kind[self.pairs];
        match kind {
            K_LEFT => *out = *a,
            K_RIGHT => *out = *b,
            K_INF => *out = INF,
            _ => {
                // The inverse of this pair's denominator, and the running inverse without it.
                self.dens -= 1;
                let j = self.dens;
                let mut inv_j = blst_fp::default();
                if j > 0 {
                    mul(&mut inv_j, &self.inv, &self.prod[j - 1]);
                    let inv: *mut blst_fp = &mut self.inv;
                    mul(inv, inv, &self.den[j]);
                } else {
                    inv_j = self.inv;
                }
                let mut l = blst_fp::default();
                let (ox, oy): (*mut blst_fp, *mut blst_fp) = (&mut out.x, &mut out.y);
                if kind == K_ADD {
                    sub(oy, &b.y, &a.y);
                    mul(&mut l, oy, &inv_j);
                    sqr(ox, &l);
                    sub(ox, ox, &a.x);
                    sub(ox, ox, &b.x);
                } else {
                    sqr(oy, &a.x);
                    unsafe { blst_fp_mul_by_3(oy, oy) };
                    mul(&mut l, oy, &inv_j);
                    sqr(ox, &l);
                    sub(ox, ox, &a.x);
                    sub(ox, ox, &a.x);
                }
                sub(oy, &a.x, ox);
                mul(oy, oy, &l);
                sub(oy, oy, &a.y);
                out.inf = false;
            }
        }
    }
}

/// Working memory of one thread, reused across its tiles.
#[derive(Default)]
pub struct Scratch {
    keys: Vec<u32>,
    counts: Vec<u32>,
    fill: Vec<u32>,
    order: Vec<u32>,
    cur: Vec<Aff>,
    next: Vec<Aff>,
    batch: Batch,
    segs: Vec<Seg>,
    /// Bucket sums, bucket b at `(b % L)·K + b / L` (see `combine_buckets`).
    sums: Vec<Aff>,
    chain: [Vec<Aff>; 4],
}

const NEG: u32 = 1 << 31;
const SKIP: u32 = u32::MAX;

/// Σ_i d_i·P_i over the window-`w` Booth digits d_i (width `c`) of ±`mags[i]` (negative where
/// `neg[i]`), as a Jacobian point.
pub fn tile_sum(points: &[blst_p1_affine], mags: &[u64], neg: &[bool], w: usize, c: usize, s: &mut Scratch) -> blst_p1 {
    let n = points.len();
    let nb = 1usize << (c - 1);
    // Digits and bucket counts.
    s.keys.clear();
    s.keys.reserve(n);
    s.counts.clear();
    s.counts.resize(nb + 1, 0);
    for i in 0..n {
        let d = booth_digit(mags[i], w, c);
        if d == 0 {
            s.keys.push(SKIP);
            continue;
        }
        let b = (d.unsigned_abs() - 1) as u32;
        s.counts[b as usize + 1] += 1;
        s.keys.push(b | if (d < 0) != neg[i] { NEG } else { 0 });
    }
    // Counting sort: bucket b's points are order[counts[b]..counts[b + 1]].
    for b in 0..nb {
        s.counts[b + 1] += s.counts[b];
    }
    s.order.clear();
    s.order.resize(s.counts[nb] as usize, 0);
    s.fill.clear();
    s.fill.extend_from_slice(&s.counts[..nb]);
    for (i, &k) in s.keys.iter().enumerate() {
        if k != SKIP {
            let b = (k & !NEG) as usize;
            s.order[s.fill[b] as usize] = i as u32 | (k & NEG);
            s.fill[b] += 1;
        }
    }
    // Groups of consecutive sorted points; a bucket cut by a group's end carries its partial
    // sum into the next group.
    let (k_chains, l_len) = chain_shape(nb);
    s.sums.clear();
    s.sums.resize(nb, INF);
    if s.cur.len() < GROUP {
        s.cur.resize(GROUP, INF);
        s.next.resize(GROUP, INF);
    }
    s.segs.clear();
    let mut filled = 0usize;
    const AHEAD: usize = 12;
    let m = s.order.len();
    for b in 0..nb {
        let (mut lo, hi) = (s.counts[b] as usize, s.counts[b + 1] as usize);
        let mut seg_start = filled;
        while lo < hi {
            let take = (hi - lo).min(GROUP - filled);
            for (slot, pos) in s.cur[filled..filled + take].iter_mut().zip(lo..) {
                if pos + AHEAD < m {
                    prefetch(&points[(s.order[pos + AHEAD] & !NEG) as usize]);
                }
                let e = s.order[pos];
                let p = &points[(e & !NEG) as usize];
                slot.x = p.x;
                unsafe { blst_fp_cneg(&mut slot.y, &p.y, e & NEG != 0) };
                // blst's affine encoding of the identity is (0, 0).
                slot.inf = is_zero(&p.x) && is_zero(&p.y);
            }
            filled += take;
            lo += take;
            if filled == GROUP {
                s.segs.push(Seg { bucket: b as u32, start: seg_start as u32, len: (filled - seg_start) as u32 });
                let carry = lo < hi;
                reduce_group(s, carry, k_chains, l_len);
                filled = usize::from(carry);
                seg_start = 0;
            }
        }
        if filled > seg_start {
            s.segs.push(Seg { bucket: b as u32, start: seg_start as u32, len: (filled - seg_start) as u32 });
        }
    }
    if filled > 0 {
        reduce_group(s, false, k_chains, l_len);
    }
    combine_buckets(s, k_chains, l_len)
}

/// K chains of L buckets each (K·L = nb, both powers of two): K ≈ √nb balances the
/// inversions (2L) against the Jacobian joins (3K), at most `CHAINS`.
fn chain_shape(nb: usize) -> (usize, usize) {
    let k = (1usize << nb.trailing_zeros().div_ceil(2)).min(CHAINS);
    (k, nb / k)
}

/// Reduces every segment of the group to one point in pairwise batch-affine rounds and
/// stores the sums in `s.sums`; with `carry`, the last segment's sum goes to `cur[0]` instead
/// (its bucket continues in the next group). Clears the group.
fn reduce_group(s: &mut Scratch, carry: bool, k_chains: usize, l_len: usize) {
    let mut maxlen = s.segs.iter().map(|g| g.len).max().unwrap_or(0);
    while maxlen > 1 {
        round(s);
        maxlen = maxlen.div_ceil(2);
    }
    let keep = if carry { s.segs.len() - 1 } else { s.segs.len() };
    for g in &s.segs[..keep] {
        let b = g.bucket as usize;
        s.sums[(b % l_len) * k_chains + b / l_len] = s.cur[g.start as usize];
    }
    if carry {
        let last = s.segs[keep].start as usize;
        s.cur[0] = s.cur[last];
    }
    s.segs.clear();
}

/// One pairwise round: every segment of length L becomes ⌈L/2⌉ points (cur → next, swapped).
fn round(s: &mut Scratch) {
    s.batch.reset(GROUP / 2);
    for g in &s.segs {
        let st = g.start as usize;
        for k in 0..(g.len as usize / 2) {
            s.batch.classify(&s.cur[st + 2 * k], &s.cur[st + 2 * k + 1]);
        }
    }
    s.batch.invert();
    // Last pair first (the order Montgomery's trick unwinds in).
    let mut out_end: usize = s.segs.iter().map(|g| g.len.div_ceil(2) as usize).sum();
    for g in s.segs.iter_mut().rev() {
        let st = g.start as usize;
        let half = g.len as usize / 2;
        let new_len = g.len.div_ceil(2) as usize;
        let ns = out_end - new_len;
        if g.len % 2 == 1 {
            s.next[ns + half] = s.cur[st + g.len as usize - 1];
        }
        for k in (0..half).rev() {
            s.batch.finish(&mut s.next[ns + k], &s.cur[st + 2 * k], &s.cur[st + 2 * k + 1]);
        }
        g.start = ns as u32;
        g.len = new_len as u32;
        out_end = ns;
    }
    std::mem::swap(&mut s.cur, &mut s.next);
}

/// out[i] ← a[i] + b[i] for all i, one inversion.
fn batch_add(batch: &mut Batch, out: &mut [Aff], a: &[Aff], b: &[Aff]) {
    batch.reset(a.len());
    for (p, q) in a.iter().zip(b) {
        batch.classify(p, q);
    }
    batch.invert();
    for i in (0..a.len()).rev() {
        batch.finish(&mut out[i], &a[i], &b[i]);
    }
}

/// Σ_b (b + 1)·S_b over the bucket sums. Chain k covers buckets kL … kL + L − 1; walking them
/// down, R_k accumulates S_b and T_k accumulates R_k, all K chains one batch per step. Then
/// T_k = Σ_t (t + 1)·S_{kL+t} and R_k = Σ_t S_{kL+t}, so the total is Σ_k T_k + L·Σ_k k·R_k.
fn combine_buckets(s: &mut Scratch, k_chains: usize, l_len: usize) -> blst_p1 {
    let [ra, rb, ta, tb] = &mut s.chain;
    let top = &s.sums[(l_len - 1) * k_chains..l_len * k_chains];
    ra.clear();
    ra.extend_from_slice(top);
    ta.clear();
    ta.extend_from_slice(top);
    rb.resize(k_chains, INF);
    tb.resize(k_chains, INF);
    for t in (0..l_len - 1).rev() {
        batch_add(&mut s.batch, rb, ra, &s.sums[t * k_chains..(t + 1) * k_chains]);
        std::mem::swap(ra, rb);
        batch_add(&mut s.batch, tb, ta, ra);
        std::mem::swap(ta, tb);
    }
    // Σ_k T_k, and Σ_k k·R_k by a running sum over k.
    let mut total = blst_p1::default();
    let mut running = blst_p1::default();
    let mut weighted = blst_p1::default();
    for k in (0..k_chains).rev() {
        if !ta[k].inf {
            unsafe { blst_p1_add_or_double_affine(&mut total, &total, &blst_p1_affine { x: ta[k].x, y: ta[k].y }) };
        }
        if k > 0 {
            if !ra[k].inf {
                unsafe { blst_p1_add_or_double_affine(&mut running, &running, &blst_p1_affine { x: ra[k].x, y: ra[k].y }) };
            }
            unsafe { blst_p1_add_or_double(&mut weighted, &weighted, &running) };
        }
    }
    for _ in 0..l_len.trailing_zeros() {
        unsafe { blst_p1_double(&mut weighted, &weighted) };
    }
    unsafe { blst_p1_add_or_double(&mut total, &total, &weighted) };
    total
}

/// Σ ±mags[i]·points[i] (negative where `neg[i]`) for magnitudes below 2^`bits`, `bits` ≤
/// `MAX_BITS`, on `threads` threads.
/// Σ_w 2^(window·w)·Σ_c tile(w, c) by Horner over the windows, top first
/// (acc ← 2^window·acc + Σ_chunks tile): how both tiled pippengers (this file's and lib.rs's
/// over blst) join their per-(window, chunk) results.
pub fn horner_windows(windows: usize, window: usize, chunks: usize, tile: impl Fn(usize, usize) -> blst_p1) -> blst_p1 {
    let mut acc = blst_p1::default();
    for w in (0..windows).rev() {
        if w + 1 < windows {
            for _ in 0..window {
                unsafe { blst_p1_double(&mut acc, &acc) };
            }
        }
        for c in 0..chunks {
            unsafe { blst_p1_add_or_double(&mut acc, &acc, &tile(w, c)) };
        }
    }
    acc
}

pub fn msm(points: &[blst_p1_affine], mags: &[u64], neg: &[bool], bits: usize, threads: usize) -> blst_p1 {
    let n = points.len();
    if n == 0 || bits == 0 {
        return blst_p1::default();
    }
    msm_tiled(points, mags, neg, choose_tiling(n, bits, threads), threads)
}

/// `msm` on the tiling `t` (which must cover the scalars: windows·window > bits).
fn msm_tiled(points: &[blst_p1_affine], mags: &[u64], neg: &[bool], t: Tiling, threads: usize) -> blst_p1 {
    let n = points.len();
    let chunk_len = n.div_ceil(t.chunks);
    let tiles = t.windows * t.chunks;
    let mut results = vec![blst_p1::default(); tiles];
    let workers = threads.clamp(1, tiles);
    if workers == 1 {
        let mut s = Scratch::default();
        for (k, r) in results.iter_mut().enumerate() {
            *r = run_tile(points, mags, neg, t, chunk_len, k, &mut s);
        }
    } else {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let slots: Vec<std::sync::Mutex<blst_p1>> = (0..tiles).map(|_| std::sync::Mutex::new(blst_p1::default())).collect();
        std::thread::scope(|sc| {
            for _ in 0..workers {
                sc.spawn(|| {
                    let mut s = Scratch::default();
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if k >= tiles {
                            break;
                        }
                        let r = run_tile(points, mags, neg, t, chunk_len, k, &mut s);
                        if let Ok(mut slot) = slots[k].lock() {
                            *slot = r;
                        }
                    }
                });
            }
        });
        for (r, slot) in results.iter_mut().zip(slots) {
            *r = slot.into_inner().unwrap_or_default();
        }
    }
    horner_windows(t.windows, t.window, t.chunks, |w, c| results[w * t.chunks + c])
}

fn run_tile(points: &[blst_p1_affine], mags: &[u64], neg: &[bool], t: Tiling, chunk_len: usize, k: usize, s: &mut Scratch) -> blst_p1 {
    let (w, c) = (k / t.chunks, k % t.chunks);
    let start = (c * chunk_len).min(points.len());
    let end = ((c + 1) * chunk_len).min(points.len());
    tile_sum(&points[start..end], &mags[start..end], &neg[start..end], w, t.window, s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use blst::{blst_p1_affine_is_inf, blst_p1_cneg, blst_p1_generator, blst_p1_is_equal, blst_p1_mult, blst_p1_to_affine};

    fn rng(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    fn mult(p: &blst_p1, k: u64) -> blst_p1 {
        let mut out = blst_p1::default();
        unsafe { blst_p1_mult(&mut out, p, k.to_le_bytes().as_ptr(), 64) };
        out
    }

    fn affine(p: &blst_p1) -> blst_p1_affine {
        let mut a = blst_p1_affine::default();
        unsafe { blst_p1_to_affine(&mut a, p) };
        a
    }

    /// k·G for the given small multipliers (distinct, equal or opposite points as wanted).
    fn points_from(ks: &[i64]) -> Vec<blst_p1_affine> {
        let g = unsafe { *blst_p1_generator() };
        ks.iter()
            .map(|&k| {
                let mut p = mult(&g, k.unsigned_abs());
                unsafe { blst_p1_cneg(&mut p, k < 0) };
                affine(&p)
            })
            .collect()
    }

    /// Σ ±m_i·P_i one point at a time (blst's scalar multiplication).
    fn naive(points: &[blst_p1_affine], mags: &[u64], neg: &[bool]) -> blst_p1 {
        let mut acc = blst_p1::default();
        for ((p, &m), &ng) in points.iter().zip(mags).zip(neg) {
            let mut q = blst_p1::default();
            unsafe { blst::blst_p1_from_affine(&mut q, p) };
            let mut t = mult(&q, m);
            unsafe {
                blst_p1_cneg(&mut t, ng);
                blst_p1_add_or_double(&mut acc, &acc, &t);
            }
        }
        acc
    }

    fn bits_of(mags: &[u64]) -> usize {
        mags.iter().map(|&m| 64 - m.leading_zeros() as usize).max().unwrap_or(0)
    }

    /// `msm` (1 and 2 threads) and several forced tilings agree with the naive sum.
    fn check(what: &str, points: &[blst_p1_affine], mags: &[u64], neg: &[bool]) {
        let want = naive(points, mags, neg);
        let bits = bits_of(mags);
        let eq = |got: &blst_p1| unsafe { blst_p1_is_equal(got, &want) };
        for threads in [1, 2, 3] {
            assert!(eq(&msm(points, mags, neg, bits, threads)), "{what}: msm on {threads} threads");
        }
        if bits == 0 {
            return;
        }
        for c in [2, 3, 5, 8, 11, 16] {
            for chunks in [1, 3] {
                let t = Tiling { windows: windows_for(bits, c), window: c, chunks };
                assert!(eq(&msm_tiled(points, mags, neg, t, 2)), "{what}: tiling {t:?}");
            }
        }
    }

    #[test]
    fn booth_digits_recompose() {
        let mut st = 7u64;
        for c in 2..=MAX_WINDOW {
            for _ in 0..200 {
                let bits = 1 + (rng(&mut st) % MAX_BITS as u64) as usize;
                let s = rng(&mut st) >> (64 - bits);
                let w = windows_for(bits, c);
                let mut sum: i128 = 0;
                for k in 0..w {
                    let d = booth_digit(s, k, c);
                    assert!(d.unsigned_abs() <= 1 << (c - 1));
                    sum += (d as i128) << (k * c);
                }
                assert_eq!(sum, s as i128, "s = {s}, c = {c}");
            }
        }
    }

    #[test]
    fn random_points_and_scalars() {
        let mut st = 0x1234_5678_9abc_def1u64;
        for (n, bits) in [(1, 5), (2, 2), (3, 31), (40, 17), (300, 62), (5000, 31), (5000, 3)] {
            let ks: Vec<i64> = (0..n).map(|_| (rng(&mut st) % 1_000_000) as i64 + 1).collect();
            let points = points_from(&ks);
            let mut mags: Vec<u64> = (0..n).map(|_| rng(&mut st) >> (64 - bits)).collect();
            let neg: Vec<bool> = (0..n).map(|_| rng(&mut st) & 1 == 1).collect();
            // zeros and the extremes of the range
            mags[0] = (1u64 << bits) - 1;
            if n > 2 {
                mags[1] = 0;
                mags[2] = 1;
            }
            check(&format!("random n={n} bits={bits}"), &points, &mags, &neg);
        }
    }

    #[test]
    fn equal_and_opposite_points() {
        let mut st = 99u64;
        // One point many times: buckets double; equal scalars: one bucket of more than a group.
        let n = 2 * GROUP + 123;
        let same = points_from(&vec![5; n]);
        let mags: Vec<u64> = (0..n).map(|_| rng(&mut st) % 64).collect();
        let neg: Vec<bool> = (0..n).map(|_| rng(&mut st) & 1 == 1).collect();
        check("one point, random scalars", &same, &mags, &neg);
        check("one point, one scalar", &same, &vec![3; n], &vec![false; n]);
        check("one point, ±scalar", &same, &vec![3; n], &(0..n).map(|i| i % 2 == 1).collect::<Vec<_>>());
        // P and −P (as points and as signs) in the same buckets, sums cancelling to the identity
        // and then continuing; bucket sums equal to each other and to the running sums.
        let ks: Vec<i64> = (0..n).map(|_| [1, -1, 2, -2, 3][(rng(&mut st) % 5) as usize]).collect();
        let pts = points_from(&ks);
        let mags: Vec<u64> = (0..n).map(|_| rng(&mut st) % 9).collect();
        let neg: Vec<bool> = (0..n).map(|_| rng(&mut st) & 1 == 1).collect();
        check("±P, ±2P, 3P, small scalars", &pts, &mags, &neg);
        let mags: Vec<u64> = (0..n).map(|_| rng(&mut st) % (1 << 20)).collect();
        check("±P, ±2P, 3P, 20-bit scalars", &pts, &mags, &neg);
        let alt = points_from(&(0..n).map(|i| if i % 2 == 0 { 7 } else { -7 }).collect::<Vec<_>>());
        check("P, −P, equal scalars (sum zero)", &alt, &vec![1 << 30; n], &vec![false; n]);
    }

    #[test]
    fn zeros_and_identity_points() {
        let n = 700;
        let points = points_from(&(1..=n as i64).collect::<Vec<_>>());
        check("all zero", &points, &vec![0; n], &vec![true; n]);
        // blst's (0, 0) affine encoding of the identity, mixed in.
        let mut with_inf = points.clone();
        for i in (0..n).step_by(3) {
            with_inf[i] = blst_p1_affine::default();
        }
        assert!(unsafe { blst_p1_affine_is_inf(&with_inf[0]) });
        let mags: Vec<u64> = (0..n as u64).map(|i| (i * 2654435761) % (1 << 24)).collect();
        check("identity points", &with_inf, &mags, &vec![false; n]);
        check("only identity points", &[blst_p1_affine::default(); 50], &[12345; 50], &[false; 50]);
    }
}
