// ggml's K-quants Q2_K to Q6_K without an importance matrix, byte-exact with
// quantize_row_q*_K_ref, mirroring src/reference/kquants.rs. One invocation per sub-block (8 of
// 32 elements per 256-element super-block for Q4_K and Q5_K, 16 of 16 for the others) runs its scale
// search with its elements in registers; after a barrier, each finds its super-block's scales
// from the others' results in workgroup memory and encodes its own codes again; after another,
// the workgroup writes its super-blocks' bytes as whole words. Every expression keeps C's order
// of operations, so each f32 rounding is C's; WGSL may contract a * b + c, which lavapipe does
// not (elsewhere, NUMERICS section 7). After common.wgsl and gguf_blocks.wgsl.

// [first non-finite element (chunk-local)].
@group(0) @binding(2) var<storage, read_write> status: array<atomic<u32>>;
// The blocks' bytes as words.
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

const QK_K: u32 = 256u;
const GROUP_MAX_EPS: f32 = 1e-15;
// Words of per-super-block header in `head`.
const HEAD: u32 = 5u;

// This invocation's sub-block: elements, then codes.
var<private> xs: array<f32, 32>;
var<private> codes: array<u32, 32>;
var<private> aux: array<u32, 32>;
var<private> weights: array<f32, 32>;

// Each sub-block's scale and min (Q6_K: scale), by local invocation.
var<workgroup> sub_scale: array<f32, WG>;
var<workgroup> sub_min: array<f32, WG>;
// The codes, 256 per super-block of the workgroup, four to a word (code e in byte e % 4).
var<workgroup> wg_codes: array<u32, WG * 8u>;
// Per super-block: Q4_K/Q5_K d | dmin << 16 and the 12 scale bytes; Q6_K the 16 scale bytes
// and d | (all zero) << 16; Q2_K the 16 scale bytes and d | dmin << 16; Q3_K the 12 scale bytes
// and d.
var<workgroup> head: array<u32, WG / 8u * HEAD>;

// Elements per sub-block.
fn sub_len() -> u32 {
    return QK_K / SUB_BLOCKS;
}

// ggml's nearest_int: round to nearest even through the mantissa of x + 1.5 * 2^23.
fn nearest_int(x: f32) -> i32 {
    return (bitcast<i32>(x + 12582912.0) & 0x7fffff) - 0x400000;
}

// The weighted error of one element: absolute (use_mad) or squared.
fn element_error(diff: f32, use_mad: bool) -> f32 {
    return select(diff * diff, abs(diff), use_mad);
}

// make_qkx2_quants on the sub_len() elements of xs, codes to `codes`: returns (scale, -min).
fn make_qkx2_quants(nmax: i32, rmin: f32, rdelta: f32, nstep: i32, use_mad: bool) -> vec2<f32> {
    let n = sub_len();
    var mn = xs[0];
    var mx = xs[0];
    var sum_w = weights[0];
    var sum_x = sum_w * xs[0];
    for (var i = 1u; i < n; i++) {
        let v = xs[i];
        if (v < mn) { mn = v; }
        if (v > mx) { mx = v; }
        let w = weights[i];
        sum_w += w;
        sum_x += w * v;
    }
    if (mn > 0.0) { mn = 0.0; }
    if (mx == mn) {
        for (var i = 0u; i < n; i++) {
            codes[i] = 0u;
        }
        return vec2<f32>(0.0, -mn);
    }
    var iscale = f32(nmax) / (mx - mn);
    var scale = 1.0 / iscale;
    var best_error = 0.0;
    for (var i = 0u; i < n; i++) {
        let l = clamp(nearest_int(iscale * (xs[i] - mn)), 0, nmax);
        codes[i] = u32(l);
        best_error += weights[i] * element_error(scale * f32(l) + mn - xs[i], use_mad);
    }
    for (var is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * f32(is) + f32(nmax)) / (mx - mn);
        var sum_l = 0.0;
        var sum_l2 = 0.0;
        var sum_xl = 0.0;
        for (var i = 0u; i < n; i++) {
            let l = clamp(nearest_int(iscale * (xs[i] - mn)), 0, nmax);
            aux[i] = u32(l);
            let w = weights[i];
            let q = f32(l);
            sum_l += w * q;
            sum_l2 += w * q * q;
            sum_xl += w * q * xs[i];
        }
        let d = sum_w * sum_l2 - sum_l * sum_l;
        if (d > 0.0) {
            var this_scale = (sum_w * sum_xl - sum_x * sum_l) / d;
            var this_min = (sum_l2 * sum_x - sum_l * sum_xl) / d;
            if (this_min > 0.0) {
                this_min = 0.0;
                this_scale = sum_xl / sum_l2;
            }
            var cur_error = 0.0;
            for (var i = 0u; i < n; i++) {
                cur_error += weights[i] * element_error(this_scale * f32(aux[i]) + this_min - xs[i], use_mad);
            }
            if (cur_error < best_error) {
                for (var i = 0u; i < n; i++) {
                    codes[i] = aux[i];
                }
                best_error = cur_error;
                scale = this_scale;
                mn = this_min;
            }
        }
    }
    return vec2<f32>(scale, -mn);
}

