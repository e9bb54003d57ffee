// gemv_vec4.wgsl's partial sums where the adapter has no subgroups, and on CPU adapters (whose
// subgroup is one SIMD, where a shuffle costs more than a store): each lane keeps its own.
// Each lane writes every one of its slots, so one pass needs no zeroed slots.
const PART_FILLS_ALL: bool = true;

fn part_add(v: f32, li: u32, o: u32) {
    let at = li * RPL * MR + o;
    if (ONE_PASS) {
        part[at] = v;
    } else {
        part[at] += v;
    }
}
