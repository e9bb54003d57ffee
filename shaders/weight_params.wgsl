// A coded weight's scales, zero points and global scale (bindings 2 to 4), for weights.wgsl
// and gemv_codes.wgsl.

@group(0) @binding(2) var<storage, read> w_scales: array<f32>;
@group(0) @binding(3) var<storage, read> w_zeros: array<u32>;
@group(0) @binding(4) var<storage, read> w_global: array<f32>;

// What decoding block b's codes needs: its scale, its zero point (Affine) and the global scale.
struct WeightScale {
    sp: f32,
    zero: u32,
    global: f32,
}

fn w_scale(b: u32) -> WeightScale {
    return w_scale_with(b, w_scales[b]);
}

// Block b's WeightScale with its scale sp already loaded (the vec4 GEMV loads four at once).
fn w_scale_with(b: u32, sp: f32) -> WeightScale {
    var zero = 0u;
    if (KIND == KIND_AFFINE) {
        zero = w_zeros[b];
    }
    return WeightScale(sp, zero, w_global[0]);
}
