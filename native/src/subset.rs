//! Many subset sums over one list of points at once — the bit-vector commitments of a range
//! proof (ℓ vectors over one SRS basis) and the signed subset sums of its opening's first
//! rounds (native/backend.ts `openBits`).
//!
//! One subset sum costs about half the vector's length in point additions. For vectors over
//! the same points, `subset_sums` shares them: it takes the vectors eight at a time, puts each
//! point into the bucket of its 8-bit pattern across them (one addition per point whose
//! pattern is not zero), and makes each vector's sum from the ≤ 128 bucket sums with its bit
//! set. Each vector is first flipped to its minority value (Σ_{v=1} P = total − Σ_{v=0} P), so
//! nearly constant vectors — the high bits of Δ + B — cost only their few exceptions.
//! Additions are batch-affine (Montgomery's simultaneous inversion over all the buckets of a
//! level together, ≈ 5M + 1S per addition, as blst's `blst_p1s_add` does for one list).
//! Single-threaded: a proving thread runs one of these at a time, the pool keeps cores busy.

use blst::{
    blst_fp, blst_fp_add, blst_fp_eucl_inverse, blst_fp_mul, blst_fp_mul_by_3, blst_fp_sqr, blst_fp_sub, blst_p1, blst_p1_add_or_double,
    blst_p1_affine, blst_p1_cneg, blst_p1_from_affine,
};
use std::sync::OnceLock;

/// Vectors bucketed together (patterns of this many bits).
const GROUP: usize = 8;

fn fp_sub(a: &blst_fp, b: &blst_fp) -> blst_fp {
    let mut o = blst_fp::default();
    unsafe { blst_fp_sub(&mut o, a, b) };
    o
}

fn fp_add(a: &blst_fp, b: &blst_fp) -> blst_fp {
    let mut o = blst_fp::default();
    unsafe { blst_fp_add(&mut o, a, b) };
    o
}

fn fp_mul(a: &blst_fp, b: &blst_fp) -> blst_fp {
    let mut o = blst_fp::default();
    unsafe { blst_fp_mul(&mut o, a, b) };
    o
}

fn fp_sqr(a: &blst_fp) -> blst_fp {
    let mut o = blst_fp::default();
    unsafe { blst_fp_sqr(&mut o, a) };
    o
}

fn is_zero(a: &blst_fp) -> bool {
    a.l.iter().all(|&x| x == 0)
}

/// The denominator of λ for P + Q (x_Q − x_P, or 2y_P for a doubling; y ≠ 0 in G1, which has
/// no points of order 2), or None when Q = −P (the sum is the identity).
fn denominator(p: &blst_p1_affine, q: &blst_p1_affine) -> Option<blst_fp> {
    let dx = fp_sub(&q.x, &p.x);
    if !is_zero(&dx) {
        Some(dx)
    } else if p.y.l == q.y.l {
        Some(fp_add(&p.y, &p.y))
    } else {
        None
    }
}

/// P + Q in affine coordinates given 1/denominator (see `denominator`).
fn add_with(p: &blst_p1_affine, q: &blst_p1_affine, inv: &blst_fp) -> blst_p1_affine {
    let num = if p.x.l != q.x.l {
        fp_sub(&q.y, &p.y)
    } else {
        let mut t = fp_sqr(&p.x);
        unsafe { blst_fp_mul_by_3(&mut t, &t) };
        t
    };
    let lambda = fp_mul(&num, inv);
    let x3 = fp_sub(&fp_sub(&fp_sqr(&lambda), &p.x), &q.x);
    let y3 = fp_sub(&fp_mul(&lambda, &fp_sub(&p.x, &x3)), &p.y);
    blst_p1_affine { x: x3, y: y3 }
}

/// The sums of consecutive lists of affine points: list b is the next `lens[b]` points of
/// `points`. Each sum is an affine point, or None for the identity. Lists are reduced
/// pairwise, level by level, every level's denominators inverted together (one inversion per
/// level; ≈ 5M + 1S per addition).
pub(crate) fn list_sums(points: Vec<blst_p1_affine>, lens: Vec<usize>) -> Vec<Option<blst_p1_affine>> {
    debug_assert_eq!(points.len(), lens.iter().sum::<usize>());
    // Runs of whole lists of about CHUNK points at a time: a run's levels stay in cache.
    let mut out = Vec::with_capacity(lens.len());
    let (mut at, mut first) = (0, 0);
    while first < lens.len() {
        let (mut last, mut size) = (first, 0);
        while last < lens.len() && (size == 0 || size + lens[last] <= CHUNK) {
            size += lens[last];
            last += 1;
        }
        out.extend(list_sums_run(points[at..at + size].to_vec(), lens[first..last].to_vec()));
        at += size;
        first = last;
    }
    out
}

/// Points `list_sums` reduces together.
const CHUNK: usize = 2048;

