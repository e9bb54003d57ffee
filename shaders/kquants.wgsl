// ggml's K-quants Q2_K to Q6_K without an importance matrix, byte-exact with
// quantize_row_q*_K_ref, mirroring src/reference/kquants.rs. One invocation per sub-block (8 of
// 32 elements per 256-element super-block for Q4_K and Q5_K, 16 of 16 for the others) runs its scale
// search with its elements in registers; after a barrier, each finds its super-block's scales
// from the others' results in workgroup memory and encodes its own codes again; after another,
// the workgroup writes its super-blocks' bytes as whole words. Every expression keeps C's order
// of operations, so each f32 rounding is C's; WGSL may contract a * b + c, which lavapipe does
// not (elsewhere, NUMERICS section 7). After common.wgsl, src_vec4.wgsl and gguf_blocks.wgsl.

// [first non-finite element (chunk-local)].
@group(0) @binding(2) var<storage, read_write> status: array<atomic<u32>>;
// The blocks' bytes as words.
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

const QK_K: u32 = 256u;
const GROUP_MAX_EPS: f32 = 1e-15;
// Words of per-super-block header in `head`.
const HEAD: u32 = 5u;

// This invocation's sub-block, four elements a vec4 (sub_len() / 4 of them used): elements,
// weights and codes. Every index into them is a constant once the loops over k < sub_len() / 4
// and c < 4 unroll: lavapipe keeps an array indexed at run time in memory.
var<private> xv: array<vec4<f32>, 8>;
var<private> wv: array<vec4<f32>, 8>;
var<private> cv: array<vec4<u32>, 8>;

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

// x rounded to f32 here, as C rounds each operation. SPIR-V and GLSL let a compiler fuse a
// product into the addition after it and, for GLSL, reassociate a chain of additions or
// products, which lavapipe's GL driver does where its Vulkan driver does not; OR-ing a zero it
// cannot know into the bits stops both.
fn unfused(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) | g.zero);
}

fn unfused4(x: vec4<f32>) -> vec4<f32> {
    return bitcast<vec4<f32>>(bitcast<vec4<u32>>(x) | vec4<u32>(g.zero));
}

// ggml's nearest_int: round to nearest even through the mantissa of x + 1.5 * 2^23, x rounded
// first.
fn nearest_int(x: f32) -> i32 {
    return (bitcast<i32>(unfused(x) + 12582912.0) & 0x7fffff) - 0x400000;
}

// The weighted error of four elements: absolute (use_mad) or squared.
fn element_error4(diff: vec4<f32>, use_mad: bool) -> vec4<f32> {
    return select(diff * diff, abs(diff), use_mad);
}

// ggml's nearest_int on four lanes.
fn nearest_int4(x: vec4<f32>) -> vec4<i32> {
    return (bitcast<vec4<i32>>(unfused4(x) + 12582912.0) & vec4<i32>(0x7fffff)) - 0x400000;
}

// Sums the lanes of v into s in lane order, as C's loop adds element by element, every
// partial sum rounded (v's lanes too: v is a product).
fn add_in_order(s: f32, v: vec4<f32>) -> f32 {
    let u = unfused4(v);
    return unfused(unfused(unfused(unfused(s + u.x) + u.y) + u.z) + u.w);
}

// a * b - c as C rounds it: the product, then the difference.
fn mul_sub4(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>) -> vec4<f32> {
    return unfused4(unfused4(a * b) - c);
}

