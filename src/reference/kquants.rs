//! ggml's K-quants without an importance matrix, byte-exact with `quantize_row_q2_K_ref` to
//! `quantize_row_q6_K_ref` of `ggml-quants.c` as ggml-base builds
//! it (baseline x86-64: no FMA contraction, no reassociation). Every expression keeps C's order
//! of operations and its int-to-float conversions, so that each f32 rounding happens where C's
//! does; a changed parenthesis changes bytes.

use half::f16;

use super::gguf::signed_absmax;
use crate::error::{Error, Result};
use crate::format::{GgufType, QK_K};

/// `GROUP_MAX_EPS`: below this a group counts as all zeros.
const GROUP_MAX_EPS: f32 = 1e-15;

/// ggml's `nearest_int`: round to nearest even through the float's mantissa, for |x| < 2^22.
fn nearest_int(x: f32) -> i32 {
    let v = x + 12582912.0;
    (v.to_bits() as i32 & 0x007f_ffff) - 0x0040_0000
}

/// `make_qx_quants` with `rmse_type = 1` and no weights (Q6_K's sub-block scale): the scale
/// of `x` whose codes in `[-nmax, nmax)` (stored plus `nmax` in `l`) fit best, weighting each
/// element by its square, over 19 candidate scales.
fn make_qx_quants(nmax: i32, x: &[f32], l: &mut [i8]) -> f32 {
    let max = signed_absmax(x);
    if max.abs() < GROUP_MAX_EPS {
        l.fill(0);
        return 0.0;
    }
    let code = |iscale: f32, v: f32| nearest_int(iscale * v).clamp(-nmax, nmax - 1);
    let sums = |iscale: f32| {
        let (mut sumlx, mut suml2) = (0.0f32, 0.0f32);
        for &v in x {
            let q = code(iscale, v) as f32;
            let w = v * v;
            sumlx += w * v * q;
            suml2 += w * q * q;
        }
        (sumlx, suml2)
    };
    let mut iscale = -nmax as f32 / max;
    for (li, &v) in l.iter_mut().zip(x) {
        *li = (code(iscale, v) + nmax) as i8;
    }
    let (sumlx, suml2) = sums(iscale);
    let mut scale = if suml2 != 0.0 { sumlx / suml2 } else { 0.0 };
    let mut best = scale * sumlx;
    for is in (-9..=9).filter(|&is| is != 0) {
        iscale = -(nmax as f32 + 0.1f32 * is as f32) / max;
        let (sumlx, suml2) = sums(iscale);
        if suml2 > 0.0 && sumlx * sumlx > best * suml2 {
            for (li, &v) in l.iter_mut().zip(x) {
                *li = (code(iscale, v) + nmax) as i8;
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    scale
}

/// `make_q3_quants` with `do_rmse`: the scale of `x` whose codes in `[-nmax, nmax)` (stored
/// plus `nmax` in `l`) fit best, weighting each element by its square, improved one code at a
/// time for up to five rounds.
fn make_q3_quants(nmax: i32, x: &[f32], l: &mut [i8]) -> f32 {
    let max = signed_absmax(x);
    if max.abs() < GROUP_MAX_EPS {
        l.fill(0);
        return 0.0;
    }
    let iscale = -nmax as f32 / max;
    let (mut sumlx, mut suml2) = (0.0f32, 0.0f32);
    for (li, &v) in l.iter_mut().zip(x) {
        let q = nearest_int(iscale * v).clamp(-nmax, nmax - 1);
        *li = q as i8;
        let w = v * v;
        sumlx += w * v * q as f32;
        suml2 += w * q as f32 * q as f32;
    }
    for _ in 0..5 {
        let mut changed = false;
        for (li, &v) in l.iter_mut().zip(x) {
            let w = v * v;
            let old = *li as f32;
            let mut slx = sumlx - w * v * old;
            if slx > 0.0 {
                let mut sl2 = suml2 - w * old * old;
                let new = nearest_int(v * sl2 / slx).clamp(-nmax, nmax - 1);
                if new != *li as i32 {
                    slx += w * v * new as f32;
                    sl2 += w * new as f32 * new as f32;
                    if sl2 > 0.0 && slx * slx * suml2 > sumlx * sumlx * sl2 {
                        *li = new as i8;
                        (sumlx, suml2) = (slx, sl2);
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    for li in l.iter_mut() {
        *li += nmax as i8;
    }
    if suml2 > 0.0 {
        sumlx / suml2
    } else {
        0.0
    }
}

/// `make_qkx2_quants`: the scale and min of `x` (codes in `[0, nmax]`, written to `l`) with the
/// least weighted error, squared or absolute (`use_mad`), over `nstep + 1` candidates. Returns
/// `(scale, -min)`.
#[allow(clippy::too_many_arguments)]
fn make_qkx2_quants(
    nmax: i32,
    x: &[f32],
    weights: &[f32],
    l: &mut [u8],
    rmin: f32,
    rdelta: f32,
    nstep: i32,
    use_mad: bool,
) -> (f32, f32) {
    let error = |diff: f32| if use_mad { diff.abs() } else { diff * diff };
    let (mut min, mut max) = (x[0], x[0]);
    let mut sum_w = weights[0];
    let mut sum_x = sum_w * x[0];
    for (&v, &w) in x.iter().zip(weights).skip(1) {
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
        sum_w += w;
        sum_x += w * v;
    }
    if min > 0.0 {
        min = 0.0;
    }
    if max == min {
        l.fill(0);
        return (0.0, -min);
    }
    let code = |iscale: f32, v: f32, min: f32| nearest_int(iscale * (v - min)).clamp(0, nmax);
    let mut iscale = nmax as f32 / (max - min);
    let mut scale = 1.0 / iscale;
    let mut best_error = 0.0f32;
    for ((li, &v), &w) in l.iter_mut().zip(x).zip(weights) {
        *li = code(iscale, v, min) as u8;
        best_error += w * error(scale * *li as f32 + min - v);
    }
    let mut aux = [0u8; 32];
    for is in 0..=nstep {
        iscale = (rmin + rdelta * is as f32 + nmax as f32) / (max - min);
        let (mut sum_l, mut sum_l2, mut sum_xl) = (0.0f32, 0.0f32, 0.0f32);
        for ((a, &v), &w) in aux.iter_mut().zip(x).zip(weights) {
            let q = code(iscale, v, min);
            *a = q as u8;
            let q = q as f32;
            sum_l += w * q;
            sum_l2 += w * q * q;
            sum_xl += w * q * v;
        }
        let d = sum_w * sum_l2 - sum_l * sum_l;
        if d > 0.0 {
            let mut this_scale = (sum_w * sum_xl - sum_x * sum_l) / d;
            let mut this_min = (sum_l2 * sum_x - sum_l * sum_xl) / d;
            if this_min > 0.0 {
                this_min = 0.0;
                this_scale = sum_xl / sum_l2;
            }
            let mut cur_error = 0.0f32;
            for ((&a, &v), &w) in aux.iter().zip(x).zip(weights) {
                cur_error += w * error(this_scale * a as f32 + this_min - v);
            }
            if cur_error < best_error {
                l.copy_from_slice(&aux[..l.len()]);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    (scale, -min)
}

/// Q4_K and Q5_K's 12 bytes of 6-bit scales and mins (`get_scale_min_k4` reverses it).
fn pack_scales_mins(ls: &[u8; 8], lm: &[u8; 8]) -> [u8; 12] {
    let mut s = [0u8; 12];
    for j in 0..8 {
        if j < 4 {
            s[j] = ls[j];
            s[j + 4] = lm[j];
        } else {
            s[j + 4] = (ls[j] & 0xf) | ((lm[j] & 0xf) << 4);
            s[j - 4] |= (ls[j] >> 4) << 6;
            s[j] |= (lm[j] >> 4) << 6;
        }
    }
    s
}

/// `get_scale_min_k4`: sub-block `j`'s 6-bit scale and min.
fn scale_min(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

/// Q4_K (`nmax` 15) or Q5_K (31): eight sub-blocks of 32, each with a scale and a min found by
/// `make_qkx2_quants`, both quantized to 6 bits against the super-block's f16 `d` and `dmin`;
/// then every code again from the stored scales. Returns `d`, `dmin`, the packed scales and
/// the 256 codes.
fn scales_and_mins(x: &[f32], nmax: i32) -> (u16, u16, [u8; 12], [u8; QK_K]) {
    let (rmin, nstep) = if nmax == 15 { (-1.0, 20) } else { (-0.5, 15) };
    let mut l = [0u8; QK_K];
    let (mut scales, mut mins) = ([0.0f32; 8], [0.0f32; 8]);
    let (mut max_scale, mut max_min) = (0.0f32, 0.0f32);
    for j in 0..8 {
        let sub = &x[32 * j..32 * j + 32];
        let mut sum_x2 = 0.0f32;
        for &v in sub {
            sum_x2 += v * v;
        }
        let av_x = (sum_x2 / 32.0).sqrt();
        let mut weights = [0.0f32; 32];
        for (w, v) in weights.iter_mut().zip(sub) {
            *w = av_x + v.abs();
        }
        let (scale, min) = make_qkx2_quants(
            nmax,
            sub,
            &weights,
            &mut l[32 * j..32 * j + 32],
            rmin,
            0.1,
            nstep,
            false,
        );
        (scales[j], mins[j]) = (scale, min);
        if scale > max_scale {
            max_scale = scale;
        }
        if min > max_min {
            max_min = min;
        }
    }
    let inv_scale = if max_scale > 0.0 {
        63.0 / max_scale
    } else {
        0.0
    };
    let inv_min = if max_min > 0.0 { 63.0 / max_min } else { 0.0 };
    let (mut ls, mut lm) = ([0u8; 8], [0u8; 8]);
    for j in 0..8 {
        // C stores nearest_int's int in a uint8_t (its low byte), then caps it at 63.
        ls[j] = (nearest_int(inv_scale * scales[j]) as u8).min(63);
        lm[j] = (nearest_int(inv_min * mins[j]) as u8).min(63);
    }
    let packed = pack_scales_mins(&ls, &lm);
    let d = f16::from_f32(max_scale / 63.0);
    let dmin = f16::from_f32(max_min / 63.0);
    for j in 0..8 {
        let (sc, m) = scale_min(j, &packed);
        let dj = d.to_f32() * sc as f32;
        if dj == 0.0 {
            continue;
        }
        let dm = dmin.to_f32() * m as f32;
        for i in 32 * j..32 * j + 32 {
            l[i] = nearest_int((x[i] + dm) / dj).clamp(0, nmax) as u8;
        }
    }
    (d.to_bits(), dmin.to_bits(), packed, l)
}

/// Q2_K and Q3_K's 2-bit `qs`: the low two bits of codes `l`, `l + 32`, `l + 64` and `l + 96`
/// of each 128 in one byte.
fn two_bit_codes(l: &[u8; QK_K]) -> [u8; 64] {
    let mut qs = [0u8; 64];
    for (half, j) in (0..QK_K).step_by(128).enumerate() {
        for i in 0..32 {
            qs[32 * half + i] = (0..4).fold(0, |b, k| b | (l[j + i + 32 * k] & 3) << (2 * k));
        }
    }
    qs
}

/// Q2_K: sixteen sub-blocks of 16, each with a scale and a min found by `make_qkx2_quants`
/// (absolute error weighted by |x|), both quantized to 4 bits against `d` and `dmin`.
fn quantize_q2_k(x: &[f32], out: &mut Vec<u8>) {
    let mut l = [0u8; QK_K];
    let (mut scales, mut mins) = ([0.0f32; 16], [0.0f32; 16]);
    let (mut max_scale, mut max_min) = (0.0f32, 0.0f32);
    for j in 0..16 {
        let sub = &x[16 * j..16 * j + 16];
        let mut weights = [0.0f32; 16];
        for (w, v) in weights.iter_mut().zip(sub) {
            *w = v.abs();
        }
        let range = 16 * j..16 * j + 16;
        (scales[j], mins[j]) =
            make_qkx2_quants(3, sub, &weights, &mut l[range], -0.5, 0.1, 15, true);
        if scales[j] > max_scale {
            max_scale = scales[j];
        }
        if mins[j] > max_min {
            max_min = mins[j];
        }
    }
    // C stores nearest_int's int in a uint8_t (its low byte), the min's shifted left by 4.
    let mut sc = [0u8; 16];
    if max_scale > 0.0 {
        let iscale = 15.0 / max_scale;
        for (b, &s) in sc.iter_mut().zip(&scales) {
            *b = nearest_int(iscale * s) as u8;
        }
    }
    if max_min > 0.0 {
        let iscale = 15.0 / max_min;
        for (b, &m) in sc.iter_mut().zip(&mins) {
            *b |= (nearest_int(iscale * m) << 4) as u8;
        }
    }
    let d = f16::from_f32(max_scale / 15.0);
    let dmin = f16::from_f32(max_min / 15.0);
    for (j, &s) in sc.iter().enumerate() {
        let dj = d.to_f32() * (s & 0xf) as f32;
        if dj == 0.0 {
            continue;
        }
        let dm = dmin.to_f32() * (s >> 4) as f32;
        for i in 16 * j..16 * j + 16 {
            l[i] = nearest_int((x[i] + dm) / dj).clamp(0, 3) as u8;
        }
    }
    out.extend(sc);
    out.extend(two_bit_codes(&l));
    out.extend(d.to_bits().to_le_bytes());
    out.extend(dmin.to_bits().to_le_bytes());
}

/// Q3_K's 12 bytes of sixteen 6-bit scales: low nibbles two to a byte, high bits four to a byte.
fn pack_q3_scales(ls: &[u8; 16]) -> [u8; 12] {
    let mut s = [0u8; 12];
    for (j, &v) in ls.iter().enumerate() {
        s[j % 8] |= (v & 0xf) << (4 * (j / 8));
        s[8 + j % 4] |= (v >> 4) << (2 * (j / 4));
    }
    s
}

/// Q3_K's sub-block `j` scale as stored, less 32.
fn q3_scale(s: &[u8], j: usize) -> i32 {
    let low = (s[j % 8] >> (4 * (j / 8))) & 0xf;
    let high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    (low | high << 4) as i32 - 32
}

/// Q3_K: sixteen sub-blocks of 16 with codes in `[-4, 4)`, each scale found by `make_q3_quants`
/// and quantized to 6 bits against `d`; the codes' third bits in `hmask`.
fn quantize_q3_k(x: &[f32], out: &mut Vec<u8>) {
    let mut l = [0i8; QK_K];
    let mut scales = [0.0f32; 16];
    for j in 0..16 {
        scales[j] = make_q3_quants(4, &x[16 * j..16 * j + 16], &mut l[16 * j..16 * j + 16]);
    }
    let max_scale = signed_absmax(&scales);
    let mut packed = [0u8; 12];
    let mut d = f16::ZERO;
    if max_scale != 0.0 {
        let iscale = -32.0 / max_scale;
        // C keeps nearest_int's int in an int8_t (its low byte) before clamping.
        let ls = scales.map(|s| ((nearest_int(iscale * s) as i8).clamp(-32, 31) + 32) as u8);
        packed = pack_q3_scales(&ls);
        d = f16::from_f32(1.0 / iscale);
    }
    for j in 0..16 {
        let dj = d.to_f32() * q3_scale(&packed, j) as f32;
        if dj == 0.0 {
            continue;
        }
        for i in 16 * j..16 * j + 16 {
            l[i] = (nearest_int(x[i] / dj).clamp(-4, 3) + 4) as i8;
        }
    }
    let l = l.map(|v| v as u8);
    let mut hmask = [0u8; 32];
    for (j, &v) in l.iter().enumerate() {
        if v > 3 {
            hmask[j % 32] |= 1 << (j / 32);
        }
    }
    out.extend(hmask);
    out.extend(two_bit_codes(&l));
    out.extend(packed);
    out.extend(d.to_bits().to_le_bytes());
}

fn quantize_q4_k(x: &[f32], out: &mut Vec<u8>) {
    let (d, dmin, scales, l) = scales_and_mins(x, 15);
    out.extend(d.to_le_bytes());
    out.extend(dmin.to_le_bytes());
    out.extend(scales);
    for j in (0..QK_K).step_by(64) {
        out.extend((0..32).map(|i| l[j + i] | (l[j + i + 32] << 4)));
    }
}

fn quantize_q5_k(x: &[f32], out: &mut Vec<u8>) {
    let (d, dmin, scales, l) = scales_and_mins(x, 31);
    out.extend(d.to_le_bytes());
    out.extend(dmin.to_le_bytes());
    out.extend(scales);
    let mut qh = [0u8; 32];
    let mut qs = [0u8; 128];
    for (pair, n) in (0..QK_K).step_by(64).enumerate() {
        for j in 0..32 {
            let (l1, l2) = (l[n + j], l[n + j + 32]);
            qh[j] |= (l1 >> 4) << (2 * pair) | (l2 >> 4) << (2 * pair + 1);
            qs[32 * pair + j] = (l1 & 15) | ((l2 & 15) << 4);
        }
    }
    out.extend(qh);
    out.extend(qs);
}

fn quantize_q6_k(x: &[f32], out: &mut Vec<u8>) {
    let mut l = [0i8; QK_K];
    let mut scales = [0.0f32; 16];
    for ib in 0..16 {
        scales[ib] = make_qx_quants(32, &x[16 * ib..16 * ib + 16], &mut l[16 * ib..16 * ib + 16]);
    }
    let max_scale = signed_absmax(&scales);
    if max_scale.abs() < GROUP_MAX_EPS {
        out.extend([0u8; 210]);
        return;
    }
    let iscale = -128.0 / max_scale;
    let d = f16::from_f32(1.0 / iscale);
    // C stores MIN(127, nearest_int(...)) in an int8_t (its low byte).
    let sc: Vec<i8> = scales
        .iter()
        .map(|&s| nearest_int(iscale * s).min(127) as i8)
        .collect();
    for (j, &s) in sc.iter().enumerate() {
        let dj = d.to_f32() * s as f32;
        if dj == 0.0 {
            continue;
        }
        for i in 16 * j..16 * j + 16 {
            l[i] = (nearest_int(x[i] / dj).clamp(-32, 31) + 32) as i8;
        }
    }
    let l = l.map(|v| v as u8);
    let (mut ql, mut qh) = ([0u8; 128], [0u8; 64]);
    for (half, j) in (0..QK_K).step_by(128).enumerate() {
        for i in 0..32 {
            let q = [l[j + i], l[j + i + 32], l[j + i + 64], l[j + i + 96]];
            ql[64 * half + i] = (q[0] & 0xf) | ((q[2] & 0xf) << 4);
            ql[64 * half + i + 32] = (q[1] & 0xf) | ((q[3] & 0xf) << 4);
            qh[32 * half + i] =
                (q[0] >> 4) | ((q[1] >> 4) << 2) | ((q[2] >> 4) << 4) | ((q[3] >> 4) << 6);
        }
    }
    out.extend(ql);
    out.extend(qh);
    out.extend(sc.iter().map(|&v| v as u8));
    out.extend(d.to_bits().to_le_bytes());
}

/// Quantizes `x` (a whole number of super-blocks, all finite) to K-quant `ty`'s blocks.
pub fn quantize_row(x: &[f32], ty: GgufType) -> Result<Vec<u8>> {
    if !x.len().is_multiple_of(QK_K) {
        return Err(Error::Shape(format!(
            "{ty} needs a multiple of {QK_K} elements, got {}",
            x.len()
        )));
    }
    if let Some(index) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            index: index as u64,
        });
    }
    let mut out = Vec::with_capacity(x.len() / QK_K * ty.block_bytes());
    for block in x.chunks_exact(QK_K) {
        match ty {
            GgufType::Q2K => quantize_q2_k(block, &mut out),
            GgufType::Q3K => quantize_q3_k(block, &mut out),
            GgufType::Q4K => quantize_q4_k(block, &mut out),
            GgufType::Q5K => quantize_q5_k(block, &mut out),
            GgufType::Q6K => quantize_q6_k(block, &mut out),
            other => return Err(Error::Shape(format!("{other} is not a K-quant"))),
        }
    }
    Ok(out)
}

/// Element `e`'s 2-bit code in Q2_K or Q3_K's `qs`.
fn two_bit(qs: &[u8], e: usize) -> u8 {
    (qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3
}

/// Decodes K-quant `ty`'s blocks as ggml's `dequantize_row_q*_K`.
pub fn dequantize_row(bytes: &[u8], ty: GgufType) -> Result<Vec<f32>> {
    if !bytes.len().is_multiple_of(ty.block_bytes()) {
        return Err(Error::Shape(format!(
            "{ty} blocks are {} bytes; got {} bytes",
            ty.block_bytes(),
            bytes.len()
        )));
    }
    let half = |b: &[u8]| f16::from_le_bytes([b[0], b[1]]).to_f32();
    let mut y = Vec::with_capacity(bytes.len() / ty.block_bytes() * QK_K);
    for b in bytes.chunks_exact(ty.block_bytes()) {
        match ty {
            GgufType::Q2K => {
                let (sc, qs, d, min) = (&b[0..16], &b[16..80], half(&b[80..82]), half(&b[82..84]));
                for e in 0..QK_K {
                    let s = sc[e / 16];
                    let (dl, ml) = (d * (s & 0xf) as f32, min * (s >> 4) as f32);
                    y.push(dl * two_bit(qs, e) as f32 - ml);
                }
            }
            GgufType::Q3K => {
                let (hmask, qs, sc, d) = (&b[0..32], &b[32..96], &b[96..108], half(&b[108..110]));
                for e in 0..QK_K {
                    let dl = d * q3_scale(sc, e / 16) as f32;
                    let high = hmask[e % 32] >> (e / 32) & 1;
                    y.push(dl * (two_bit(qs, e) as i32 - 4 * (1 - high as i32)) as f32);
                }
            }
            GgufType::Q4K | GgufType::Q5K => {
                let (d, min) = (half(&b[0..2]), half(&b[2..4]));
                let scales = &b[4..16];
                let (qh, qs) = match ty {
                    GgufType::Q5K => (Some(&b[16..48]), &b[48..176]),
                    _ => (None, &b[16..144]),
                };
                for pair in 0..4 {
                    for (sub, shift) in [(2 * pair, 0), (2 * pair + 1, 4)] {
                        let (sc, m) = scale_min(sub, scales);
                        let (d1, m1) = (d * sc as f32, min * m as f32);
                        for l in 0..32 {
                            let mut q = (qs[32 * pair + l] >> shift) & 0xf;
                            if qh.is_some_and(|h| h[l] & (1 << sub) != 0) {
                                q += 16;
                            }
                            y.push(d1 * q as f32 - m1);
                        }
                    }
                }
            }
            GgufType::Q6K => {
                let (ql, qh, sc, d) = (&b[0..128], &b[128..192], &b[192..208], half(&b[208..210]));
                for half in 0..2 {
                    let (ql, qh, sc) = (&ql[64 * half..], &qh[32 * half..], &sc[8 * half..]);
                    let mut out = [0.0f32; 128];
                    for l in 0..32 {
                        let is = l / 16;
                        let q = [
                            ((ql[l] & 0xf) | ((qh[l] & 3) << 4)) as i32 - 32,
                            ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32,
                            ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32,
                            ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i32 - 32,
                        ];
                        for (k, &qk) in q.iter().enumerate() {
                            out[l + 32 * k] = d * (sc[is + 2 * k] as i8) as f32 * qk as f32;
                        }
                    }
                    y.extend(out);
                }
            }
            other => return Err(Error::Shape(format!("{other} is not a K-quant"))),
        }
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_int_rounds_half_to_even() {
        assert_eq!(
            [0.5, 1.5, 2.5, -0.5, -1.5, 3.49].map(nearest_int),
            [0, 2, 2, 0, -2, 3]
        );
    }

    #[test]
    fn zeros_and_round_trip_shapes() {
        for ty in GgufType::ALL.into_iter().filter(|t| t.is_k_quant()) {
            let bytes = quantize_row(&[0.0; 512], ty).unwrap();
            assert_eq!(bytes.len(), 2 * ty.block_bytes());
            assert!(dequantize_row(&bytes, ty)
                .unwrap()
                .iter()
                .all(|&v| v == 0.0));
        }
    }
}
