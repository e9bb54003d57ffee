// GGUF block types (NUMERICS section 7): the block layout and decoding shared by gguf.wgsl and the
// matmul kernels (weights_gguf.wgsl). Blocks are read from `src` at g.code_offset (in words).

// The block type, one of GGUF_Q8_0, ... (generated from `GgufType::ALL`).
override GGUF_TYPE: u32 = GGUF_Q8_0;
override BLOCK_BYTES: u32 = 34u;
override GROUP: u32 = 2u;

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

// Element e of the blocks read from `src` at g.code_offset (words), as llama.cpp dequantizes it.
fn gguf_value(e: u32) -> f32 {
    let at = (e / 32u) * BLOCK_BYTES;
    let j = e % 32u;
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