// The signed value of largest magnitude of 16, the first one on ties (ggml's loops).
fn signed_absmax_16(v: array<f32, 16>) -> f32 {
    var mx = 0.0;
    for (var i = 0u; i < 16u; i++) {
        if (abs(v[i]) > abs(mx)) {
            mx = v[i];
        }
    }
    return mx;
}

// The 16 elements of xs coded at iscale in [-nmax, nmax), plus nmax, to `codes`; returns the
// sums of x l and l^2 weighted by x^2, in C's order.
fn first_codes(iscale: f32, nmax: i32) -> vec2<f32> {
    var sumlx = 0.0;
    var suml2 = 0.0;
    for (var i = 0u; i < 16u; i++) {
        let v = xs[i];
        let l = clamp(nearest_int(iscale * v), -nmax, nmax - 1);
        codes[i] = u32(l + nmax);
        let w = v * v;
        let q = f32(l);
        sumlx += w * v * q;
        suml2 += w * q * q;
    }
    return vec2<f32>(sumlx, suml2);
}

// This invocation's first 16 elements (all of a Q3_K or Q6_K sub-block).
fn first_16() -> array<f32, 16> {
    var v: array<f32, 16>;
    for (var i = 0u; i < 16u; i++) {
        v[i] = xs[i];
    }
    return v;
}

// The 16 sub-block scales of the super-block whose results start at invocation `first`.
fn sub_scales_16(first: u32) -> array<f32, 16> {
    var v: array<f32, 16>;
    for (var j = 0u; j < 16u; j++) {
        v[j] = sub_scale[first + j];
    }
    return v;
}

