// Dequantize: one invocation per element (SPEC sections 2-5), through weights.wgsl's w_value.

@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = work_item(gid, nwg, 64u);
    if (e >= g.count) {
        return;
    }
    y[g.x_offset + e] = w_value(e / g.cols, e % g.cols);
}
