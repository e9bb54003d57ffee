// Sum over each aligned group of 8 invocations with subgroup shuffles (a butterfly), valid in
// every invocation of the group. Needs Features::SUBGROUP and subgroups of at least 8 lanes
// (so a group never spans two subgroups).
fn reduce8(v: f32, li: u32) -> f32 {
    var s = v;
    s += subgroupShuffleXor(s, 4u);
    s += subgroupShuffleXor(s, 2u);
    s += subgroupShuffleXor(s, 1u);
    return s;
}
