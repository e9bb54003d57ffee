// A coded weight's scales, zero points and global scale (bindings 2 to 4), for weights.wgsl
// and gemv_codes.wgsl.

@group(0) @binding(2) var<storage, read> w_scales: array<f32>;
@group(0) @binding(3) var<storage, read> w_zeros: array<u32>;
@group(0) @binding(4) var<storage, read> w_global: array<f32>;
