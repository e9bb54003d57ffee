// Sum over the 64 invocations of a workgroup with subgroupAdd, then one slot per subgroup in
// workgroup memory; the result is valid in invocation 0. Needs Features::SUBGROUP.
var<workgroup> sums: array<f32, 64>;

fn reduce_sum(v: f32, li: u32) -> f32 {
    let s = subgroupAdd(v);
    let size = subgroupAdd(1u);
    if (li % size == 0u) {
        sums[li / size] = s;
    }
    workgroupBarrier();
    var total = 0.0;
    if (li == 0u) {
        for (var i = 0u; i < 64u / size; i++) {
            total += sums[i];
        }
    }
    workgroupBarrier();
    return total;
}
