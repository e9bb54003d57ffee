// gemv_vec4.wgsl's partial sums where the adapter has no subgroups: each lane keeps its own.
fn part_add(v: f32, li: u32, o: u32) {
    part[li * RPL * MR + o] += v;
}
