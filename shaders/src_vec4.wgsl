// Binding 1 as vec4 words, and the input's elements four at a time through it as f32 bits;
// prepended after common.wgsl to the kernels that load the input as vec4 (quantize_vec4.wgsl,
// range_vec4.wgsl) instead of src_words.wgsl. The window starts on a whole vec4 and rows are
// whole vec4 (the host's `*_applies` checks).

@group(0) @binding(1) var<storage, read> src: array<vec4<u32>>;

// The f32 bits of one 16-bit input element (f16 and bf16 widen exactly).
fn widen_bits(h: u32) -> u32 {
    if (INPUT == DTYPE_F16) {
        return bitcast<u32>(f16_bits_to_f32(h));
    }
    return h << 16u;
}

// The f32 bits of the block's elements 4k .. 4k + 3, its first load at `at`.
fn load4(at: u32, k: u32) -> vec4<u32> {
    if (INPUT == DTYPE_F32) {
        return src[at + k];
    }
    let w = src[at + k / 2u];
    let pair = select(w.zw, w.xy, k % 2u == 0u);
    return vec4<u32>(
        widen_bits(pair.x & 0xffffu),
        widen_bits(pair.x >> 16u),
        widen_bits(pair.y & 0xffffu),
        widen_bits(pair.y >> 16u),
    );
}

// common.wgsl's is_finite_bits on four lanes.
fn finite4(f: vec4<f32>) -> vec4<bool> {
    return (bitcast<vec4<u32>>(f) & vec4<u32>(0x7f800000u)) != vec4<u32>(0x7f800000u);
}

// common.wgsl's flush_subnormal on four lanes.
fn flush4(b: vec4<u32>) -> vec4<f32> {
    let tiny = (b & vec4<u32>(0x7f800000u)) == vec4<u32>(0u);
    return bitcast<vec4<f32>>(select(b, b & vec4<u32>(0x80000000u), tiny));
}