fn list_sums_run(mut cur: Vec<blst_p1_affine>, mut lens: Vec<usize>) -> Vec<Option<blst_p1_affine>> {
    let mut next: Vec<blst_p1_affine> = Vec::with_capacity(cur.len() / 2 + lens.len());
    // pre[i] = product of the first i + 1 denominators of the level.
    let mut pre: Vec<blst_fp> = Vec::with_capacity(cur.len() / 2);
    let mut new_lens: Vec<usize> = Vec::with_capacity(lens.len());
    while lens.iter().any(|&l| l > 1) {
        // Forward: running products of the denominators, and each list's length after the level.
        pre.clear();
        new_lens.clear();
        let mut acc: Option<blst_fp> = None;
        let mut at = 0;
        for &l in &lens {
            let mut len = l % 2;
            for pair in cur[at..at + l - l % 2].chunks_exact(2) {
                if let Some(d) = denominator(&pair[0], &pair[1]) {
                    let p = acc.map_or(d, |a| fp_mul(&a, &d));
                    pre.push(p);
                    acc = Some(p);
                    len += 1;
                }
            }
            new_lens.push(len);
            at += l;
        }
        let mut inv = blst_fp::default();
        if let Some(last) = pre.last() {
            unsafe { blst_fp_eucl_inverse(&mut inv, last) };
        }
        // Backward: 1/d_i = inv·pre[i−1], then inv ← inv·d_i; each sum lands in its slot.
        let total: usize = new_lens.iter().sum();
        next.clear();
        next.resize(total, blst_p1_affine::default());
        let mut i = pre.len();
        let mut out = total;
        let mut at = cur.len();
        for &l in lens.iter().rev() {
            at -= l;
            if l % 2 == 1 {
                out -= 1;
                next[out] = cur[at + l - 1];
            }
            for pair in cur[at..at + l - l % 2].chunks_exact(2).rev() {
                let Some(d) = denominator(&pair[0], &pair[1]) else { continue };
                i -= 1;
                let this = if i > 0 { fp_mul(&inv, &pre[i - 1]) } else { inv };
                inv = fp_mul(&inv, &d);
                out -= 1;
                next[out] = add_with(&pair[0], &pair[1], &this);
            }
        }
        std::mem::swap(&mut cur, &mut next);
        std::mem::swap(&mut lens, &mut new_lens);
    }
    let mut out = Vec::with_capacity(lens.len());
    let mut at = 0;
    for &l in &lens {
        out.push(if l == 1 { Some(cur[at]) } else { None });
        at += l;
    }
    out
}

fn projective(p: &Option<blst_p1_affine>) -> blst_p1 {
    let mut out = blst_p1::default();
    if let Some(a) = p {
        unsafe { blst_p1_from_affine(&mut out, a) };
    }
    out
}

/// Σ_{v[k] = 1} points[k] for each 0/1 vector v (each `points.len()` bytes), sharing the
/// additions between vectors (see the module comment). `total`, when given, caches Σ points.
pub(crate) fn subset_sums(points: &[blst_p1_affine], vectors: &[&[u8]], total: Option<&OnceLock<blst_p1>>) -> Vec<blst_p1> {
    let mut all: Option<blst_p1> = None;
    minority_sums(points, vectors)
        .into_iter()
        .map(|(flip, s)| if flip { minus(total_of(points, total, &mut all), s) } else { s })
        .collect()
}

/// For each 0/1 vector v: (f, Σ_{v[k] ≠ f} points[k]) with f = 1 when most of v is 1 — so
/// Σ_{v[k] = 1} points[k] is the sum when f = 0 and Σ points − the sum when f = 1.
pub(crate) fn minority_sums(points: &[blst_p1_affine], vectors: &[&[u8]]) -> Vec<(bool, blst_p1)> {
    let m = points.len();
    let info: Vec<(bool, usize)> = vectors
        .iter()
        .map(|v| {
            let ones = v.iter().filter(|&&b| b == 1).count();
            if 2 * ones > m {
                (true, m - ones)
            } else {
                (false, ones)
            }
        })
        .collect();
    // Densest vectors together, so the sparse ones share groups (and cost their few points).
    let mut order: Vec<usize> = (0..vectors.len()).filter(|&i| info[i].1 > 0).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(info[i].1));
    let groups: Vec<&[usize]> = order.chunks(GROUP).collect();
    // Phase 1: bucket sums per (group, nonzero pattern).
    let mut gathered: Vec<blst_p1_affine> = Vec::new();
    let mut lens: Vec<usize> = Vec::new();
    let mut patterns = vec![0u8; m];
    for g in &groups {
        patterns.fill(0);
        for (bit, &i) in g.iter().enumerate() {
            let (v, flip) = (vectors[i], info[i].0 as u8);
            for (p, &b) in patterns.iter_mut().zip(v) {
                *p |= (b ^ flip) << bit;
            }
        }
        let mut counts = [0usize; 1 << GROUP];
        for &p in &patterns {
            counts[p as usize] += 1;
        }
        let mut start = [0usize; 1 << GROUP];
        let mut at = gathered.len();
        for pat in 1..1 << GROUP {
            start[pat] = at;
            at += counts[pat];
            lens.push(counts[pat]);
        }
        gathered.resize(at, blst_p1_affine::default());
        for (k, &p) in patterns.iter().enumerate() {
            if p != 0 {
                let s = &mut start[p as usize];
                gathered[*s] = points[k];
                *s += 1;
            }
        }
    }
    let buckets = list_sums(gathered, lens);
    // Phase 2: each vector's sum from its group's buckets with its bit set.
    let per_group = (1 << GROUP) - 1;
    let mut gathered: Vec<blst_p1_affine> = Vec::new();
    let mut lens: Vec<usize> = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        for bit in 0..g.len() {
            let before = gathered.len();
            for pat in 1..1 << GROUP {
                if pat & (1 << bit) != 0 {
                    if let Some(b) = buckets[gi * per_group + pat - 1] {
                        gathered.push(b);
                    }
                }
            }
            lens.push(gathered.len() - before);
        }
    }
    let sums = list_sums(gathered, lens);
    let mut out: Vec<(bool, blst_p1)> = info.iter().map(|&(flip, _)| (flip, blst_p1::default())).collect();
    for (&i, sum) in order.iter().zip(&sums) {
        out[i].1 = projective(sum);
    }
    out
}

