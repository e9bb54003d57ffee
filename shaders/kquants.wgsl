// ggml's K-quants Q4_K, Q5_K and Q6_K without an importance matrix, byte-exact with
// quantize_row_q*_K_ref, mirroring src/reference/kquants.rs: one invocation per group of GROUP
// super-blocks of 256 elements whose bytes end on a word boundary (Q6_K's 210-byte blocks go in
// pairs). Every expression keeps C's order of operations, so each f32 rounding is C's; WGSL may
// contract a * b + c, which lavapipe does not (other GPUs count as NUMERICS section 8 says).
// After common.wgsl and gguf_blocks.wgsl.

// [first non-finite element (chunk-local)].
@group(0) @binding(2) var<storage, read_write> status: array<atomic<u32>>;
// The blocks' bytes as words.
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

const QK_K: u32 = 256u;
const GROUP_MAX_EPS: f32 = 1e-15;

var<private> kx: array<f32, 256>;
var<private> codes: array<u32, 256>;
var<private> aux: array<u32, 32>;
var<private> weights: array<f32, 32>;
// The group's bytes: two Q6_K blocks (420 bytes) is the most.
var<private> kwords: array<u32, 105>;

fn kput_byte(i: u32, v: u32) {
    kwords[i / 4u] |= (v & 0xffu) << (8u * (i % 4u));
}

fn kput_f16_bits(i: u32, h: u32) {
    kput_byte(i, h);
    kput_byte(i + 1u, h >> 8u);
}

// ggml's nearest_int: round to nearest even through the mantissa of x + 1.5 * 2^23.
fn nearest_int(x: f32) -> i32 {
    return (bitcast<i32>(x + 12582912.0) & 0x7fffff) - 0x400000;
}

// make_qkx2_quants (use_mad = false) on the 32 elements of kx at `base`, codes to `codes`:
// returns (scale, -min).
fn make_qkx2_quants(base: u32, nmax: i32, rmin: f32, rdelta: f32, nstep: i32) -> vec2<f32> {
    var mn = kx[base];
    var mx = kx[base];
    var sum_w = weights[0];
    var sum_x = sum_w * kx[base];
    for (var i = 1u; i < 32u; i++) {
        let v = kx[base + i];
        if (v < mn) { mn = v; }
        if (v > mx) { mx = v; }
        let w = weights[i];
        sum_w += w;
        sum_x += w * v;
    }
    if (mn > 0.0) { mn = 0.0; }
    if (mx == mn) {
        for (var i = 0u; i < 32u; i++) {
            codes[base + i] = 0u;
        }
        return vec2<f32>(0.0, -mn);
    }
    var iscale = f32(nmax) / (mx - mn);
    var scale = 1.0 / iscale;
    var best_error = 0.0;
    for (var i = 0u; i < 32u; i++) {
        let v = kx[base + i];
        let l = clamp(nearest_int(iscale * (v - mn)), 0, nmax);
        codes[base + i] = u32(l);
        let diff = scale * f32(l) + mn - v;
        best_error += weights[i] * (diff * diff);
    }
    for (var is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * f32(is) + f32(nmax)) / (mx - mn);
        var sum_l = 0.0;
        var sum_l2 = 0.0;
        var sum_xl = 0.0;
        for (var i = 0u; i < 32u; i++) {
            let v = kx[base + i];
            let l = clamp(nearest_int(iscale * (v - mn)), 0, nmax);
            aux[i] = u32(l);
            let w = weights[i];
            let q = f32(l);
            sum_l += w * q;
            sum_l2 += w * q * q;
            sum_xl += w * q * v;
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
            for (var i = 0u; i < 32u; i++) {
                let diff = this_scale * f32(aux[i]) + this_min - kx[base + i];
                cur_error += weights[i] * (diff * diff);
            }
            if (cur_error < best_error) {
                for (var i = 0u; i < 32u; i++) {
                    codes[base + i] = aux[i];
                }
                best_error = cur_error;
                scale = this_scale;
                mn = this_min;
            }
        }
    }
    return vec2<f32>(scale, -mn);
}

