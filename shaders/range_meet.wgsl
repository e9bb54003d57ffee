// The workgroup's (min, max) from each lane's pair, met in workgroup memory (reduce.wgsl and
// range_vec4.wgsl). It has barriers: call it in uniform control flow.

var<workgroup> part_lo: array<f32, WG>;
var<workgroup> part_hi: array<f32, WG>;

fn workgroup_range(lid: u32, r: vec2<f32>) -> vec2<f32> {
    part_lo[lid] = r.x;
    part_hi[lid] = r.y;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
        if (lid < stride) {
            part_lo[lid] = min(part_lo[lid], part_lo[lid + stride]);
            part_hi[lid] = max(part_hi[lid], part_hi[lid + stride]);
        }
        workgroupBarrier();
    }
    return vec2<f32>(part_lo[0], part_hi[0]);
}
