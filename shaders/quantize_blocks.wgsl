// Quantize in one pass where each block is a run of whole code words along a row (1-D blocks
// whose size is a multiple of the codes per word, U32 store): one invocation per block finds the
// block's range, writes its scale (and zero point), then encodes and packs its words. This fuses
// reduce.wgsl and quantize.wgsl for the common case; the results are identical.

// Bindings 2, 3, 5 and 6 and `store_params` come from one_pass.wgsl.
@group(0) @binding(4) var<storage, read_write> codes: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let lb = work_item(gid, nwg, WG);
    if (lb >= g.count) { return; }
    let span = block_span(lb);
    let start = g.x_offset + span.first_row * g.cols + span.c0;
    var lo = F32_MAX;
    var hi = -F32_MAX;
    for (var i = 0u; i < span.width; i++) {
        let x = load_x(start + i);
        if (!is_finite_bits(x)) {
            atomicMin(&status[2u * g.status_slot], span.first_row * g.cols + span.c0 + i);
        } else {
            let f = flush_subnormal(x);
            lo = min(lo, f);
            hi = max(hi, f);
        }
    }
    let p = store_params(lb, lo, hi);
    let wpr = (g.cols + CPW - 1u) / CPW;
    let first_word = g.code_offset + span.first_row * wpr + span.c0 / CPW;
    for (var w = 0u; w * CPW < span.width; w++) {
        var word = 0u;
        for (var j = 0u; j < CPW && w * CPW + j < span.width; j++) {
            let x = flush_subnormal(load_x(start + w * CPW + j));
            word |= encode(x, p.sp, p.zero, p.global) << (j * BITS);
        }
        codes[first_word + w] = word;
    }
}
