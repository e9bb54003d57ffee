// Element (n, k) of an f32 weight W [N, K] for the matmul kernels: a plain f32 weight or the
// scratch of dequantize-then-matmul, read from `src`; g.cols is K. The f32 counterpart of
// weights.wgsl, prepended after common.wgsl.

fn w_value(n: u32, k: u32) -> f32 {
    return bitcast<f32>(src[g.code_offset + n * g.cols + k]);
}

fn w_group_size() -> u32 {
    return 4u;
}

// Elements k = 4 j + c of row n into vals[c]; values for k >= K are padding (zero).
fn w_group(n: u32, j: u32, vals: ptr<function, array<f32, 16>>) {
    for (var c = 0u; c < 4u; c++) {
        let k = 4u * j + c;
        (*vals)[c] = select(0.0, w_value(n, k), k < g.cols);
    }
}
