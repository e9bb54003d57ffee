// GEMV for few rows of x (M = MR <= 8) where W's rows are whole vec4 units (gemv_codes.wgsl:
// 4 code words of one block; gemv_f32.wgsl: 4 values). A workgroup of LK lanes serves RPL
// output columns. Each pass over K, a lane loads x for its UPL units into registers once and
// reuses it for all RPL columns: per column and unit, one vec4 load of W and one scale, its
// products summed as vec4 and scaled once. A column's LK partial sums meet in workgroup memory
// (part_add, a subgroup sum first where the adapter has subgroups) and are added up once at the
// end. MR, UPL, LK and RPL are override constants, so the loops unroll and the register arrays
// have constant indices.

@group(0) @binding(1) var<storage, read> src: array<vec4<u32>>;
// x, ys and the dims d come from linear.wgsl.

override MR: u32 = 1u;
override UPL: u32 = 4u;
override LK: u32 = 32u;
override RPL: u32 = 8u;
// Lane l's units of a pass: UPL consecutive ones (a CPU adapter's lane streams its own bytes),
// or every LK-th (adjacent lanes read adjacent vec4, as a GPU's warp wants).
override INTERLEAVED: bool = false;

// The host keeps MR * UPL * unit_vec4s() within GEMV_X_VEC4S (x's vec4 a lane holds) and
// LK * RPL * MR within GEMV_PART (the partial-sum slots).
const MAX_M: u32 = 8u;

var<workgroup> part: array<f32, GEMV_PART>;

fn unit_of(pass_start: u32, i: u32, li: u32) -> u32 {
    if (INTERLEAVED) {
        return pass_start + i * LK + li;
    }
    return pass_start + li * UPL + i;
}

// x element k of row m (zero past K).
fn x_or_zero(m: u32, k: u32) -> f32 {
    return select(0.0, x_at(d.x_offset + m * d.k + k), k < d.k);
}

@compute @workgroup_size(LK)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let xv = unit_vec4s();
    let per_unit = 4u * xv;
    let units = (d.k + per_unit - 1u) / per_unit;
    let row0 = (wid.x + wid.y * nwg.x) * RPL;
    for (var i = li; i < LK * RPL * MR; i += LK) {
        part[i] = 0.0;
    }
    workgroupBarrier();
    var xr: array<vec4<f32>, GEMV_X_VEC4S>;
    var blocks: array<u32, GEMV_X_VEC4S>;
    for (var pass_start = 0u; pass_start < units; pass_start += LK * UPL) {
        for (var i = 0u; i < UPL; i++) {
            let k0 = unit_of(pass_start, i, li) * per_unit;
            blocks[i] = unit_block(k0);
            for (var m = 0u; m < MR; m++) {
                for (var c = 0u; c < xv; c++) {
                    let k = k0 + 4u * c;
                    xr[(m * UPL + i) * xv + c] = vec4<f32>(
                        x_or_zero(m, k),
                        x_or_zero(m, k + 1u),
                        x_or_zero(m, k + 2u),
                        x_or_zero(m, k + 3u),
                    );
                }
            }
        }
        for (var r = 0u; r < RPL; r++) {
            // Columns past N repeat the last one (uniform control flow); they are not written.
            let n = min(row0 + r, d.n - 1u);
            let scales = row_scale_base(n);
            var acc: array<vec4<f32>, MAX_M>;
            for (var i = 0u; i < UPL; i++) {
                let u = unit_of(pass_start, i, li);
                let q = select(vec4<u32>(0u), src[g.code_offset / 4u + n * units + min(u, units - 1u)], u < units);
                let s = unit_scale(scales + blocks[i]);
                var sums: array<vec4<f32>, MAX_M>;
                for (var c = 0u; c < xv; c++) {
                    let v = unit_values(q, c, s);
                    for (var m = 0u; m < MR; m++) {
                        sums[m] = fma(v, xr[(m * UPL + i) * xv + c], sums[m]);
                    }
                }
                for (var m = 0u; m < MR; m++) {
                    acc[m] += unit_scaled(sums[m], s);
                }
            }
            for (var m = 0u; m < MR; m++) {
                part_add((acc[m].x + acc[m].y) + (acc[m].z + acc[m].w), li, r * MR + m);
            }
        }
    }
    workgroupBarrier();
    for (var o = li; o < RPL * MR; o += LK) {
        var total = 0.0;
        for (var l = 0u; l < LK; l++) {
            total += part[l * RPL * MR + o];
        }
        let n = row0 + o / MR;
        if (n < d.n) {
            ys[d.y_offset + (o % MR) * d.n + n] = total;
        }
    }
}
