// Pass 1 of the whole-tensor reduction where the chunk is whole vec4 loads (reduce.wgsl's pass 1
// otherwise): the (min, max) of the finite, flushed elements of each run of g.block_cols
// elements, one workgroup per run, adjacent lanes reading adjacent vec4, and the chunk's first
// NaN or infinity. Min and max do not depend on the order, so the pairs are reduce.wgsl's.

// src, load4, flush4 and finite4 come from src_vec4.wgsl, workgroup_range from range_meet.wgsl.
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// Per chunk: [first non-finite element (chunk-local), first overflowing block (chunk-local)].
@group(0) @binding(5) var<storage, read_write> status: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let run = wid.x + wid.y * nwg.x;
    if (run >= g.count) { return; }
    // f32 vec4 per load: 2 for f16 and bf16, whose loads hold 8 elements.
    let per = select(2u, 1u, INPUT == DTYPE_F32);
    let at = g.x_offset / (4u * per);
    let first = run * g.block_cols;
    let end = min(first + g.block_cols, g.cols);
    var lo = vec4<f32>(F32_MAX);
    var hi = vec4<f32>(-F32_MAX);
    for (var s = first / (4u * per) + lid; s < end / (4u * per); s += WG) {
        for (var h = 0u; h < per; h++) {
            let k = per * s + h;
            let f = flush4(load4(at, k));
            let ok = finite4(f);
            if (!all(ok)) {
                // Rare: the first NaN or infinity of these four.
                let i = select(select(select(3u, 2u, !ok.z), 1u, !ok.y), 0u, !ok.x);
                atomicMin(&status[2u * g.status_slot], 4u * k + i);
            }
            lo = min(lo, select(vec4<f32>(F32_MAX), f, ok));
            hi = max(hi, select(vec4<f32>(-F32_MAX), f, ok));
        }
    }
    let l = min(min(lo.x, lo.y), min(lo.z, lo.w));
    let h = max(max(hi.x, hi.y), max(hi.z, hi.w));
    let r = workgroup_range(lid, vec2<f32>(l, h));
    if (lid == 0u) {
        out[2u * (g.scale_offset + run)] = r.x;
        out[2u * (g.scale_offset + run) + 1u] = r.y;
    }
}
