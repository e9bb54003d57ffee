// gemv_vec4.wgsl's partial sums, added over each subgroup (any size, any layout) and kept by
// the subgroup's first lane in its own slot. Needs Features::SUBGROUP.
// Only each subgroup's first lane writes, so the other slots stay zeroed.
const PART_FILLS_ALL: bool = false;

fn part_add(v: f32, li: u32, o: u32) {
    let s = subgroupAdd(v);
    let owner = subgroupBroadcastFirst(li);
    if (li == owner) {
        let at = owner * RPL * MR + o;
        if (ONE_PASS) {
            part[at] = s;
        } else {
            part[at] += s;
        }
    }
}
