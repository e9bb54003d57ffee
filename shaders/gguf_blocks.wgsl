// GGUF block types (NUMERICS section 7): the block layout and decoding shared by gguf.wgsl,
// kquants.wgsl and the matmul kernels (weights_gguf.wgsl). Blocks are read from `src` at
// g.code_offset (in words).

// The block type, one of GGUF_Q8_0, ... (generated from `GgufType::ALL`).
override GGUF_TYPE: u32 = GGUF_Q8_0;
override BLOCK_BYTES: u32 = 34u;
// Elements per block: 32, or 256 for the K-quants.
override BLOCK_ELEMS: u32 = 32u;
// Sub-blocks with their own scale per block: 1, or 8 or 16 for the K-quants.
override SUB_BLOCKS: u32 = 1u;
override GROUP: u32 = 2u;

// f32 to f16 bits, round to nearest even, overflow to infinity (as a C fp16 conversion).
fn f16_bits_rne(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    let sign = (b >> 16u) & 0x8000u;
    let e = i32((b >> 23u) & 0xffu) - 127;
    let m = b & 0x7fffffu;
    if (e == 128) {
        return sign | 0x7c00u | select(0u, 0x200u, m != 0u);
    }
    if (e > 15) {
        return sign | 0x7c00u;
    }
    var h: u32;
    var rem: u32;
    var half: u32;
    if (e >= -14) {
        h = (u32(e + 15) << 10u) | (m >> 13u);
        rem = m & 0x1fffu;
        half = 0x1000u;
    } else {
        if (e < -25) {
            return sign;
        }
        let mant = m | 0x800000u;
        let shift = u32(-1 - e);
        h = mant >> shift;
        rem = mant & ((1u << shift) - 1u);
        half = 1u << (shift - 1u);
    }
    if (rem > half || (rem == half && (h & 1u) == 1u)) {
        h += 1u;
    }
    return sign | h;
}


fn e8m0_to_f32_half(e: u32) -> f32 {
    return bitcast<f32>(select((e - 1u) << 23u, 0x00200000u << e, e < 2u));
}

// A private copy: indexing a const array at run time makes some compilers copy it each time.
var<private> KVALUES: array<f32, 16> = array<f32, 16>(0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 0.0, -1.0, -2.0, -3.0, -4.0, -6.0, -8.0, -12.0);

fn block_byte(at: u32) -> u32 {
    return (src[g.code_offset + at / 4u] >> (8u * (at % 4u))) & 0xffu;
}

fn block_f16(at: u32) -> f32 {
    return f16_bits_to_f32(block_byte(at) | (block_byte(at + 1u) << 8u));
}

// Element j of a block: its low (j < 16) or high nibble in the 16 bytes at `at`.
fn block_nibble(at: u32, j: u32) -> u32 {
    return (block_byte(at + j % 16u) >> (4u * (j / 16u))) & 0xfu;
}

fn block_high_bit(at: u32, j: u32) -> u32 {
    return (block_byte(at + j / 8u) >> (j % 8u)) & 1u;
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

// Q2_K and Q3_K's 2-bit code of element j, from the 64 bytes of `qs` at `at`.
fn two_bit_code(at: u32, j: u32) -> u32 {
    return (block_byte(at + 32u * (j / 128u) + j % 32u) >> (2u * ((j % 128u) / 32u))) & 3u;
}

// Element j of a K-quant super-block at `at`, as ggml's dequantize_row_q*_K.
fn k_value(at: u32, j: u32) -> f32 {
    if (GGUF_TYPE == GGUF_Q2_K) {
        let sc = block_byte(at + j / 16u);
        let q = f32(two_bit_code(at + 16u, j));
        return block_f16(at + 80u) * f32(sc & 0xfu) * q - block_f16(at + 82u) * f32(sc >> 4u);
    }
    if (GGUF_TYPE == GGUF_Q3_K) {
        let sub = j / 16u;
        let low = (block_byte(at + 96u + sub % 8u) >> (4u * (sub / 8u))) & 0xfu;
        let high = (block_byte(at + 104u + sub % 4u) >> (2u * (sub / 4u))) & 3u;
        let sc = i32(low | (high << 4u)) - 32;
        let third = (block_byte(at + j % 32u) >> (j / 32u)) & 1u;
        let q = i32(two_bit_code(at + 32u, j)) - select(4, 0, third == 1u);
        return block_f16(at + 108u) * f32(sc) * f32(q);
    }
    if (GGUF_TYPE == GGUF_Q6_K) {
        let half = j / 128u;
        let k = (j % 128u) / 32u;
        let l = j % 32u;
        let low = (block_byte(at + 64u * half + l + 32u * (k % 2u)) >> (4u * (k / 2u))) & 0xfu;
        let high = (block_byte(at + 128u + 32u * half + l) >> (2u * k)) & 3u;
        let sc = bitcast<i32>(block_byte(at + 192u + 8u * half + l / 16u + 2u * k) << 24u) >> 24u;
        return block_f16(at + 208u) * f32(sc) * f32(i32(low | (high << 4u)) - 32);
    }
    let sub = j / 32u;
    let l = j % 32u;
    let sm = k_scale_min(at + 4u, sub);
    var q: u32;
    if (GGUF_TYPE == GGUF_Q5_K) {
        q = ((block_byte(at + 48u + 32u * (sub / 2u) + l) >> (4u * (sub % 2u))) & 0xfu)
            + 16u * ((block_byte(at + 16u + l) >> sub) & 1u);
    } else {
        q = (block_byte(at + 16u + 32u * (sub / 2u) + l) >> (4u * (sub % 2u))) & 0xfu;
    }
    return block_f16(at) * sm.x * f32(q) - block_f16(at + 2u) * sm.y;
}

// Element e of the blocks read from `src` at g.code_offset (words), as llama.cpp dequantizes it.
fn gguf_value(e: u32) -> f32 {
    let at = (e / BLOCK_ELEMS) * BLOCK_BYTES;
    let j = e % BLOCK_ELEMS;
    if (BLOCK_ELEMS == 256u) {
        return k_value(at, j);
    }
    var v: f32;
    if (GGUF_TYPE == GGUF_Q8_0) {
        v = f32(bitcast<i32>(block_byte(at + 2u + j) << 24u) >> 24u) * block_f16(at);
    } else if (GGUF_TYPE == GGUF_Q4_0) {
        v = block_f16(at) * f32(i32(block_nibble(at + 2u, j)) - 8);
    } else if (GGUF_TYPE == GGUF_Q4_1) {
        v = block_f16(at) * f32(block_nibble(at + 4u, j)) + block_f16(at + 2u);
    } else if (GGUF_TYPE == GGUF_Q5_0) {
        let q = block_nibble(at + 6u, j) | (block_high_bit(at + 2u, j) << 4u);
        v = block_f16(at) * f32(i32(q) - 16);
    } else if (GGUF_TYPE == GGUF_Q5_1) {
        let q = block_nibble(at + 8u, j) | (block_high_bit(at + 4u, j) << 4u);
        v = block_f16(at) * f32(q) + block_f16(at + 2u);
    } else {
        v = e8m0_to_f32_half(block_byte(at)) * KVALUES[block_nibble(at + 1u, j)];
    }
    return v;
}
