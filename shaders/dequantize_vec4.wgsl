// Dequantize with vec4 stores: dequantize.wgsl for the U32 store where every row is whole code
// words of a multiple of 4 codes (rows a multiple of CPW, CPW a multiple of 4, the output
// window starting on a vec4), so each word's values are CPW / 4 aligned vec4 of y. The word's
// block lies in one block (the host's condition), so its scale is read once; its values go
// straight from the word to the stores, with no array (lavapipe keeps arrays in memory).

@group(0) @binding(5) var<storage, read_write> y: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let it = w_item(work_item(gid, nwg, WG));
    if (it.z == 0u) { return; }
    let word = src[g.code_offset + it.x * (g.cols / CPW) + it.y];
    let s = w_scale(scale_index(it.x, it.y * CPW));
    let base = (g.x_offset + it.x * g.cols + it.y * CPW) / 4u;
    for (var q = 0u; q < CPW / 4u; q++) {
        let c = codes4(word, q);
        y[base + q] = vec4<f32>(
            decode(c.x, s.sp, s.zero, s.global),
            decode(c.y, s.sp, s.zero, s.global),
            decode(c.z, s.sp, s.zero, s.global),
            decode(c.w, s.sp, s.zero, s.global),
        );
    }
}