// Q4_K (nmax 15) or Q5_K (31) of kx into the bytes at `at`: d, dmin, the 12 bytes of 6-bit
// scales and mins, then (Q5_K) 32 bytes of fifth bits and the 128 bytes of low nibbles.
fn quantize_q45_k(at: u32, five: bool) {
    let nmax = select(15, 31, five);
    let rmin = select(-1.0, -0.5, five);
    let nstep = select(20, 15, five);
    var scales: array<f32, 8>;
    var mins: array<f32, 8>;
    var max_scale = 0.0;
    var max_min = 0.0;
    for (var j = 0u; j < 8u; j++) {
        var sum_x2 = 0.0;
        for (var l = 0u; l < 32u; l++) {
            let v = kx[32u * j + l];
            sum_x2 += v * v;
        }
        let av_x = sqrt(sum_x2 / 32.0);
        for (var l = 0u; l < 32u; l++) {
            weights[l] = av_x + abs(kx[32u * j + l]);
        }
        let sm = make_qkx2_quants(32u * j, nmax, rmin, 0.1, nstep);
        scales[j] = sm.x;
        mins[j] = sm.y;
        if (sm.x > max_scale) { max_scale = sm.x; }
        if (sm.y > max_min) { max_min = sm.y; }
    }
    let inv_scale = select(0.0, 63.0 / max_scale, max_scale > 0.0);
    let inv_min = select(0.0, 63.0 / max_min, max_min > 0.0);
    var packed: array<u32, 12>;
    for (var j = 0u; j < 8u; j++) {
        // C keeps nearest_int's low byte in a uint8_t, then caps it at 63.
        let ls = min(u32(nearest_int(inv_scale * scales[j])) & 0xffu, 63u);
        let lm = min(u32(nearest_int(inv_min * mins[j])) & 0xffu, 63u);
        if (j < 4u) {
            packed[j] = ls;
            packed[j + 4u] = lm;
        } else {
            packed[j + 4u] = (ls & 0xfu) | ((lm & 0xfu) << 4u);
            packed[j - 4u] |= (ls >> 4u) << 6u;
            packed[j] |= (lm >> 4u) << 6u;
        }
    }
    let d_bits = f16_bits_rne(max_scale / 63.0);
    let dmin_bits = f16_bits_rne(max_min / 63.0);
    let d = f16_bits_to_f32(d_bits);
    let dmin = f16_bits_to_f32(dmin_bits);
    for (var j = 0u; j < 8u; j++) {
        var sc: u32;
        var m: u32;
        if (j < 4u) {
            sc = packed[j] & 63u;
            m = packed[j + 4u] & 63u;
        } else {
            sc = (packed[j + 4u] & 0xfu) | ((packed[j - 4u] >> 6u) << 4u);
            m = (packed[j + 4u] >> 4u) | ((packed[j] >> 6u) << 4u);
        }
        let dj = d * f32(sc);
        if (dj == 0.0) { continue; }
        let dm = dmin * f32(m);
        for (var i = 32u * j; i < 32u * j + 32u; i++) {
            codes[i] = u32(clamp(nearest_int((kx[i] + dm) / dj), 0, nmax));
        }
    }
    kput_f16_bits(at, d_bits);
    kput_f16_bits(at + 2u, dmin_bits);
    for (var j = 0u; j < 12u; j++) {
        kput_byte(at + 4u + j, packed[j]);
    }
    var qs = at + 16u;
    if (five) {
        for (var j = 0u; j < 32u; j++) {
            var qh = 0u;
            for (var pair = 0u; pair < 4u; pair++) {
                qh |= ((codes[64u * pair + j] >> 4u) << (2u * pair)) | ((codes[64u * pair + j + 32u] >> 4u) << (2u * pair + 1u));
            }
            kput_byte(at + 16u + j, qh);
        }
        qs = at + 48u;
    }
    for (var pair = 0u; pair < 4u; pair++) {
        for (var l = 0u; l < 32u; l++) {
            let n = 64u * pair + l;
            kput_byte(qs + 32u * pair + l, (codes[n] & 0xfu) | ((codes[n + 32u] & 0xfu) << 4u));
        }
    }
}

