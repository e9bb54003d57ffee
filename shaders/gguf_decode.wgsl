// GGUF blocks decoded as llama.cpp's dequantize_row_* (NUMERICS section 7), for
// gguf_dequantize.wgsl and the matmul kernels (weights_gguf.wgsl). Blocks are read from `src`
// (u32 words, src_words.wgsl) at g.code_offset. After common.wgsl and gguf_blocks.wgsl.

// Bytes at to at + 3 of the blocks as a little-endian word; `at` need not be aligned, so a
// quad of codes costs one or two loads wherever its block starts.
fn block_word(at: u32) -> u32 {
    let i = g.code_offset + at / 4u;
    let s = 8u * (at % 4u);
    if (s == 0u) {
        return src[i];
    }
    return (src[i] >> s) | (src[i + 1u] << (32u - s));
}

fn block_byte(at: u32) -> u32 {
    return (src[g.code_offset + at / 4u] >> (8u * (at % 4u))) & 0xffu;
}

// The two bytes at an even `at` (every f16 and byte pair of the formats sits so), in one load.
fn block_u16(at: u32) -> u32 {
    return (src[g.code_offset + at / 4u] >> (8u * (at % 4u))) & 0xffffu;
}

fn block_f16(at: u32) -> f32 {
    return f16_bits_to_f32(block_u16(at));
}


// The bits `mask` of each byte of the word at `at`, after shifting the word by `shift`.
fn fields4(at: u32, shift: u32, mask: u32) -> vec4<u32> {
    return bytes4(block_word(at) >> shift) & vec4<u32>(mask);
}

// Elements 4 q to 4 q + 3 of a 32-element block's nibbles at `at`: low nibbles of its 16 bytes
// first, then the high ones.
fn nibbles4(at: u32, q: u32) -> vec4<u32> {
    return fields4(at + 4u * (q % 4u), 4u * (q / 4u), 0xfu);
}

// Q4_K and Q5_K's 6-bit scale and min of sub-block j (ggml's get_scale_min_k4), from the 12
// bytes at `at`.
fn k_scale_min(at: u32, j: u32) -> vec2<f32> {
    if (j < 4u) {
        return vec2<f32>(f32(block_byte(at + j) & 63u), f32(block_byte(at + j + 4u) & 63u));
    }
    let sc = (block_byte(at + j + 4u) & 0xfu) | ((block_byte(at + j - 4u) >> 6u) << 4u);
    let m = (block_byte(at + j + 4u) >> 4u) | ((block_byte(at + j) >> 6u) << 4u);
    return vec2<f32>(f32(sc), f32(m));
}

// Q3_K's signed 6-bit scale of sub-block `sub`, from the 12 bytes at `at`.
fn q3_scale(at: u32, sub: u32) -> f32 {
    let low = (block_byte(at + sub % 8u) >> (4u * (sub / 8u))) & 0xfu;
    let high = (block_byte(at + 8u + sub % 4u) >> (2u * (sub / 4u))) & 3u;
    return f32(i32(low | (high << 4u)) - 32);
}

// E2M1 code n as MXFP4's value (KVALUES[n]) without an indexed array: 0 to 3, then 4, 6, 8, 12;
// code 8 is +0 like KVALUES[8].
fn e2m1_value(n: vec4<u32>) -> vec4<f32> {
    let m = n & vec4<u32>(7u);
    let big = vec4<u32>(2u) + (m & vec4<u32>(1u));
    let shift = (m >> vec4<u32>(1u)) - vec4<u32>(1u);
    let mag = vec4<f32>(select(m, big << shift, m >= vec4<u32>(4u)));
    return select(mag, -mag, n > vec4<u32>(8u));
}

// 32 elements of the blocks read from `src` at g.code_offset (words): a whole block, or part
// `part` (0 to 7) of a K-quant super-block at byte `at`. Each 16-element half h decodes as
// a[h] * code, plus b[h] where the type has an offset (b is then minus ggml's subtracted
// product, which rounds the same as subtracting it).
struct Unit {
    at: u32,
    part: u32,
    a: vec2<f32>,
    b: vec2<f32>,
    // Q5_0 and Q5_1: the 32 fifth bits, element j's at bit j.
    qh: u32,
}

fn has_offset() -> bool {
    return GGUF_TYPE == GGUF_Q4_1 || GGUF_TYPE == GGUF_Q5_1 || GGUF_TYPE == GGUF_Q2_K
        || GGUF_TYPE == GGUF_Q4_K || GGUF_TYPE == GGUF_Q5_K;
}

