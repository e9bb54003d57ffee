// Element (n, k) of a GGUF weight W [N, K] for the matmul kernels, decoded from its block bytes
// (gguf_blocks.wgsl); the GGUF counterpart of weights.wgsl. g.cols is K.

fn w_value(n: u32, k: u32) -> f32 {
    return gguf_value(n * g.cols + k);
}
