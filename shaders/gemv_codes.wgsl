// A coded W's units for gemv_vec4.wgsl: a unit is one vec4<u32> of code words (4 CPW codes, all
// in one block, as the host checks), so one load and one scale per unit. Prepended after
// common.wgsl, codec.wgsl and weight_params.wgsl; gemv_f32.wgsl defines the same for f32 W.

alias UnitScale = WeightScale;

// The scales again, as vec4: where UPB (gemv_vec4.wgsl) > 0, a lane loads each quad of its
// blocks' scales once per column (one load instead of four, each a loop over the lanes on
// lavapipe, and one instruction instead of four on GPUs).
@group(0) @binding(9) var<storage, read> w_scales4: array<vec4<f32>>;

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

// With UPB, the quad of scales that unit u (the lane's unit i of this pass, in the column whose
// first scale is base) takes its scale from: loaded at the quad's first unit, else kept.
fn unit_scale_quad(base: u32, u: u32, i: u32, kept: vec4<f32>) -> vec4<f32> {
    // (max: naga rejects a division by a constant 0 even where UPB == 0 skips it.)
    let upb = max(UPB, 1u);
    if (UPB == 0u || i % (4u * upb) != 0u) {
        return kept;
    }
    return w_scales4[(base + u / upb) / 4u];
}

fn unit_scale(base: u32, u: u32, i: u32, quad: vec4<f32>) -> UnitScale {
    let upb = max(UPB, 1u);
    if (UPB == 0u) {
        return w_scale(base + unit_block(u * 4u * CPW));
    }
    return w_scale_with(base + u / upb, quad[(i / upb) % 4u]);
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

// The sum of a unit's products of unscaled values with x, scaled once for the unit.
fn unit_scaled(v: vec4<f32>, s: UnitScale) -> f32 {
    return scale_value((v.x + v.y) + (v.z + v.w), s.sp, s.global);
}
