// Element (n, k) of a coded weight W [N, K] for the dequantize and matmul kernels: decoded from
// its codes (`src`) and scales with the Geom `g` describing W. Prepended after common.wgsl and
// codec.wgsl. weights_f32.wgsl and weights_gguf.wgsl define the same functions for other weights.

// The scale bindings 2 to 4 come from weight_params.wgsl.

fn w_value(n: u32, k: u32) -> f32 {
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
    let s = w_scale(scale_index(n, k));
    return decode(code, s.sp, s.zero, s.global);
}

// Elements per `w_group`: a code word's codes (U32 store), or 4 (Native store).
fn w_group_size() -> u32 {
    if (NATIVE) {
        return 4u;
    }
    return CPW;
}

// Elements k = j * w_group_size() + c of row n into vals[c], decoding a code word once (and its
// scale once when the word lies inside one block). Values for k >= K are padding; callers skip
// them.
fn w_group(n: u32, j: u32, vals: ptr<function, array<f32, 16>>) {
    let size = w_group_size();
    let k0 = j * size;
    if (NATIVE || g.block_cols % CPW != 0u) {
        for (var c = 0u; c < size; c++) {
            (*vals)[c] = select(0.0, w_value(n, k0 + c), k0 + c < g.cols);
        }
        return;
    }
    let word = src[g.code_offset + n * ((g.cols + CPW - 1u) / CPW) + j];
    let s = w_scale(scale_index(n, k0));
    for (var c = 0u; c < size; c++) {
        (*vals)[c] = decode((word >> (c * BITS)) & ((1u << BITS) - 1u), s.sp, s.zero, s.global);
    }
}

// Dequantize work item t: its row, its group of codes in the row, and whether it lies inside
// the chunk (z = 1).
fn w_item(t: u32) -> vec3<u32> {
    let size = w_group_size();
    let per_row = (g.cols + size - 1u) / size;
    return vec3<u32>(t / per_row, t % per_row, u32(t < g.rows * per_row));
}