// make_qx_quants (rmse_type 1, no weights) on the 16 elements of kx at `base`, codes plus 32
// to `codes`: the scale.
fn make_qx_quants(base: u32) -> f32 {
    let nmax = 32;
    var mx = 0.0;
    var amax = 0.0;
    for (var i = 0u; i < 16u; i++) {
        let v = kx[base + i];
        if (abs(v) > amax) {
            amax = abs(v);
            mx = v;
        }
    }
    if (amax < GROUP_MAX_EPS) {
        for (var i = 0u; i < 16u; i++) {
            codes[base + i] = 0u;
        }
        return 0.0;
    }
    var iscale = f32(-nmax) / mx;
    var sumlx = 0.0;
    var suml2 = 0.0;
    for (var i = 0u; i < 16u; i++) {
        let v = kx[base + i];
        let l = clamp(nearest_int(iscale * v), -nmax, nmax - 1);
        codes[base + i] = u32(l + nmax);
        let w = v * v;
        let q = f32(l);
        sumlx += w * v * q;
        suml2 += w * q * q;
    }
    var scale = select(0.0, sumlx / suml2, suml2 != 0.0);
    var best = scale * sumlx;
    for (var is = -9; is <= 9; is++) {
        if (is == 0) { continue; }
        iscale = -(f32(nmax) + 0.1 * f32(is)) / mx;
        sumlx = 0.0;
        suml2 = 0.0;
        for (var i = 0u; i < 16u; i++) {
            let v = kx[base + i];
            let q = f32(clamp(nearest_int(iscale * v), -nmax, nmax - 1));
            let w = v * v;
            sumlx += w * v * q;
            suml2 += w * q * q;
        }
        if (suml2 > 0.0 && sumlx * sumlx > best * suml2) {
            for (var i = 0u; i < 16u; i++) {
                codes[base + i] = u32(clamp(nearest_int(iscale * kx[base + i]), -nmax, nmax - 1) + nmax);
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

// Q6_K of kx into the bytes at `at`: 128 bytes of low nibbles, 64 of high 2 bits, 16 i8 scales,
// d. An all-zero block stays zeros (kwords starts cleared).
fn quantize_q6_k(at: u32) {
    var scales: array<f32, 16>;
    var max_scale = 0.0;
    var max_abs_scale = 0.0;
    for (var ib = 0u; ib < 16u; ib++) {
        let s = make_qx_quants(16u * ib);
        scales[ib] = s;
        if (abs(s) > max_abs_scale) {
            max_abs_scale = abs(s);
            max_scale = s;
        }
    }
    if (max_abs_scale < GROUP_MAX_EPS) { return; }
    let iscale = -128.0 / max_scale;
    let d_bits = f16_bits_rne(1.0 / iscale);
    let d = f16_bits_to_f32(d_bits);
    var sc: array<i32, 16>;
    for (var j = 0u; j < 16u; j++) {
        // C keeps MIN(127, nearest_int(...)) in an int8_t: its low byte, sign-extended.
        let s = min(127, nearest_int(iscale * scales[j]));
        sc[j] = bitcast<i32>(u32(s) << 24u) >> 24u;
        let dj = d * f32(sc[j]);
        if (dj == 0.0) { continue; }
        for (var i = 16u * j; i < 16u * j + 16u; i++) {
            codes[i] = u32(clamp(nearest_int(kx[i] / dj), -32, 31) + 32);
        }
    }
    for (var half = 0u; half < 2u; half++) {
        for (var l = 0u; l < 32u; l++) {
            let n = 128u * half + l;
            let q1 = codes[n];
            let q2 = codes[n + 32u];
            let q3 = codes[n + 64u];
            let q4 = codes[n + 96u];
            kput_byte(at + 64u * half + l, (q1 & 0xfu) | ((q3 & 0xfu) << 4u));
            kput_byte(at + 64u * half + l + 32u, (q2 & 0xfu) | ((q4 & 0xfu) << 4u));
            kput_byte(at + 128u + 32u * half + l, (q1 >> 4u) | ((q2 >> 4u) << 2u) | ((q3 >> 4u) << 4u) | ((q4 >> 4u) << 6u));
        }
    }
    for (var j = 0u; j < 16u; j++) {
        kput_byte(at + 192u + j, u32(sc[j]));
    }
    kput_f16_bits(at + 208u, d_bits);
}

@compute @workgroup_size(WG)
fn quantize_k(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let grp = work_item(gid, nwg, WG);
    if (grp >= g.count) { return; }
    for (var w = 0u; w < 105u; w++) {
        kwords[w] = 0u;
    }
    // g.rows: super-blocks in this chunk.
    for (var k = 0u; k < GROUP; k++) {
        let blk = grp * GROUP + k;
        if (blk >= g.rows) { break; }
        for (var j = 0u; j < QK_K; j++) {
            let x = load_x(g.x_offset + blk * QK_K + j);
            if (!is_finite_bits(x)) {
                atomicMin(&status[0], blk * QK_K + j);
            }
            kx[j] = x;
        }
        if (GGUF_TYPE == GGUF_Q6_K) {
            quantize_q6_k(k * BLOCK_BYTES);
        } else {
            quantize_q45_k(k * BLOCK_BYTES, GGUF_TYPE == GGUF_Q5_K);
        }
    }
    let per_group = GROUP * BLOCK_BYTES / 4u;
    for (var w = 0u; w < per_group; w++) {
        out[g.code_offset + grp * per_group + w] = kwords[w];
    }
}