// make_qkx2_quants on the sub_len() elements of xv weighted by wv, codes to cv: returns
// (scale, -min).
// The elements, weights and each candidate's codes stay in vec4 registers (constant indices
// only), every sum still adds element by element in C's order, and the codes of the best
// candidate are computed again at the end from its iscale and min instead of copied.
fn make_qkx2_quants(nmax: i32, rmin: f32, rdelta: f32, nstep: i32, use_mad: bool) -> vec2<f32> {
    let nv = sub_len() / 4u;
    var mn = xv[0].x;
    var mx = xv[0].x;
    var sum_w = wv[0].x;
    var sum_x = sum_w * xv[0].x;
    for (var k = 0u; k < nv; k++) {
        for (var c = select(0u, 1u, k == 0u); c < 4u; c++) {
            let v = xv[k][c];
            if (v < mn) { mn = v; }
            if (v > mx) { mx = v; }
            sum_w = unfused(sum_w + wv[k][c]);
            sum_x = unfused(sum_x + unfused(wv[k][c] * v));
        }
    }
    if (mn > 0.0) { mn = 0.0; }
    if (mx == mn) {
        for (var k = 0u; k < nv; k++) {
            cv[k] = vec4<u32>(0u);
        }
        return vec2<f32>(0.0, -mn);
    }
    let top = vec4<i32>(nmax);
    var iscale = f32(nmax) / (mx - mn);
    var scale = 1.0 / iscale;
    var best_error = 0.0;
    for (var k = 0u; k < nv; k++) {
        let l = vec4<f32>(clamp(nearest_int4(iscale * (xv[k] - mn)), vec4<i32>(0), top));
        let diff = mul_sub4(vec4<f32>(scale), l, -vec4<f32>(mn)) - xv[k];
        best_error = add_in_order(best_error, wv[k] * element_error4(unfused4(diff), use_mad));
    }
    // The iscale and min that give the kept codes.
    var code_iscale = iscale;
    var code_mn = mn;
    for (var is = 0; is <= nstep; is++) {
        iscale = unfused(unfused(rmin + unfused(rdelta * f32(is))) + f32(nmax)) / (mx - mn);
        var sum_l = 0.0;
        var sum_l2 = 0.0;
        var sum_xl = 0.0;
        var l: array<vec4<f32>, 8>;
        for (var k = 0u; k < nv; k++) {
            let q = vec4<f32>(clamp(nearest_int4(iscale * (xv[k] - mn)), vec4<i32>(0), top));
            l[k] = q;
            let wq = unfused4(wv[k] * q);
            sum_l = add_in_order(sum_l, wq);
            sum_l2 = add_in_order(sum_l2, wq * q);
            sum_xl = add_in_order(sum_xl, wq * xv[k]);
        }
        let d = unfused(sum_w * sum_l2) - unfused(sum_l * sum_l);
        if (d > 0.0) {
            var this_scale = (unfused(sum_w * sum_xl) - unfused(sum_x * sum_l)) / d;
            var this_min = (unfused(sum_l2 * sum_x) - unfused(sum_l * sum_xl)) / d;
            if (this_min > 0.0) {
                this_min = 0.0;
                this_scale = sum_xl / sum_l2;
            }
            var cur_error = 0.0;
            for (var k = 0u; k < nv; k++) {
                let diff = mul_sub4(vec4<f32>(this_scale), l[k], -vec4<f32>(this_min)) - xv[k];
                cur_error = add_in_order(cur_error, wv[k] * element_error4(unfused4(diff), use_mad));
            }
            if (cur_error < best_error) {
                code_iscale = iscale;
                code_mn = mn;
                best_error = cur_error;
                scale = this_scale;
                mn = this_min;
            }
        }
    }
    for (var k = 0u; k < nv; k++) {
        cv[k] = vec4<u32>(clamp(nearest_int4(code_iscale * (xv[k] - code_mn)), vec4<i32>(0), top));
    }
    return vec2<f32>(scale, -mn);
}


// The signed element of largest magnitude of this invocation's 16, the first one on ties.
fn signed_absmax_x16() -> f32 {
    return absmax_in_order(absmax_in_order(absmax_in_order(absmax_in_order(0.0, xv[0]), xv[1]), xv[2]), xv[3]);
}


// The sums of x l and l^2 weighted by x^2 of the 16 elements coded at iscale in
// [-nmax, nmax), in C's order.
fn qx_sums(iscale: f32, nmax: i32) -> vec2<f32> {
    var sumlx = 0.0;
    var suml2 = 0.0;
    for (var k = 0u; k < 4u; k++) {
        let v = xv[k];
        let q = vec4<f32>(clamp(nearest_int4(iscale * v), vec4<i32>(-nmax), vec4<i32>(nmax - 1)));
        let w = unfused4(v * v);
        sumlx = add_in_order(sumlx, unfused4(w * v) * q);
        suml2 = add_in_order(suml2, unfused4(w * q) * q);
    }
    return vec2<f32>(sumlx, suml2);
}

