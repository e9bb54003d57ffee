// Dequantize with vec4 stores: dequantize.wgsl for the U32 store where every row is whole code
// words of a multiple of 4 codes (rows a multiple of CPW, CPW a multiple of 4, the output
// window starting on a vec4), so each word's values are CPW / 4 aligned vec4 of y.

@group(0) @binding(5) var<storage, read_write> y: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let it = w_item(work_item(gid, nwg, WG));
    if (it.z == 0u) { return; }
    var vals: array<f32, 16>;
    w_group(it.x, it.y, &vals);
    let base = (g.x_offset + it.x * g.cols + it.y * CPW) / 4u;
    for (var q = 0u; q < CPW / 4u; q++) {
        y[base + q] = vec4<f32>(vals[4u * q], vals[4u * q + 1u], vals[4u * q + 2u], vals[4u * q + 3u]);
    }
}
