// A GGUF weight W [N, K] for the matmul kernels, decoded from its block bytes
// (gguf_decode.wgsl); the GGUF counterpart of weights.wgsl. g.cols is K.

// Half a 32-element unit: one scale, and the unit's header read once per group.
fn w_group_size() -> u32 {
    return 16u;
}

// Elements k = 16 j + c of row n into vals[c] (K is a multiple of 32).
fn w_group(n: u32, j: u32, vals: ptr<function, array<f32, 16>>) {
    let e = n * g.cols + 16u * j;
    let t = gguf_unit(e / 32u);
    let q0 = (e % 32u) / 4u;
    for (var q = 0u; q < 4u; q++) {
        let v = gguf_quad(t, q0 + q);
        (*vals)[4u * q] = v.x;
        (*vals)[4u * q + 1u] = v.y;
        (*vals)[4u * q + 2u] = v.z;
        (*vals)[4u * q + 3u] = v.w;
    }
}
