// Histogram of |x| over [0, amax] for tensor-level Percentile calibration: bin =
// min(floor(|x| * inv), BINS - 1), inv = BINS / amax passed as f32 bits in g.aux; one invocation
// per element. Mirrors src/reference/calibrate.rs `histogram`.

const BINS: u32 = 2048u;

@group(0) @binding(2) var<storage, read_write> bins: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = work_item(gid, nwg, WG);
    if (e >= g.count) { return; }
    let a = abs(flush_subnormal(load_x(g.x_offset + e)));
    atomicAdd(&bins[min(u32(a * bitcast<f32>(g.aux)), BINS - 1u)], 1u);
}
