// Dequantize: one invocation per group of codes (a code word in the U32 store, 4 elements in
// the Native store), through weights.wgsl's w_group, so that each word and scale is read once.

@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = work_item(gid, nwg, WG);
    let size = w_group_size();
    let per_row = (g.cols + size - 1u) / size;
    if (t >= g.rows * per_row) {
        return;
    }
    let row = t / per_row;
    let j = t % per_row;
    var vals: array<f32, 16>;
    w_group(row, j, &vals);
    for (var c = 0u; c < size && j * size + c < g.cols; c++) {
        y[g.x_offset + row * g.cols + j * size + c] = vals[c];
    }
}
