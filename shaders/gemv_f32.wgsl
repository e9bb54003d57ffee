// An f32 W's units for gemv_vec4.wgsl: a unit is one vec4 of W's values, unscaled. The f32
// counterpart of gemv_codes.wgsl.

struct UnitScale {
    unused: u32,
}

fn unit_vec4s() -> u32 {
    return 1u;
}

fn row_scale_base(n: u32) -> u32 {
    return 0u;
}

fn unit_scale_quad(base: u32, u: u32, i: u32, kept: vec4<f32>) -> vec4<f32> {
    return kept;
}

fn unit_scale(base: u32, u: u32, i: u32, quad: vec4<f32>) -> UnitScale {
    return UnitScale(0u);
}

fn unit_values(q: vec4<u32>, c: u32, s: UnitScale) -> vec4<f32> {
    return bitcast<vec4<f32>>(q);
}

fn unit_scaled(v: vec4<f32>, s: UnitScale) -> f32 {
    return (v.x + v.y) + (v.z + v.w);
}
