// GGUF blocks to f32 (NUMERICS section 7), as llama.cpp's dequantize_row_*: one invocation per
// 32 elements (a block, or a part of a K-quant super-block), which reads its scales once and
// each quad of codes with one or two word loads (gguf_decode.wgsl), and stores 8 vec4. After
// common.wgsl, gguf_blocks.wgsl and gguf_decode.wgsl.

// The f32 output; the host starts each window on a vec4.
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let u = work_item(gid, nwg, WG);
    if (u >= g.count) { return; }
    let t = gguf_unit(u);
    let at = g.x_offset / 4u + 8u * u;
    for (var q = 0u; q < 8u; q++) {
        y[at + q] = gguf_quad(t, q);
    }
}
