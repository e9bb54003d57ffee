// The integer path's inputs (bindings 5 to 8, after the weight's 1 to 4), shared by
// int_matmul.wgsl and int_gemv.wgsl: x quantized per row (or per block of K) to int8 by the
// generic quantize kernels, W a symmetric Q8 or Q4 weight in the U32 store with blocks along K.
// Mirrors `IntDims` in src/gpu/bindings.rs.

struct IntDims {
    m: u32,
    n: u32,
    k: u32,
    // Words per row of x's codes (ceil(K / 4)) and of W's codes.
    x_words: u32,
    w_words: u32,
    // Elements per W block along K (a multiple of 8), and per x scale (K or the same block).
    block: u32,
    x_block: u32,
    y_offset: u32,
}

@group(0) @binding(5) var<storage, read> x_codes: array<u32>;
@group(0) @binding(6) var<storage, read> x_scales: array<f32>;
@group(0) @binding(7) var<storage, read_write> ys: array<f32>;
@group(0) @binding(8) var<uniform> d: IntDims;

// Four signed 4-bit codes (bits 0..15 of `nib`) as four int8 bytes.
fn widen4(nib: u32) -> u32 {
    var out = 0u;
    for (var i = 0u; i < 4u; i++) {
        let v = bitcast<i32>(((nib >> (4u * i)) & 0xfu) << 28u) >> 28u;
        out |= (bitcast<u32>(v) & 0xffu) << (8u * i);
    }
    return out;
}
