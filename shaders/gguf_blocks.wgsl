// GGUF block types (NUMERICS section 7): the block layout and the f16 and E8M0 conversions
// and byte packing shared by the quantize kernels (gguf.wgsl, kquants.wgsl) and
// gguf_decode.wgsl.

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

// The four bytes of a little-endian word.
fn bytes4(w: u32) -> vec4<u32> {
    return (vec4<u32>(w) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xffu);
}

// The low bytes of c as one little-endian word.
fn byte_word(c: vec4<u32>) -> u32 {
    let b = c & vec4<u32>(0xffu);
    return b.x | (b.y << 8u) | (b.z << 16u) | (b.w << 24u);
}