// Unit u's block, part and scales, as ggml's dequantize_row_* computes them.
fn gguf_unit(u: u32) -> Unit {
    if (BLOCK_ELEMS == 32u) {
        let at = u * BLOCK_BYTES;
        if (GGUF_TYPE == GGUF_MXFP4) {
            return Unit(at, 0u, vec2<f32>(e8m0_to_f32_half(block_byte(at))), vec2<f32>(0.0), 0u);
        }
        let d = block_f16(at);
        var m = 0.0;
        if (has_offset()) {
            m = block_f16(at + 2u);
        }
        var qh = 0u;
        if (GGUF_TYPE == GGUF_Q5_0 || GGUF_TYPE == GGUF_Q5_1) {
            qh = block_word(at + select(2u, 4u, GGUF_TYPE == GGUF_Q5_1));
        }
        return Unit(at, 0u, vec2<f32>(d), vec2<f32>(m), qh);
    }
    let at = (u / 8u) * BLOCK_BYTES;
    let p = u % 8u;
    if (GGUF_TYPE == GGUF_Q2_K) {
        let sc = block_u16(at + 2u * p);
        let d = block_f16(at + 80u);
        let dmin = block_f16(at + 82u);
        let lo = vec2<f32>(f32(sc & 0xfu), f32((sc >> 8u) & 0xfu));
        let hi = vec2<f32>(f32((sc >> 4u) & 0xfu), f32(sc >> 12u));
        return Unit(at, p, d * lo, -(dmin * hi), 0u);
    }
    if (GGUF_TYPE == GGUF_Q3_K) {
        let sc = vec2<f32>(q3_scale(at + 96u, 2u * p), q3_scale(at + 96u, 2u * p + 1u));
        return Unit(at, p, block_f16(at + 108u) * sc, vec2<f32>(0.0), 0u);
    }
    if (GGUF_TYPE == GGUF_Q6_K) {
        let sc = block_u16(at + 192u + 8u * (p / 4u) + 2u * (p % 4u));
        let signed = vec2<i32>(bitcast<i32>(sc << 24u) >> 24u, bitcast<i32>(sc << 16u) >> 24u);
        return Unit(at, p, block_f16(at + 208u) * vec2<f32>(signed), vec2<f32>(0.0), 0u);
    }
    let sm = k_scale_min(at + 4u, p);
    return Unit(at, p, vec2<f32>(block_f16(at) * sm.x), vec2<f32>(-(block_f16(at + 2u) * sm.y)), 0u);
}

// Elements 4 q to 4 q + 3 (q < 8) of unit t, as llama.cpp dequantizes them.
fn gguf_quad(t: Unit, q: u32) -> vec4<f32> {
    let at = t.at;
    let p = t.part;
    var c: vec4<f32>;
    if (GGUF_TYPE == GGUF_Q8_0) {
        let high = bytes4(block_word(at + 2u + 4u * q)) << vec4<u32>(24u);
        c = vec4<f32>(bitcast<vec4<i32>>(high) >> vec4<u32>(24u));
    } else if (GGUF_TYPE == GGUF_Q4_0) {
        c = vec4<f32>(vec4<i32>(nibbles4(at + 2u, q)) - 8);
    } else if (GGUF_TYPE == GGUF_Q4_1) {
        c = vec4<f32>(nibbles4(at + 4u, q));
    } else if (GGUF_TYPE == GGUF_Q5_0 || GGUF_TYPE == GGUF_Q5_1) {
        let one = GGUF_TYPE == GGUF_Q5_1;
        let qh = t.qh >> (4u * q);
        let high = (vec4<u32>(qh) >> vec4<u32>(0u, 1u, 2u, 3u)) & vec4<u32>(1u);
        let v = vec4<i32>(nibbles4(at + select(6u, 8u, one), q) | (high << vec4<u32>(4u)));
        c = vec4<f32>(select(v - 16, v, one));
    } else if (GGUF_TYPE == GGUF_MXFP4) {
        c = e2m1_value(nibbles4(at + 1u, q));
    } else if (GGUF_TYPE == GGUF_Q2_K || GGUF_TYPE == GGUF_Q3_K) {
        let qs = select(16u, 32u, GGUF_TYPE == GGUF_Q3_K);
        let two = vec4<i32>(fields4(at + qs + 32u * (p / 4u) + 4u * q, 2u * (p % 4u), 3u));
        if (GGUF_TYPE == GGUF_Q2_K) {
            c = vec4<f32>(two);
        } else {
            let third = fields4(at + 4u * q, p, 1u);
            c = vec4<f32>(two - select(vec4<i32>(4), vec4<i32>(0), third == vec4<u32>(1u)));
        }
    } else if (GGUF_TYPE == GGUF_Q6_K) {
        let half = p / 4u;
        let k = p % 4u;
        let low = fields4(at + 64u * half + 32u * (k % 2u) + 4u * q, 4u * (k / 2u), 0xfu);
        let high = fields4(at + 128u + 32u * half + 4u * q, 2u * k, 3u);
        c = vec4<f32>(vec4<i32>(low | (high << vec4<u32>(4u))) - 32);
    } else {
        var v = fields4(at + select(16u, 48u, GGUF_TYPE == GGUF_Q5_K) + 32u * (p / 2u) + 4u * q, 4u * (p % 2u), 0xfu);
        if (GGUF_TYPE == GGUF_Q5_K) {
            v += 16u * fields4(at + 16u + 4u * q, p, 1u);
        }
        c = vec4<f32>(v);
    }
    let h = q / 4u;
    if (has_offset()) {
        return t.a[h] * c + t.b[h];
    }
    return t.a[h] * c;
}
