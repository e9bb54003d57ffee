// A coded W's units for gemv_vec4.wgsl: a unit is one vec4<u32> of code words (4 CPW codes, all
// in one block, as the host checks), so one load and one scale per unit. Prepended after
// common.wgsl, codec.wgsl and weight_params.wgsl; gemv_f32.wgsl defines the same for f32 W.

alias UnitScale = WeightScale;

// vec4 of x per unit.
fn unit_vec4s() -> u32 {
    return CPW;
}

// Row n's first scale; a unit's scale is that plus unit_block of its first element. common.wgsl's
// scale_index(n, 0) for a whole [N, K] weight with blocks along K (one row of blocks per row of
// W) or one scale, without its divisions.
fn row_scale_base(n: u32) -> u32 {
    return select(0u, n * g.grid_cols, g.block_rows == 1u) + g.scale_offset - g.scale_base;
}

fn unit_block(k: u32) -> u32 {
    return div_by(k, g.div_block_cols);
}

fn unit_scale(b: u32) -> UnitScale {
    return w_scale(b);
}

// The unscaled values of codes 4c .. 4c + 3 of the unit q.
fn unit_values(q: vec4<u32>, c: u32, s: UnitScale) -> vec4<f32> {
    let groups = CPW / 4u;
    let codes = codes4(q[c / groups], c % groups);
    return vec4<f32>(
        code_value(codes.x, s.zero),
        code_value(codes.y, s.zero),
        code_value(codes.z, s.zero),
        code_value(codes.w, s.zero),
    );
}

// Products of unscaled values with x, scaled once for the unit.
fn unit_scaled(v: vec4<f32>, s: UnitScale) -> vec4<f32> {
    return vec4<f32>(
        scale_value(v.x, s.sp, s.global),
        scale_value(v.y, s.sp, s.global),
        scale_value(v.z, s.sp, s.global),
        scale_value(v.w, s.sp, s.global),
    );
}
