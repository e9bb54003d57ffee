// Element (n, k) of a GGUF weight W [N, K] for the matmul kernels, decoded from its block bytes
// (gguf_blocks.wgsl); the GGUF counterpart of weights.wgsl. g.cols is K.

fn w_value(n: u32, k: u32) -> f32 {
    return gguf_value(n * g.cols + k);
}

fn w_group_size() -> u32 {
    return 4u;
}

// Elements k = 4 j + c of row n into vals[c] (K is a multiple of 32).
fn w_group(n: u32, j: u32, vals: ptr<function, array<f32, 16>>) {
    for (var c = 0u; c < 4u; c++) {
        (*vals)[c] = w_value(n, 4u * j + c);
    }
}
