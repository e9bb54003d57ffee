// y = x . W^T, x [M, K] (f32, f16 or bf16), W [N, K] through a weights prelude: f32 (plain
// matmul and dequantize-then-matmul), or decoded from its codes or GGUF blocks while the tile is
// loaded (fused; W is never materialized in f32). 64 x 64 output tiles, 16 x 16 invocations with
// 4 x 4 register tiles, K in steps of 32 through workgroup memory. The tiles are stored
// transposed, four rows (or columns) to a vec4 at each k, so that every step of the inner loop
// is two vec4 loads and sixteen multiply-adds; each output's sum runs over k in order.

// x, y and the dims come from the linear.wgsl prelude.

const TILE: u32 = MATMUL_TILE; // 16 invocations x 4 registers
const TK: u32 = 32u;
const ROW_VEC4S: u32 = TILE / 4u;
// [TK][TILE / 4]: element (row r, step kk) at [kk * 16 + r / 4][r % 4].
var<workgroup> a_tile: array<vec4<f32>, 512>;
var<workgroup> b_tile: array<vec4<f32>, 512>;

// Row r, step kk of a tile.
fn tile_slot(r: u32, kk: u32) -> u32 {
    return kk * ROW_VEC4S + r / 4u;
}

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let m0 = wid.y * TILE;
    let n0 = wid.x * TILE;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    // W's rows are loaded a decoding group at a time (4 to 16 consecutive k), x's 4 at a time.
    let size = w_group_size();
    let w_groups = TK / size;
    var vals: array<f32, 16>;
    for (var k0 = 0u; k0 < d.k; k0 += TK) {
        for (var e = li; e < TILE * TK / 4u; e += 256u) {
            let r = e / (TK / 4u);
            let kq = 4u * (e % (TK / 4u));
            for (var c = 0u; c < 4u; c++) {
                let gk = k0 + kq + c;
                var a = 0.0;
                if (m0 + r < d.m && gk < d.k) {
                    a = x_at(d.x_offset + (m0 + r) * d.k + gk);
                }
                a_tile[tile_slot(r, kq + c)][r % 4u] = a;
            }
        }
        for (var e = li; e < TILE * w_groups; e += 256u) {
            let r = e / w_groups;
            let kq = size * (e % w_groups);
            let inside = n0 + r < d.n && k0 + kq < d.k;
            if (inside) {
                w_group(n0 + r, (k0 + kq) / size, &vals);
            }
            for (var c = 0u; c < size; c++) {
                let valid = inside && k0 + kq + c < d.k;
                b_tile[tile_slot(r, kq + c)][r % 4u] = select(0.0, vals[c], valid);
            }
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            let a = a_tile[tile_slot(4u * lid.y, kk)];
            let b = b_tile[tile_slot(4u * lid.x, kk)];
            acc0 += a.x * b;
            acc1 += a.y * b;
            acc2 += a.z * b;
            acc3 += a.w * b;
        }
        workgroupBarrier();
    }
    let gn = n0 + lid.x * 4u;
    for (var i = 0u; i < 4u; i++) {
        let gm = m0 + lid.y * 4u + i;
        var row: vec4<f32>;
        switch i {
            case 0u: { row = acc0; }
            case 1u: { row = acc1; }
            case 2u: { row = acc2; }
            default: { row = acc3; }
        }
        if (gm < d.m) {
            for (var j = 0u; j < 4u; j++) {
                if (gn + j < d.n) {
                    ys[d.y_offset + gm * d.n + gn + j] = row[j];
                }
            }
        }
    }
}
