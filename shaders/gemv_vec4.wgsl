// GEMV for few rows of x (M = MR <= 8) where W's rows are whole vec4 units (gemv_codes.wgsl: 4
// code words of one block; gemv_f32.wgsl: 4 values). A workgroup of LK lanes serves RPL output
// columns. Each pass over K, a lane loads x for its UPL units into registers once (one vec4 load
// per slot where x is f32) and reuses it for all RPL columns: per column and unit, one vec4 load
// of W and one scale (a vec4 of four blocks' scales where UPB allows), its products summed and
// scaled once. A column's LK partial sums meet in workgroup memory (part_add: each lane's own
// slot, or a subgroup sum first where the GPU has subgroups) and are added up once at the end. The
// loads are what costs on lavapipe: it runs each one lane by lane, so one vec4 load saves three
// loops over the lanes against four u32 loads (benches/NOTES.md item 28). MR, UPL, LK, RPL and the
// rest are override constants. x lives in 32 named vec4, not an array, because lavapipe keeps
// arrays in memory: the steps below are written out once per slot, and their guards and indices
// are constants once the overrides are specialized.

@group(0) @binding(1) var<storage, read> src: array<vec4<u32>>;
// x again, as vec4 (X_VEC4: f32 x with K a multiple of 4), so that a slot is one load.
@group(0) @binding(8) var<storage, read> xs4: array<vec4<u32>>;
override X_VEC4: bool = false;
// x, ys and the dims d come from linear.wgsl.

override MR: u32 = 1u;
override UPL: u32 = 4u;
override LK: u32 = 32u;
override RPL: u32 = 8u;
// Lane l's units of a pass: UPL consecutive ones (a CPU adapter's lane streams its own bytes),
// or every LK-th (adjacent lanes read adjacent vec4, as a GPU's warp wants).
override INTERLEAVED: bool = false;
// Units per block of W where each lane's blocks are whole aligned quads of scales (gemv_codes.wgsl
// loads them as vec4); 0 for one scale load per unit, and for f32 W.
override UPB: u32 = 0u;
// K fits one pass (units <= LK * UPL): part_add stores instead of adding.
override ONE_PASS: bool = false;

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

// What a lane's steps share within one pass and one output column.
struct Walk {
    li: u32,
    pass_start: u32,
    units: u32,
    n: u32,
    scales: u32,
}

// Slot j of a lane's x: row m = j % MR of unit i = j / (MR * xv), its vec4 c = (j / MR) % xv
// (the rows of one vec4 of W adjacent, so that each decoded vec4 serves all of them).
fn x_slot(j: u32, w: Walk) -> vec4<f32> {
    let xv = unit_vec4s();
    if (j >= MR * UPL * xv) {
        return vec4<f32>(0.0);
    }
    let m = j % MR;
    let k = unit_of(w.pass_start, j / (MR * xv), w.li) * 4u * xv + 4u * ((j / MR) % xv);
    if (X_VEC4) {
        let v = bitcast<vec4<f32>>(xs4[(d.x_offset + m * d.k + k) / 4u]);
        return select(vec4<f32>(0.0), v, k < d.k);
    }
    return vec4<f32>(x_or_zero(m, k), x_or_zero(m, k + 1u), x_or_zero(m, k + 2u), x_or_zero(m, k + 3u));
}

struct Sums {
    q: vec4<u32>,
    s: UnitScale,
    quad: vec4<f32>,
    v: vec4<f32>,
    unit: array<vec4<f32>, MAX_M>,
    total: array<f32, MAX_M>,
}

