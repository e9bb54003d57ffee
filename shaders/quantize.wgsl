// Quantize + pack: one invocation per output word (NUMERICS sections 2-6).

@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read> zeros: array<u32>;
@group(0) @binding(4) var<storage, read> global_scale: array<f32>;
@group(0) @binding(5) var<storage, read_write> codes: array<u32>;
// With COUNT_CLIPPED: how many elements fell outside the representable range (static
// calibration quantizes new activations with fixed scales and reports this).
@group(0) @binding(6) var<storage, read_write> clipped: array<atomic<u32>>;
override COUNT_CLIPPED: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = work_item(gid, nwg, WG);
    if (w >= g.count) { return; }
    let wpr = (g.cols + CPW - 1u) / CPW;
    let global = global_scale[0];
    // In the U32 store a word lies inside one block when blocks hold whole words: find its
    // block, scale and zero point once.
    let whole_words = !NATIVE && g.block_cols % CPW == 0u;
    let row0 = w / wpr;
    let col0 = (w % wpr) * CPW;
    var b = 0u;
    var sp = 0.0;
    var zero = 0u;
    if (whole_words) {
        b = scale_index(row0, col0);
        sp = scales[b];
        if (KIND == KIND_AFFINE) {
            zero = zeros[b];
        }
    }
    var word = 0u;
    for (var j = 0u; j < CPW; j++) {
        var row = row0;
        var col = col0 + j;
        if (NATIVE) {
            let flat = w * CPW + j;
            if (flat >= g.rows * g.cols) {
                break;
            }
            row = div_by(flat, g.div_cols);
            col = flat - row * g.cols;
        } else if (col >= g.cols) {
            break;
        }
        if (!whole_words) {
            b = scale_index(row, col);
            sp = scales[b];
            if (KIND == KIND_AFFINE) {
                zero = zeros[b];
            }
        }
        let x = flush_subnormal(load_x(g.x_offset + row * g.cols + col));
        word |= encode(x, sp, zero, global) << (j * BITS);
        if (COUNT_CLIPPED && is_clipped(x, sp, zero, global)) {
            atomicAdd(&clipped[0], 1u);
        }
    }
    codes[g.code_offset + w] = word;
}