// make_qx_quants (rmse_type 1, no weights) on the 16 elements of xv, codes plus 32 to cv:
// the scale. The elements stay in vec4 registers; the codes of the best iscale are computed
// once at the end.
fn make_qx_quants() -> f32 {
    let nmax = 32;
    let mx = signed_absmax_x16();
    if (abs(mx) < GROUP_MAX_EPS) {
        for (var k = 0u; k < 4u; k++) {
            cv[k] = vec4<u32>(0u);
        }
        return 0.0;
    }
    var iscale = f32(-nmax) / mx;
    var code_iscale = iscale;
    let sums = qx_sums(iscale, nmax);
    var scale = select(0.0, sums.x / sums.y, sums.y != 0.0);
    var best = scale * sums.x;
    for (var is = -9; is <= 9; is++) {
        if (is == 0) { continue; }
        iscale = -unfused(f32(nmax) + unfused(0.1 * f32(is))) / mx;
        let t = qx_sums(iscale, nmax);
        if (t.y > 0.0 && t.x * t.x > best * t.y) {
            code_iscale = iscale;
            scale = t.x / t.y;
            best = scale * t.x;
        }
    }
    for (var k = 0u; k < 4u; k++) {
        cv[k] = vec4<u32>(clamp(nearest_int4(code_iscale * xv[k]), vec4<i32>(-nmax), vec4<i32>(nmax - 1)) + nmax);
    }
    return scale;
}

