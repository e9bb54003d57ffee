// x [M, K], y [M, N] and the dims of y = x . W^T, shared by matmul.wgsl and gemv.wgsl
// (bindings 5 to 7, after the weight's 1 to 4). Mirrors `Dims` in src/gpu/matmul.rs.

struct Dims {
    m: u32,
    n: u32,
    k: u32,
    x_offset: u32,
    y_offset: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(5) var<storage, read> xs: array<f32>;
@group(0) @binding(6) var<storage, read_write> ys: array<f32>;
@group(0) @binding(7) var<uniform> d: Dims;
