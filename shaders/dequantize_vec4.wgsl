// Dequantize with vec4 loads and stores: dequantize.wgsl for the U32 store where words hold a
// multiple of 4 codes, each word inside one block, rows whole words and the output window
// starting on a vec4 (the host's condition). One invocation per WORDS words of a row: 4 where
// rows are whole vec4 of words (one load), else 1. Each word's values go straight to CPW / 4
// vec4 stores, with no array (lavapipe keeps arrays in memory), and the scale is read once per
// invocation where its words share a block (ONE_SCALE), else once per word.

@group(0) @binding(1) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4<f32>>;
// Bindings 2 to 4 and w_scale come from weight_params.wgsl.

override WORDS: u32 = 4u;
override ONE_SCALE: bool = true;

// A word's CPW values from vec4 `at` of y.
fn put_word(at: u32, word: u32, s: WeightScale) {
    for (var q = 0u; q < CPW / 4u; q++) {
        let c = codes4(word, q);
        y[at + q] = vec4<f32>(
            decode(c.x, s.sp, s.zero, s.global),
            decode(c.y, s.sp, s.zero, s.global),
            decode(c.z, s.sp, s.zero, s.global),
            decode(c.w, s.sp, s.zero, s.global),
        );
    }
}

// Word w of the invocation's, its first code at column k of `row`.
fn word_scale(row: u32, k: u32, w: u32, first: WeightScale) -> WeightScale {
    if (ONE_SCALE) {
        return first;
    }
    return w_scale(scale_index(row, k + w * CPW));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = work_item(gid, nwg, WG);
    let per_row = g.cols / (WORDS * CPW);
    if (t >= g.rows * per_row) { return; }
    let e = t * WORDS * CPW;
    let row = div_by(e, g.div_cols);
    let k = e - row * g.cols;
    // Rows are whole words, so the invocation's first word is WORDS t into the chunk's.
    let first = g.code_offset + WORDS * t;
    var q = src[first / 4u];
    if (WORDS == 1u) {
        q.x = q[first % 4u];
    }
    let at = (g.x_offset + row * g.cols + k) / 4u;
    let s = w_scale(scale_index(row, k));
    put_word(at, q.x, s);
    if (WORDS == 4u) {
        put_word(at + CPW / 4u, q.y, word_scale(row, k, 1u, s));
        put_word(at + CPW / 2u, q.z, word_scale(row, k, 2u, s));
        put_word(at + 3u * CPW / 4u, q.w, word_scale(row, k, 3u, s));
    }
}