// Slot j's products for one column: its unit's W load and scale with the unit's first slot, its
// vec4 of values with the vec4's first row, the unit's scaled sum with its last vec4.
fn step(j: u32, x: vec4<f32>, w: Walk, t: ptr<function, Sums>) {
    let xv = unit_vec4s();
    if (j >= MR * UPL * xv) {
        return;
    }
    let m = j % MR;
    let c = (j / MR) % xv;
    if (m == 0u) {
        if (c == 0u) {
            let i = j / (MR * xv);
            let u = unit_of(w.pass_start, i, w.li);
            let at = g.code_offset / 4u + w.n * w.units + min(u, w.units - 1u);
            (*t).q = select(vec4<u32>(0u), src[at], u < w.units);
            (*t).quad = unit_scale_quad(w.scales, u, i, (*t).quad);
            (*t).s = unit_scale(w.scales, u, i, (*t).quad);
        }
        (*t).v = unit_values((*t).q, c, (*t).s);
    }
    (*t).unit[m] = fma((*t).v, x, (*t).unit[m]);
    if (c == xv - 1u) {
        (*t).total[m] += unit_scaled((*t).unit[m], (*t).s);
        (*t).unit[m] = vec4<f32>(0.0);
    }
}

@compute @workgroup_size(LK)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let per_unit = 4u * unit_vec4s();
    let units = (d.k + per_unit - 1u) / per_unit;
    let row0 = (wid.x + wid.y * nwg.x) * RPL;
    if (!(ONE_PASS && PART_FILLS_ALL)) {
        for (var i = li; i < LK * RPL * MR; i += LK) {
            part[i] = 0.0;
        }
        workgroupBarrier();
    }
    for (var pass_start = 0u; pass_start < units; pass_start += LK * UPL) {
        var w = Walk(li, pass_start, units, 0u, 0u);
        let x0 = x_slot(0u, w);
        let x1 = x_slot(1u, w);
        let x2 = x_slot(2u, w);
        let x3 = x_slot(3u, w);
        let x4 = x_slot(4u, w);
        let x5 = x_slot(5u, w);
        let x6 = x_slot(6u, w);
        let x7 = x_slot(7u, w);
        let x8 = x_slot(8u, w);
        let x9 = x_slot(9u, w);
        let x10 = x_slot(10u, w);
        let x11 = x_slot(11u, w);
        let x12 = x_slot(12u, w);
        let x13 = x_slot(13u, w);
        let x14 = x_slot(14u, w);
        let x15 = x_slot(15u, w);
        let x16 = x_slot(16u, w);
        let x17 = x_slot(17u, w);
        let x18 = x_slot(18u, w);
        let x19 = x_slot(19u, w);
        let x20 = x_slot(20u, w);
        let x21 = x_slot(21u, w);
        let x22 = x_slot(22u, w);
        let x23 = x_slot(23u, w);
        let x24 = x_slot(24u, w);
        let x25 = x_slot(25u, w);
        let x26 = x_slot(26u, w);
        let x27 = x_slot(27u, w);
        let x28 = x_slot(28u, w);
        let x29 = x_slot(29u, w);
        let x30 = x_slot(30u, w);
        let x31 = x_slot(31u, w);
        for (var r = 0u; r < RPL; r++) {
            // Columns past N repeat the last one (uniform control flow); they are not written.
            w.n = min(row0 + r, d.n - 1u);
            w.scales = row_scale_base(w.n);
            var t: Sums;
            step(0u, x0, w, &t);
            step(1u, x1, w, &t);
            step(2u, x2, w, &t);
            step(3u, x3, w, &t);
            step(4u, x4, w, &t);
            step(5u, x5, w, &t);
            step(6u, x6, w, &t);
            step(7u, x7, w, &t);
            step(8u, x8, w, &t);
            step(9u, x9, w, &t);
            step(10u, x10, w, &t);
            step(11u, x11, w, &t);
            step(12u, x12, w, &t);
            step(13u, x13, w, &t);
            step(14u, x14, w, &t);
            step(15u, x15, w, &t);
            step(16u, x16, w, &t);
            step(17u, x17, w, &t);
            step(18u, x18, w, &t);
            step(19u, x19, w, &t);
            step(20u, x20, w, &t);
            step(21u, x21, w, &t);
            step(22u, x22, w, &t);
            step(23u, x23, w, &t);
            step(24u, x24, w, &t);
            step(25u, x25, w, &t);
            step(26u, x26, w, &t);
            step(27u, x27, w, &t);
            step(28u, x28, w, &t);
            step(29u, x29, w, &t);
            step(30u, x30, w, &t);
            step(31u, x31, w, &t);
            for (var m = 0u; m < MR; m++) {
                part_add(t.total[m], li, r * MR + m);
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
