// Dequantize: one invocation per group of codes (a code word in the U32 store, 4 elements in
// the Native store), through weights.wgsl's w_group, so that each word and scale is read once.

@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let it = w_item(work_item(gid, nwg, WG));
    if (it.z == 0u) { return; }
    let size = w_group_size();
    var vals: array<f32, 16>;
    w_group(it.x, it.y, &vals);
    for (var c = 0u; c < size && it.y * size + c < g.cols; c++) {
        y[g.x_offset + it.x * g.cols + it.y * size + c] = vals[c];
    }
}
