// Element (n, k) of a weight W [N, K] for the dequantize and matmul kernels: decoded from its codes
// (`src`) and scales with the Geom `g` describing W, or read as f32 when W_F32 (the scratch of
// dequantize-then-matmul). Prepended after common.wgsl and codec.wgsl.

override W_F32: bool = false;

@group(0) @binding(2) var<storage, read> w_scales: array<f32>;
@group(0) @binding(3) var<storage, read> w_zeros: array<u32>;
@group(0) @binding(4) var<storage, read> w_global: array<f32>;

fn w_value(n: u32, k: u32) -> f32 {
    if (W_F32) {
        return bitcast<f32>(src[g.code_offset + n * g.cols + k]);
    }
    var word: u32;
    var shift: u32;
    if (NATIVE) {
        let flat = n * g.cols + k;
        word = flat / 4u;
        shift = (flat % 4u) * 8u;
    } else {
        word = n * ((g.cols + CPW - 1u) / CPW) + k / CPW;
        shift = (k % CPW) * BITS;
    }
    let code = (src[g.code_offset + word] >> shift) & ((1u << BITS) - 1u);
    let b = scale_index(n, k);
    var zero = 0u;
    if (KIND == 1u) {
        zero = w_zeros[b];
    }
    return decode(code, w_scales[b], zero, w_global[0]);
}
