// gemv_vec4.wgsl's partial sums, added over each subgroup (any size, any layout) and kept by
// the subgroup's first lane in its own slot. Needs Features::SUBGROUP.
fn part_add(v: f32, li: u32, o: u32) {
    let s = subgroupAdd(v);
    let owner = subgroupBroadcastFirst(li);
    if (li == owner) {
        part[owner * RPL * MR + o] += s;
    }
}