// make_q3_quants (do_rmse) on the 16 elements of xv, codes plus 4 to cv: the scale.
fn make_q3_quants() -> f32 {
    let nmax = 4;
    let mx = signed_absmax_x16();
    if (abs(mx) < GROUP_MAX_EPS) {
        for (var k = 0u; k < 4u; k++) {
            cv[k] = vec4<u32>(0u);
        }
        return 0.0;
    }
    let iscale = f32(-nmax) / mx;
    for (var k = 0u; k < 4u; k++) {
        cv[k] = vec4<u32>(clamp(nearest_int4(iscale * xv[k]), vec4<i32>(-nmax), vec4<i32>(nmax - 1)) + nmax);
    }
    let sums = qx_sums(iscale, nmax);
    var sumlx = sums.x;
    var suml2 = sums.y;
    // Scalar copies for the element-by-element updates: one loop over i, as ggml's, counts
    // fewest instructions on lavapipe (nested loops over xv and cv, unrolled, 45% more).
    var x: array<f32, 16>;
    var q: array<i32, 16>;
    for (var k = 0u; k < 4u; k++) {
        for (var c = 0u; c < 4u; c++) {
            x[4u * k + c] = xv[k][c];
            q[4u * k + c] = i32(cv[k][c]) - nmax;
        }
    }
    for (var itry = 0; itry < 5; itry++) {
        var changed = false;
        for (var i = 0u; i < 16u; i++) {
            let v = x[i];
            let w = v * v;
            let old = q[i];
            var slx = sumlx - w * v * f32(old);
            if (slx > 0.0) {
                var sl2 = suml2 - w * f32(old) * f32(old);
                let new_l = clamp(nearest_int(v * sl2 / slx), -nmax, nmax - 1);
                if (new_l != old) {
                    slx += w * v * f32(new_l);
                    sl2 += w * f32(new_l) * f32(new_l);
                    if (sl2 > 0.0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        q[i] = new_l;
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
    for (var k = 0u; k < 4u; k++) {
        cv[k] = vec4<u32>(vec4<i32>(q[4u * k], q[4u * k + 1u], q[4u * k + 2u], q[4u * k + 3u]) + nmax);
    }
    return select(0.0, sumlx / suml2, suml2 > 0.0);
}


// Sub-block results k * 4 to k * 4 + 3 of the super-block whose results start at invocation
// `first`: its scales, or its mins.
fn sub4(mins: bool, first: u32, k: u32) -> vec4<f32> {
    let i = first + 4u * k;
    if (mins) {
        return vec4<f32>(sub_min[i], sub_min[i + 1u], sub_min[i + 2u], sub_min[i + 3u]);
    }
    return vec4<f32>(sub_scale[i], sub_scale[i + 1u], sub_scale[i + 2u], sub_scale[i + 3u]);
}

// ggml's running maximum (`if (v > m) m = v`) over the lanes of v, in order.
fn max_in_order(m: f32, v: vec4<f32>) -> f32 {
    var r = select(m, v.x, v.x > m);
    r = select(r, v.y, v.y > r);
    r = select(r, v.z, v.z > r);
    return select(r, v.w, v.w > r);
}

// ggml's running signed value of largest magnitude over the lanes of v, in order (the first on
// ties).
fn absmax_in_order(m: f32, v: vec4<f32>) -> f32 {
    var r = select(m, v.x, abs(v.x) > abs(m));
    r = select(r, v.y, abs(v.y) > abs(r));
    r = select(r, v.z, abs(v.z) > abs(r));
    return select(r, v.w, abs(v.w) > abs(r));
}

// Scales or mins as 6 bits against the super-block's inverse scale: C keeps nearest_int's low
// byte in a uint8_t, then caps it at 63.
fn six_bits4(v: vec4<f32>, inv: f32) -> vec4<u32> {
    return min(vec4<u32>(nearest_int4(inv * v)) & vec4<u32>(0xffu), vec4<u32>(63u));
}

// Q4_K/Q5_K after the scale searches: the super-block's d and dmin, this sub-block's 6-bit
// scale and min, its codes again from them; the first sub-block writes the header, the 12
// bytes get_scale_min_k4 reads. The 8 scales and mins are read once, into registers.
fn finish_q45(first: u32, s: u32, slot: u32, lid: u32) {
    let nmax = select(15, 31, GGUF_TYPE == GGUF_Q5_K);
    let sc0 = sub4(false, first, 0u);
    let sc1 = sub4(false, first, 1u);
    let mn0 = sub4(true, first, 0u);
    let mn1 = sub4(true, first, 1u);
    let max_scale = max_in_order(max_in_order(0.0, sc0), sc1);
    let max_min = max_in_order(max_in_order(0.0, mn0), mn1);
    let inv_scale = select(0.0, 63.0 / max_scale, max_scale > 0.0);
    let inv_min = select(0.0, 63.0 / max_min, max_min > 0.0);
    let d_bits = f16_bits_rne(max_scale / 63.0);
    let dmin_bits = f16_bits_rne(max_min / 63.0);
    let q_sc0 = six_bits4(sc0, inv_scale);
    let q_sc1 = six_bits4(sc1, inv_scale);
    let q_mn0 = six_bits4(mn0, inv_min);
    let q_mn1 = six_bits4(mn1, inv_min);
    // get_scale_min_k4 of the packed bytes gives back each sub-block's 6-bit values.
    let sc = select(q_sc0[s % 4u], q_sc1[s % 4u], s >= 4u);
    let m = select(q_mn0[s % 4u], q_mn1[s % 4u], s >= 4u);
    let dj = f16_bits_to_f32(d_bits) * f32(sc);
    if (dj != 0.0) {
        let dm = f16_bits_to_f32(dmin_bits) * f32(m);
        for (var k = 0u; k < 8u; k++) {
            cv[k] = vec4<u32>(clamp(nearest_int4((xv[k] + dm) / dj), vec4<i32>(0), vec4<i32>(nmax)));
        }
    }
    share_codes(lid, 32u);
    if (s == 0u) {
        head[slot * HEAD] = d_bits | (dmin_bits << 16u);
        head[slot * HEAD + 1u] = byte_word(q_sc0 | ((q_sc1 >> vec4<u32>(4u)) << vec4<u32>(6u)));
        head[slot * HEAD + 2u] = byte_word(q_mn0 | ((q_mn1 >> vec4<u32>(4u)) << vec4<u32>(6u)));
        head[slot * HEAD + 3u] = byte_word((q_sc1 & vec4<u32>(0xfu)) | ((q_mn1 & vec4<u32>(0xfu)) << vec4<u32>(4u)));
    }
}

// Q6_K's stored scales: MIN(127, nearest_int(iscale * scale)) kept in an int8_t, as its byte.
fn q6_scale_bytes(v: vec4<f32>, iscale: f32) -> vec4<u32> {
    return vec4<u32>(min(vec4<i32>(127), nearest_int4(iscale * v))) & vec4<u32>(0xffu);
}

// Q6_K after the scale searches: d, this sub-block's i8 scale, its codes again from them. An
// all-zero super-block is marked and written as zeros.
fn finish_q6(first: u32, s: u32, slot: u32, lid: u32) {
    let v0 = sub4(false, first, 0u);
    let v1 = sub4(false, first, 1u);
    let v2 = sub4(false, first, 2u);
    let v3 = sub4(false, first, 3u);
    let max_scale = absmax_in_order(absmax_in_order(absmax_in_order(absmax_in_order(0.0, v0), v1), v2), v3);
    let zero = abs(max_scale) < GROUP_MAX_EPS;
    let iscale = -128.0 / max_scale;
    let d_bits = select(f16_bits_rne(1.0 / iscale), 0u, zero);
    let sc = u32(min(127, nearest_int(iscale * sub_scale[lid]))) & 0xffu;
    let dj = f16_bits_to_f32(d_bits) * f32(bitcast<i32>(sc << 24u) >> 24u);
    if (!zero && dj != 0.0) {
        for (var k = 0u; k < 4u; k++) {
            cv[k] = vec4<u32>(clamp(nearest_int4(xv[k] / dj), vec4<i32>(-32), vec4<i32>(31)) + 32);
        }
    }
    share_codes(lid, 16u);
    if (s == 0u) {
        let keep = vec4<bool>(!zero);
        head[slot * HEAD] = byte_word(select(vec4<u32>(0u), q6_scale_bytes(v0, iscale), keep));
        head[slot * HEAD + 1u] = byte_word(select(vec4<u32>(0u), q6_scale_bytes(v1, iscale), keep));
        head[slot * HEAD + 2u] = byte_word(select(vec4<u32>(0u), q6_scale_bytes(v2, iscale), keep));
        head[slot * HEAD + 3u] = byte_word(select(vec4<u32>(0u), q6_scale_bytes(v3, iscale), keep));
        head[slot * HEAD + 4u] = d_bits | (select(0u, 1u, zero) << 16u);
    }
}

// Q2_K's bytes of four sub-blocks: each scale's 4 bits against 15 / max_scale, its min's
// against 15 / max_min above them (C keeps the low byte of each int).
fn q2_scale_bytes(sc: vec4<f32>, mn: vec4<f32>, max_scale: f32, max_min: f32) -> vec4<u32> {
    var b = vec4<u32>(0u);
    if (max_scale > 0.0) {
        b = vec4<u32>(nearest_int4((15.0 / max_scale) * sc)) & vec4<u32>(0xffu);
    }
    if (max_min > 0.0) {
        b |= (vec4<u32>(nearest_int4((15.0 / max_min) * mn)) << vec4<u32>(4u)) & vec4<u32>(0xffu);
    }
    return b;
}

// Q2_K after the scale searches: d and dmin, this sub-block's scale byte, its codes again.
fn finish_q2(first: u32, s: u32, slot: u32, lid: u32) {
    var sc: array<vec4<f32>, 4>;
    var mn: array<vec4<f32>, 4>;
    var max_scale = 0.0;
    var max_min = 0.0;
    for (var k = 0u; k < 4u; k++) {
        sc[k] = sub4(false, first, k);
        mn[k] = sub4(true, first, k);
        max_scale = max_in_order(max_scale, sc[k]);
        max_min = max_in_order(max_min, mn[k]);
    }
    let d_bits = f16_bits_rne(max_scale / 15.0);
    let dmin_bits = f16_bits_rne(max_min / 15.0);
    let own = q2_scale_bytes(vec4<f32>(sub_scale[lid]), vec4<f32>(sub_min[lid]), max_scale, max_min).x;
    let dj = f16_bits_to_f32(d_bits) * f32(own & 0xfu);
    if (dj != 0.0) {
        let dm = f16_bits_to_f32(dmin_bits) * f32(own >> 4u);
        for (var k = 0u; k < 4u; k++) {
            cv[k] = vec4<u32>(clamp(nearest_int4((xv[k] + dm) / dj), vec4<i32>(0), vec4<i32>(3)));
        }
    }
    share_codes(lid, 16u);
    if (s == 0u) {
        for (var k = 0u; k < 4u; k++) {
            head[slot * HEAD + k] = byte_word(q2_scale_bytes(sc[k], mn[k], max_scale, max_min));
        }
        head[slot * HEAD + 4u] = d_bits | (dmin_bits << 16u);
    }
}

// Q3_K's stored 6-bit scales (each scale against iscale, less -32; 0 when every scale is zero).
fn q3_stored4(v: vec4<f32>, iscale: f32, nonzero: bool) -> vec4<u32> {
    let l = (nearest_int4(iscale * v) << vec4<u32>(24u)) >> vec4<u32>(24u);
    return select(vec4<u32>(0u), vec4<u32>(clamp(l, vec4<i32>(-32), vec4<i32>(31)) + 32), vec4<bool>(nonzero));
}

// Q3_K after the scale searches: d, this sub-block's 6-bit scale, its codes again from them;
// the first sub-block packs the 16 scales into 12 bytes (low nibbles, then 2-bit high parts).
fn finish_q3(first: u32, s: u32, slot: u32, lid: u32) {
    let v0 = sub4(false, first, 0u);
    let v1 = sub4(false, first, 1u);
    let v2 = sub4(false, first, 2u);
    let v3 = sub4(false, first, 3u);
    let max_scale = absmax_in_order(absmax_in_order(absmax_in_order(absmax_in_order(0.0, v0), v1), v2), v3);
    let nonzero = max_scale != 0.0;
    let iscale = -32.0 / max_scale;
    let d_bits = select(0u, f16_bits_rne(1.0 / iscale), nonzero);
    let own = q3_stored4(vec4<f32>(sub_scale[lid]), iscale, nonzero).x;
    let dj = f16_bits_to_f32(d_bits) * f32(i32(own) - 32);
    if (dj != 0.0) {
        for (var k = 0u; k < 4u; k++) {
            cv[k] = vec4<u32>(clamp(nearest_int4(xv[k] / dj), vec4<i32>(-4), vec4<i32>(3)) + 4);
        }
    }
    share_codes(lid, 16u);
    if (s == 0u) {
        let s0 = q3_stored4(v0, iscale, nonzero);
        let s1 = q3_stored4(v1, iscale, nonzero);
        let s2 = q3_stored4(v2, iscale, nonzero);
        let s3 = q3_stored4(v3, iscale, nonzero);
        let low = vec4<u32>(0xfu);
        let four = vec4<u32>(4u);
        head[slot * HEAD] = byte_word((s0 & low) | ((s2 & low) << four));
        head[slot * HEAD + 1u] = byte_word((s1 & low) | ((s3 & low) << four));
        head[slot * HEAD + 2u] = byte_word((s0 >> four) | ((s1 >> four) << vec4<u32>(2u))
            | ((s2 >> four) << four) | ((s3 >> four) << vec4<u32>(6u)));
        head[slot * HEAD + 3u] = d_bits;
    }
}

// This invocation's n codes into wg_codes, four to a word.
fn share_codes(lid: u32, n: u32) {
    for (var k = 0u; k < n / 4u; k++) {
        wg_codes[lid * (n / 4u) + k] = byte_word(cv[k]);
    }
}

// Codes e to e + 3 (e a multiple of 4) of the super-block in `slot`.
fn codes4(slot: u32, e: u32) -> vec4<u32> {
    return bytes4(wg_codes[slot * 64u + e / 4u]);
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
    // Four elements a load; one atomic for the first NaN or infinity (lavapipe runs every
    // atomic in the code lane by lane, taken or not).
    let at = (g.x_offset + base) / select(8u, 4u, INPUT == DTYPE_F32);
    var bad = 0xffffffffu;
    for (var k = 0u; k < n / 4u; k++) {
        var x = vec4<f32>(0.0);
        if (sb < g.rows) {
            x = bitcast<vec4<f32>>(load4(at, k));
        }
        let i = select(vec4<u32>(0xffffffffu), vec4<u32>(0u, 1u, 2u, 3u) + 4u * k, !finite4(x));
        bad = min(bad, min(min(i.x, i.y), min(i.z, i.w)));
        xv[k] = x;
    }
    if (bad != 0xffffffffu) {
        atomicMin(&status[0], base + bad);
    }
    if (GGUF_TYPE == GGUF_Q6_K) {
        sub_scale[lid] = make_qx_quants();
    } else if (GGUF_TYPE == GGUF_Q3_K) {
        sub_scale[lid] = make_q3_quants();
    } else if (GGUF_TYPE == GGUF_Q2_K) {
        for (var k = 0u; k < 4u; k++) {
            wv[k] = abs(xv[k]);
        }
        let sm = make_qkx2_quants(3, -0.5, 0.1, 15, true);
        sub_scale[lid] = sm.x;
        sub_min[lid] = sm.y;
    } else {
        var sum_x2 = 0.0;
        for (var k = 0u; k < 8u; k++) {
            sum_x2 = add_in_order(sum_x2, xv[k] * xv[k]);
        }
        let av_x = sqrt(sum_x2 / 32.0);
        for (var k = 0u; k < 8u; k++) {
            wv[k] = av_x + abs(xv[k]);
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