pub(crate) fn total_of(points: &[blst_p1_affine], cache: Option<&OnceLock<blst_p1>>, local: &mut Option<blst_p1>) -> blst_p1 {
    let compute = || projective(&list_sums(points.to_vec(), vec![points.len()])[0]);
    match cache {
        Some(c) => *c.get_or_init(compute),
        None => *local.get_or_insert_with(compute),
    }
}

/// a − b
pub(crate) fn minus(a: blst_p1, mut b: blst_p1) -> blst_p1 {
    let mut out = blst_p1::default();
    unsafe {
        blst_p1_cneg(&mut b, true);
        blst_p1_add_or_double(&mut out, &a, &b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use blst::{blst_fp_cneg, blst_p1_add_or_double_affine, blst_p1_double, blst_p1_generator, blst_p1_is_equal, blst_p1_to_affine, MultiPoint};

    fn negate(p: &blst_p1_affine) -> blst_p1_affine {
        let mut q = *p;
        unsafe { blst_fp_cneg(&mut q.y, &p.y, true) };
        q
    }

    fn points(n: usize) -> Vec<blst_p1_affine> {
        let mut acc = unsafe { *blst_p1_generator() };
        let g = acc;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let mut a = blst_p1_affine::default();
            unsafe {
                blst_p1_to_affine(&mut a, &acc);
                blst_p1_add_or_double(&mut acc, &acc, &g);
                blst_p1_double(&mut acc, &acc);
            }
            out.push(a);
        }
        out
    }

    fn naive(points: &[blst_p1_affine], v: &[u8]) -> blst_p1 {
        let mut acc = blst_p1::default();
        for (p, &b) in points.iter().zip(v) {
            if b == 1 {
                unsafe { blst_p1_add_or_double_affine(&mut acc, &acc, p) };
            }
        }
        acc
    }

    #[test]
    fn list_sums_match_blst_including_doublings_and_cancellations() {
        let pts = points(300);
        let mut list = pts.clone();
        // P + P (a doubling) and P + (−P) (the identity) at the first level.
        list.extend_from_slice(&[pts[3], pts[3], pts[5], negate(&pts[5]), pts[5]]);
        let sums = list_sums(list.clone(), vec![300, 2, 2, 0, 1]);
        assert!(unsafe { blst_p1_is_equal(&projective(&sums[0]), &pts.as_slice().add()) });
        let mut twice = blst_p1::default();
        unsafe { blst_p1_add_or_double_affine(&mut twice, &projective(&Some(pts[3])), &pts[3]) };
        assert!(unsafe { blst_p1_is_equal(&projective(&sums[1]), &twice) });
        assert!(sums[2].is_none() && sums[3].is_none());
        assert!(unsafe { blst_p1_is_equal(&projective(&sums[4]), &projective(&Some(pts[5]))) });
    }

    #[test]
    fn subset_sums_match_naive_sums() {
        let m = 700;
        let pts = points(m);
        let mut seed = 0x2545f491u32;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        // Dense, sparse, nearly full, empty and full vectors; more than one group of eight.
        let mut vectors: Vec<Vec<u8>> = Vec::new();
        for j in 0..19 {
            vectors.push((0..m).map(|_| {
                let x = rnd() % 64;
                match j % 5 {
                    0 | 1 => (x % 2) as u8,
                    2 => (x == 0) as u8,
                    3 => (x != 0) as u8,
                    _ => (j % 2) as u8,
                }
            }).collect());
        }
        let refs: Vec<&[u8]> = vectors.iter().map(|v| v.as_slice()).collect();
        let cache = OnceLock::new();
        for total in [None, Some(&cache)] {
            let got = subset_sums(&pts, &refs, total);
            for (v, g) in vectors.iter().zip(&got) {
                assert!(unsafe { blst_p1_is_equal(g, &naive(&pts, v)) });
            }
        }
    }
}
