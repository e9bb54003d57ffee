// Sum over each aligned group of 8 invocations through workgroup memory; the result is valid in
// the group's first invocation. Used where the adapter has no subgroups of 8 or more.
var<workgroup> sums: array<f32, WG>;

fn reduce8(v: f32, li: u32) -> f32 {
    sums[li] = v;
    workgroupBarrier();
    for (var stride = 4u; stride > 0u; stride /= 2u) {
        if (li % 8u < stride) {
            sums[li] += sums[li + stride];
        }
        workgroupBarrier();
    }
    let total = sums[li];
    workgroupBarrier();
    return total;
}
