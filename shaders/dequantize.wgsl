// Dequantize: one invocation per element (SPEC sections 2-5). Codes are read from `src`
// (binding 1 of the prelude).

@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read> zeros: array<u32>;
@group(0) @binding(4) var<storage, read> global_scale: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = work_item(gid, nwg, 64u);
    if (e >= g.count) {
        return;
    }
    let row = e / g.cols;
    let col = e % g.cols;
    var word: u32;
    var shift: u32;
    if (NATIVE) {
        word = e / 4u;
        shift = (e % 4u) * 8u;
    } else {
        word = row * ((g.cols + CPW - 1u) / CPW) + col / CPW;
        shift = (col % CPW) * BITS;
    }
    let code = (src[g.code_offset + word] >> shift) & ((1u << BITS) - 1u);
    let b = scale_index(row, col);
    var zero = 0u;
    if (KIND == 1u) {
        zero = zeros[b];
    }
    y[g.x_offset + e] = decode(code, scales[b], zero, global_scale[0]);
}
