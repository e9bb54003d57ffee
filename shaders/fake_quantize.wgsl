// Fake quantization for quantization-aware training, one invocation per element:
// y = dequantize(quantize(x)) and the straight-through mask (1 where x was inside the
// representable range, 0 where it was clipped). Mirrors src/reference/calibrate.rs.

@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read> zeros: array<u32>;
@group(0) @binding(4) var<storage, read> global_scale: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read_write> mask: array<f32>;

struct Element {
    x: f32,
    sp: f32,
    zero: u32,
}

fn element(e: u32) -> Element {
    let row = div_by(e, g.div_cols);
    let col = e - row * g.cols;
    let b = scale_index(row, col);
    var zero = 0u;
    if (KIND == KIND_AFFINE) {
        zero = zeros[b];
    }
    return Element(flush_subnormal(load_x(g.x_offset + e)), scales[b], zero);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = work_item(gid, nwg, WG);
    if (e >= g.count) { return; }
    let el = element(e);
    let gs = global_scale[0];
    y[g.code_offset + e] = decode(encode(el.x, el.sp, el.zero, gs), el.sp, el.zero, gs);
    mask[g.code_offset + e] = select(1.0, 0.0, is_clipped(el.x, el.sp, el.zero, gs));
}
