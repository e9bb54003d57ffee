// Per-block (min, max) reduction, also detecting non-finite inputs, and the block's scale.
// PER_THREAD = true: one invocation per block (small blocks: no barriers, WG blocks per
// workgroup); false: one workgroup per block (large blocks, Tensor-level runs).
// OUT_RANGE: write the (min, max) pair (pass 1 of the two-pass Tensor-level reduction);
// OUT_SCALE: write the stored scale and, in Affine mode, the zero point (NUMERICS sections 2-4);
// OUT_GLOBAL: write NVFP4's global scale, amax / (448 * 6).

override PER_THREAD: bool = false;
override OUT: u32 = OUT_SCALE;

@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> zeros: array<u32>;
@group(0) @binding(4) var<storage, read_write> global_scale: array<f32>;
// Per chunk: [first non-finite element (chunk-local), first overflowing block (chunk-local)].
@group(0) @binding(5) var<storage, read_write> status: array<atomic<u32>>;

// workgroup_range comes from range_meet.wgsl.

// (min, max) over the elements [start, height * width) of block `lb`, stepping by `step`.
fn block_range(lb: u32, start: u32, step: u32) -> vec2<f32> {
    let span = block_span(lb);
    var r = vec2<f32>(F32_MAX, -F32_MAX);
    for (var i = start; i < span.height * span.width; i += step) {
        let flat = block_element(span, i);
        let x = load_x(g.x_offset + flat);
        if (!is_finite_bits(x)) {
            atomicMin(&status[2u * g.status_slot], flat);
        } else {
            let f = flush_subnormal(x);
            r = vec2<f32>(min(r.x, f), max(r.y, f));
        }
    }
    return r;
}

fn finish_block(lb: u32, r: vec2<f32>) {
    let i = g.scale_offset + lb;
    if (OUT == OUT_RANGE) {
        out[2u * i] = r.x;
        out[2u * i + 1u] = r.y;
        return;
    }
    if (OUT == OUT_GLOBAL) {
        global_scale[0] = max(max(-r.x, r.y), 0.0) / (448.0 * 6.0);
        return;
    }
    var sp = block_scale(r.x, r.y, global_scale[0]);
    if (sp < 0.0) {
        atomicMin(&status[2u * g.status_slot + 1u], lb);
        sp = 0.0;
    }
    out[i] = sp;
    if (KIND == KIND_AFFINE) {
        zeros[i] = zero_point(r.x, sp);
    }
}

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let group = wid.x + wid.y * nwg.x;
    if (PER_THREAD) {
        let lb = group * WG + lid;
        if (lb < g.count) {
            finish_block(lb, block_range(lb, 0u, 1u));
        }
        return;
    }
    if (group >= g.count) { return; }
    let r = workgroup_range(lid, block_range(group, lid, WG));
    if (lid == 0u) {
        finish_block(group, r);
    }
}
