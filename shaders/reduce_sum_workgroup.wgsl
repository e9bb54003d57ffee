// Sum over the 64 invocations of a workgroup through workgroup memory; the result is valid in
// invocation 0. Used where the adapter has no subgroups.
var<workgroup> sums: array<f32, 64>;

fn reduce_sum(v: f32, li: u32) -> f32 {
    sums[li] = v;
    workgroupBarrier();
    for (var stride = 32u; stride > 0u; stride /= 2u) {
        if (li < stride) {
            sums[li] += sums[li + stride];
        }
        workgroupBarrier();
    }
    let total = sums[0];
    workgroupBarrier();
    return total;
}
