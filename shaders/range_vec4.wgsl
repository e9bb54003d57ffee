// Pass 1 of the whole-tensor reduction where the chunk is whole vec4 loads (reduce.wgsl's pass 1
// otherwise): the (min, max) of the finite, flushed elements of each run of g.block_cols
// elements, one workgroup per run, and the chunk's first NaN or infinity. Min and max do not
// depend on the order, so the pairs are reduce.wgsl's.

// src, load4, flush4 and finite4 come from src_vec4.wgsl, workgroup_range from range_meet.wgsl.
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// Per chunk: [first non-finite element (chunk-local), first overflowing block (chunk-local)].
@group(0) @binding(5) var<storage, read_write> status: array<atomic<u32>>;

override INTERLEAVED: bool = true;

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
    // The lane's first NaN or infinity, reported once after the loop: an atomic inside it runs
    // lane by lane on lavapipe at every step, whether or not a lane has one.
    let none = 0xffffffffu;
    var bad = none;
    // Lanes interleave (adjacent lanes read adjacent vec4, as a GPU's warp wants) or each
    // takes a consecutive run (a CPU adapter's lane streams its own bytes).
    let s0 = first / (4u * per);
    let s1 = end / (4u * per);
    let span = (g.block_cols / (4u * per) + WG - 1u) / WG;
    var start = s0 + lid;
    var stop = s1;
    var step = WG;
    if (!INTERLEAVED) {
        start = s0 + lid * span;
        stop = min(start + span, s1);
        step = 1u;
    }
    for (var s = start; s < stop; s += step) {
        for (var h = 0u; h < per; h++) {
            let k = per * s + h;
            let f = flush4(load4(at, k));
            let ok = finite4(f);
            let i = select(vec4<u32>(none), vec4<u32>(0u, 1u, 2u, 3u) + 4u * k, !ok);
            bad = min(bad, min(min(i.x, i.y), min(i.z, i.w)));
            lo = min(lo, select(vec4<f32>(F32_MAX), f, ok));
            hi = max(hi, select(vec4<f32>(-F32_MAX), f, ok));
        }
    }
    if (bad != none) {
        atomicMin(&status[2u * g.status_slot], bad);
    }
    let l = min(min(lo.x, lo.y), min(lo.z, lo.w));
    let h = max(max(hi.x, hi.y), max(hi.z, hi.w));
    let r = workgroup_range(lid, vec2<f32>(l, h));
    if (lid == 0u) {
        out[2u * (g.scale_offset + run)] = r.x;
        out[2u * (g.scale_offset + run) + 1u] = r.y;
    }
}