// make_qx_quants (rmse_type 1, no weights) on the 16 elements of xs, codes plus 32 to `codes`:
// the scale.
fn make_qx_quants() -> f32 {
    let nmax = 32;
    let mx = signed_absmax_16(first_16());
    if (abs(mx) < GROUP_MAX_EPS) {
        for (var i = 0u; i < 16u; i++) {
            codes[i] = 0u;
        }
        return 0.0;
    }
    var iscale = f32(-nmax) / mx;
    let sums = first_codes(iscale, nmax);
    var sumlx = sums.x;
    var suml2 = sums.y;
    var scale = select(0.0, sumlx / suml2, suml2 != 0.0);
    var best = scale * sumlx;
    for (var is = -9; is <= 9; is++) {
        if (is == 0) { continue; }
        iscale = -(f32(nmax) + 0.1 * f32(is)) / mx;
        sumlx = 0.0;
        suml2 = 0.0;
        for (var i = 0u; i < 16u; i++) {
            let v = xs[i];
            let q = f32(clamp(nearest_int(iscale * v), -nmax, nmax - 1));
            let w = v * v;
            sumlx += w * v * q;
            suml2 += w * q * q;
        }
        if (suml2 > 0.0 && sumlx * sumlx > best * suml2) {
            for (var i = 0u; i < 16u; i++) {
                codes[i] = u32(clamp(nearest_int(iscale * xs[i]), -nmax, nmax - 1) + nmax);
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

// make_q3_quants (do_rmse) on the 16 elements of xs, codes plus 4 to `codes`: the scale.
fn make_q3_quants() -> f32 {
    let nmax = 4;
    let mx = signed_absmax_16(first_16());
    if (abs(mx) < GROUP_MAX_EPS) {
        for (var i = 0u; i < 16u; i++) {
            codes[i] = 0u;
        }
        return 0.0;
    }
    let sums = first_codes(f32(-nmax) / mx, nmax);
    var sumlx = sums.x;
    var suml2 = sums.y;
    for (var itry = 0; itry < 5; itry++) {
        var changed = false;
        for (var i = 0u; i < 16u; i++) {
            let v = xs[i];
            let w = v * v;
            let old = i32(codes[i]) - nmax;
            var slx = sumlx - w * v * f32(old);
            if (slx > 0.0) {
                var sl2 = suml2 - w * f32(old) * f32(old);
                let new_l = clamp(nearest_int(v * sl2 / slx), -nmax, nmax - 1);
                if (new_l != old) {
                    slx += w * v * f32(new_l);
                    sl2 += w * f32(new_l) * f32(new_l);
                    if (sl2 > 0.0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        codes[i] = u32(new_l + nmax);
                        sumlx = slx;
                        suml2 = sl2;
                        changed = true;
                    }
                }
            }
        }
        if (!changed) {
            break;
        }
    }
    return select(0.0, sumlx / suml2, suml2 > 0.0);
}

// The low byte of an int as C's int8_t holds it.
fn low_i8(v: i32) -> i32 {
    return (v << 24u) >> 24u;
}

// A sub-block's scale or min as 6 bits against the super-block's inverse scale: C keeps
// nearest_int's low byte in a uint8_t, then caps it at 63.
fn six_bits(v: f32, inv: f32) -> u32 {
    return min(u32(nearest_int(inv * v)) & 0xffu, 63u);
}

// Byte k of the 12 packed 6-bit scales and mins of the super-block whose sub-block results start
// at invocation `first` (the packing get_scale_min_k4 reads).
fn packed_scale_byte(first: u32, k: u32, inv_scale: f32, inv_min: f32) -> u32 {
    if (k < 4u) {
        return six_bits(sub_scale[first + k], inv_scale)
            | ((six_bits(sub_scale[first + k + 4u], inv_scale) >> 4u) << 6u);
    }
    if (k < 8u) {
        return six_bits(sub_min[first + k - 4u], inv_min)
            | ((six_bits(sub_min[first + k], inv_min) >> 4u) << 6u);
    }
    return (six_bits(sub_scale[first + k - 4u], inv_scale) & 0xfu)
        | ((six_bits(sub_min[first + k - 4u], inv_min) & 0xfu) << 4u);
}

// Q4_K/Q5_K after the scale searches: the super-block's d and dmin, this sub-block's 6-bit
// scale and min, its codes again from them.
fn finish_q45(first: u32, s: u32, slot: u32, lid: u32) {
    let nmax = select(15, 31, GGUF_TYPE == GGUF_Q5_K);
    var max_scale = 0.0;
    var max_min = 0.0;
    for (var j = 0u; j < 8u; j++) {
        if (sub_scale[first + j] > max_scale) { max_scale = sub_scale[first + j]; }
        if (sub_min[first + j] > max_min) { max_min = sub_min[first + j]; }
    }
    let inv_scale = select(0.0, 63.0 / max_scale, max_scale > 0.0);
    let inv_min = select(0.0, 63.0 / max_min, max_min > 0.0);
    let d_bits = f16_bits_rne(max_scale / 63.0);
    let dmin_bits = f16_bits_rne(max_min / 63.0);
    // get_scale_min_k4 of the packed bytes gives back each sub-block's 6-bit values.
    let sc = six_bits(sub_scale[first + s], inv_scale);
    let m = six_bits(sub_min[first + s], inv_min);
    let dj = f16_bits_to_f32(d_bits) * f32(sc);
    if (dj != 0.0) {
        let dm = f16_bits_to_f32(dmin_bits) * f32(m);
        for (var i = 0u; i < 32u; i++) {
            codes[i] = u32(clamp(nearest_int((xs[i] + dm) / dj), 0, nmax));
        }
    }
    share_codes(lid, 32u);
    if (s == 0u) {
        head[slot * HEAD] = d_bits | (dmin_bits << 16u);
        for (var w = 0u; w < 3u; w++) {
            var word = 0u;
            for (var b = 0u; b < 4u; b++) {
                word |= packed_scale_byte(first, 4u * w + b, inv_scale, inv_min) << (8u * b);
            }
            head[slot * HEAD + 1u + w] = word;
        }
    }
}

// Q6_K after the scale searches: d, this sub-block's i8 scale, its codes again from them. An
// all-zero super-block is marked and written as zeros.
fn finish_q6(first: u32, s: u32, slot: u32, lid: u32) {
    let max_scale = signed_absmax_16(sub_scales_16(first));
    let zero = abs(max_scale) < GROUP_MAX_EPS;
    let iscale = -128.0 / max_scale;
    let d_bits = select(f16_bits_rne(1.0 / iscale), 0u, zero);
    // C keeps MIN(127, nearest_int(...)) in an int8_t: its low byte.
    let sc = u32(min(127, nearest_int(iscale * sub_scale[lid]))) & 0xffu;
    let dj = f16_bits_to_f32(d_bits) * f32(bitcast<i32>(sc << 24u) >> 24u);
    if (!zero && dj != 0.0) {
        for (var i = 0u; i < 16u; i++) {
            codes[i] = u32(clamp(nearest_int(xs[i] / dj), -32, 31) + 32);
        }
    }
    share_codes(lid, 16u);
    if (s == 0u) {
        for (var w = 0u; w < 4u; w++) {
            var word = 0u;
            for (var b = 0u; b < 4u; b++) {
                let v = u32(min(127, nearest_int(iscale * sub_scale[first + 4u * w + b]))) & 0xffu;
                word |= select(v, 0u, zero) << (8u * b);
            }
            head[slot * HEAD + w] = word;
        }
        head[slot * HEAD + 4u] = d_bits | (select(0u, 1u, zero) << 16u);
    }
}

// Q2_K's byte of sub-block i: its scale's 4 bits against 15 / max_scale, its min's against
// 15 / max_min above them (C keeps the low byte of each int).
fn q2_scale_byte(i: u32, max_scale: f32, max_min: f32) -> u32 {
    var b = 0u;
    if (max_scale > 0.0) {
        b = u32(nearest_int((15.0 / max_scale) * sub_scale[i])) & 0xffu;
    }
    if (max_min > 0.0) {
        b |= (u32(nearest_int((15.0 / max_min) * sub_min[i])) << 4u) & 0xffu;
    }
    return b;
}

// Q2_K after the scale searches: d and dmin, this sub-block's scale byte, its codes again.
fn finish_q2(first: u32, s: u32, slot: u32, lid: u32) {
    var max_scale = 0.0;
    var max_min = 0.0;
    for (var j = 0u; j < 16u; j++) {
        if (sub_scale[first + j] > max_scale) { max_scale = sub_scale[first + j]; }
        if (sub_min[first + j] > max_min) { max_min = sub_min[first + j]; }
    }
    let d_bits = f16_bits_rne(max_scale / 15.0);
    let dmin_bits = f16_bits_rne(max_min / 15.0);
    let sc = q2_scale_byte(lid, max_scale, max_min);
    let dj = f16_bits_to_f32(d_bits) * f32(sc & 0xfu);
    if (dj != 0.0) {
        let dm = f16_bits_to_f32(dmin_bits) * f32(sc >> 4u);
        for (var i = 0u; i < 16u; i++) {
            codes[i] = u32(clamp(nearest_int((xs[i] + dm) / dj), 0, 3));
        }
    }
    share_codes(lid, 16u);
    if (s == 0u) {
        for (var w = 0u; w < 4u; w++) {
            var word = 0u;
            for (var b = 0u; b < 4u; b++) {
                word |= q2_scale_byte(first + 4u * w + b, max_scale, max_min) << (8u * b);
            }
            head[slot * HEAD + w] = word;
        }
        head[slot * HEAD + 4u] = d_bits | (dmin_bits << 16u);
    }
}

// Q3_K's stored 6-bit scale of sub-block i (its scale against iscale, less -32; 0 when every
// scale is zero).
fn q3_stored(i: u32, iscale: f32, nonzero: bool) -> u32 {
    return select(0u, u32(clamp(low_i8(nearest_int(iscale * sub_scale[i])), -32, 31) + 32), nonzero);
}

// Q3_K after the scale searches: d, this sub-block's 6-bit scale, its codes again from them.
fn finish_q3(first: u32, s: u32, slot: u32, lid: u32) {
    let max_scale = signed_absmax_16(sub_scales_16(first));
    let nonzero = max_scale != 0.0;
    let iscale = -32.0 / max_scale;
    let d_bits = select(0u, f16_bits_rne(1.0 / iscale), nonzero);
    let dj = f16_bits_to_f32(d_bits) * f32(i32(q3_stored(lid, iscale, nonzero)) - 32);
    if (dj != 0.0) {
        for (var i = 0u; i < 16u; i++) {
            codes[i] = u32(clamp(nearest_int(xs[i] / dj), -4, 3) + 4);
        }
    }
    share_codes(lid, 16u);
    if (s == 0u) {
        var bytes: array<u32, 12>;
        for (var j = 0u; j < 16u; j++) {
            let v = q3_stored(first + j, iscale, nonzero);
            bytes[j % 8u] |= (v & 0xfu) << (4u * (j / 8u));
            bytes[8u + j % 4u] |= (v >> 4u) << (2u * (j / 4u));
        }
        for (var w = 0u; w < 3u; w++) {
            head[slot * HEAD + w] = bytes[4u * w] | (bytes[4u * w + 1u] << 8u)
                | (bytes[4u * w + 2u] << 16u) | (bytes[4u * w + 3u] << 24u);
        }
        head[slot * HEAD + 3u] = d_bits;
    }
}

// This invocation's n codes into wg_codes, four to a word.
fn share_codes(lid: u32, n: u32) {
    for (var k = 0u; k < n / 4u; k++) {
        wg_codes[lid * (n / 4u) + k] = codes[4u * k] | (codes[4u * k + 1u] << 8u)
            | (codes[4u * k + 2u] << 16u) | (codes[4u * k + 3u] << 24u);
    }
}

// Codes e to e + 3 (e a multiple of 4) of the super-block in `slot`.
fn codes4(slot: u32, e: u32) -> vec4<u32> {
    let w = wg_codes[slot * 64u + e / 4u];
    return (vec4<u32>(w) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xffu);
}

fn byte_word(b: vec4<u32>) -> u32 {
    return (b.x & 0xffu) | ((b.y & 0xffu) << 8u) | ((b.z & 0xffu) << 16u) | ((b.w & 0xffu) << 24u);
}

// Bytes q to q + 3 of Q4_K and Q5_K's `qs`: the low nibbles of codes l and l + 32 of each 64.
fn nibble_word(slot: u32, q: u32) -> u32 {
    let e = 64u * (q / 32u) + q % 32u;
    let low = codes4(slot, e) & vec4<u32>(0xfu);
    let high = codes4(slot, e + 32u) & vec4<u32>(0xfu);
    return byte_word(low | (high << vec4<u32>(4u)));
}

// Bytes q to q + 3 of Q2_K and Q3_K's `qs`: the low 2 bits of codes l, l + 32, l + 64 and
// l + 96 of each 128.
fn two_bit_word(slot: u32, q: u32) -> u32 {
    let e = 128u * (q / 32u) + q % 32u;
    var b = vec4<u32>(0u);
    for (var k = 0u; k < 4u; k++) {
        b |= (codes4(slot, e + 32u * k) & vec4<u32>(3u)) << vec4<u32>(2u * k);
    }
    return byte_word(b);
}

// Bytes 4 i to 4 i + 3 of the super-block in `slot` (zeros past its end, and for a slot past
// the chunk's super-blocks), from the codes and headers. Every field starts on a word.
fn block_word(slot: u32, i: u32) -> u32 {
    let at = 4u * i;
    let hd = slot * HEAD;
    if (GGUF_TYPE == GGUF_Q2_K) {
        if (at < 16u) {
            return head[hd + i];
        }
        if (at < 80u) {
            return two_bit_word(slot, at - 16u);
        }
        return head[hd + 4u];
    }
    if (GGUF_TYPE == GGUF_Q3_K) {
        if (at < 32u) {
            // hmask: code l's third bit at bit l / 32 of byte l % 32.
            var b = vec4<u32>(0u);
            for (var k = 0u; k < 8u; k++) {
                b |= ((codes4(slot, 32u * k + at) >> vec4<u32>(2u)) & vec4<u32>(1u)) << vec4<u32>(k);
            }
            return byte_word(b);
        }
        if (at < 96u) {
            return two_bit_word(slot, at - 32u);
        }
        return head[hd + (at - 96u) / 4u];
    }
    if (GGUF_TYPE == GGUF_Q6_K) {
        if (((head[hd + 4u] >> 16u) & 1u) == 1u) {
            return 0u;
        }
        if (at < 128u) {
            let e = 128u * (at / 64u) + at % 32u + 32u * ((at % 64u) / 32u);
            let low = codes4(slot, e) & vec4<u32>(0xfu);
            let high = codes4(slot, e + 64u) & vec4<u32>(0xfu);
            return byte_word(low | (high << vec4<u32>(4u)));
        }
        if (at < 192u) {
            let q = at - 128u;
            let e = 128u * (q / 32u) + q % 32u;
            var b = vec4<u32>(0u);
            for (var k = 0u; k < 4u; k++) {
                b |= (codes4(slot, e + 32u * k) >> vec4<u32>(4u)) << vec4<u32>(2u * k);
            }
            return byte_word(b);
        }
        if (at < 208u) {
            return head[hd + (at - 192u) / 4u];
        }
        return head[hd + 4u] & 0xffffu;
    }
    if (at < 16u) {
        return head[hd + i];
    }
    if (GGUF_TYPE == GGUF_Q5_K) {
        if (at < 48u) {
            let j = at - 16u;
            var qh = vec4<u32>(0u);
            for (var p = 0u; p < 4u; p++) {
                qh |= ((codes4(slot, 64u * p + j) >> vec4<u32>(4u)) << vec4<u32>(2u * p))
                    | ((codes4(slot, 64u * p + j + 32u) >> vec4<u32>(4u)) << vec4<u32>(2u * p + 1u));
            }
            return byte_word(qh);
        }
        return nibble_word(slot, at - 48u);
    }
    return nibble_word(slot, at - 16u);
}

// Bytes `at` to `at` + 3 of the workgroup's super-blocks (at a multiple of 4): one or two of a
// super-block's words, funnelled where it starts 2 bytes into a word (Q3_K's and Q6_K's second
// of a pair), with the next super-block's first bytes where it ends inside the word.
fn out_word(at: u32, first_sb: u32) -> u32 {
    let slot = at / BLOCK_BYTES;
    let off = at % BLOCK_BYTES;
    if (first_sb + slot >= g.rows) {
        return 0u;
    }
    // Constant where super-blocks are whole words (Q2_K, Q4_K, Q5_K): lavapipe pays for the
    // loads of a path no lane takes.
    if (BLOCK_BYTES % 4u == 0u) {
        return block_word(slot, off / 4u);
    }
    var word: u32;
    if (off % 4u == 0u) {
        word = block_word(slot, off / 4u);
    } else {
        word = (block_word(slot, off / 4u) >> 16u) | (block_word(slot, off / 4u + 1u) << 16u);
    }
    if (off + 4u > BLOCK_BYTES && first_sb + slot + 1u < g.rows) {
        word |= block_word(slot + 1u, 0u) << (8u * (BLOCK_BYTES - off));
    }
    return word;
}

@compute @workgroup_size(WG)
fn quantize_k(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let inv = work_item(gid, nwg, WG);
    let per = SUB_BLOCKS;
    let n = sub_len();
    // g.rows: super-blocks in this chunk.
    let sb = inv / per;
    let s = inv % per;
    let base = sb * QK_K + s * n;
    for (var i = 0u; i < n; i++) {
        var x = 0.0;
        if (sb < g.rows) {
            x = load_x(g.x_offset + base + i);
            if (!is_finite_bits(x)) {
                atomicMin(&status[0], base + i);
            }
        }
        xs[i] = x;
    }
    if (GGUF_TYPE == GGUF_Q6_K) {
        sub_scale[lid] = make_qx_quants();
    } else if (GGUF_TYPE == GGUF_Q3_K) {
        sub_scale[lid] = make_q3_quants();
    } else if (GGUF_TYPE == GGUF_Q2_K) {
        for (var l = 0u; l < 16u; l++) {
            weights[l] = abs(xs[l]);
        }
        let sm = make_qkx2_quants(3, -0.5, 0.1, 15, true);
        sub_scale[lid] = sm.x;
        sub_min[lid] = sm.y;
    } else {
        var sum_x2 = 0.0;
        for (var l = 0u; l < 32u; l++) {
            sum_x2 += xs[l] * xs[l];
        }
        let av_x = sqrt(sum_x2 / 32.0);
        for (var l = 0u; l < 32u; l++) {
            weights[l] = av_x + abs(xs[l]);
        }
        let five = GGUF_TYPE == GGUF_Q5_K;
        let sm = make_qkx2_quants(select(15, 31, five), select(-1.0, -0.5, five), 0.1, select(20, 15, five), false);
        sub_scale[lid] = sm.x;
        sub_min[lid] = sm.y;
    }
    workgroupBarrier();
    let slot = lid / per;
    if (GGUF_TYPE == GGUF_Q6_K) {
        finish_q6(lid - s, s, slot, lid);
    } else if (GGUF_TYPE == GGUF_Q3_K) {
        finish_q3(lid - s, s, slot, lid);
    } else if (GGUF_TYPE == GGUF_Q2_K) {
        finish_q2(lid - s, s, slot, lid);
    } else {
        finish_q45(lid - s, s, slot, lid);
    }
    workgroupBarrier();
    // The workgroup's super-blocks as words; the chunk has g.count groups of GROUP blocks.
    let first_sb = (inv - lid) / per;
    let words = (WG / per) * BLOCK_BYTES / 4u;
    let first_word = first_sb * BLOCK_BYTES / 4u;
    let chunk_words = g.count * GROUP * BLOCK_BYTES / 4u;
    for (var w = lid; w < words; w += WG) {
        if (first_word + w < chunk_words) {
            out[g.code_offset + first_word + w] = out_word(4u * w, first_sb);
        }
    }
}
