// y = x . W^T, x [M, K] (f32, f16 or bf16), W [N, K] through a weights prelude: f32 (plain
// matmul and dequantize-then-matmul), or decoded from its codes or GGUF blocks while the tile is
// loaded (fused; W is never materialized in f32). 64 x 128 output tiles, 16 x 16 invocations
// with 4 x 8 register tiles (eight named vec4 accumulators, which stay in registers), K in steps
// of 16 through workgroup memory. The tiles are stored transposed, four rows (or columns) to a
// vec4 at each k, so that every step of the inner loop is three vec4 loads and 32
// multiply-adds; each output's sum runs over k in order.

// x, y and the dims come from the linear.wgsl prelude.

const TILE: u32 = MATMUL_TILE; // rows: 16 invocations x 4 registers
const TILE_N: u32 = MATMUL_TILE_N; // columns: 16 invocations x 8 registers
const TK: u32 = 16u;
var<workgroup> a_tile: array<vec4<f32>, 256>; // [TK][TILE / 4]
var<workgroup> b_tile: array<vec4<f32>, 512>; // [TK][TILE_N / 4]

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let m0 = wid.y * TILE;
    let n0 = wid.x * TILE_N;
    var c00 = vec4<f32>(0.0); var c01 = vec4<f32>(0.0);
    var c10 = vec4<f32>(0.0); var c11 = vec4<f32>(0.0);
    var c20 = vec4<f32>(0.0); var c21 = vec4<f32>(0.0);
    var c30 = vec4<f32>(0.0); var c31 = vec4<f32>(0.0);
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
                a_tile[(kq + c) * (TILE / 4u) + r / 4u][r % 4u] = a;
            }
        }
        for (var e = li; e < TILE_N * w_groups; e += 256u) {
            let r = e / w_groups;
            let kq = size * (e % w_groups);
            let inside = n0 + r < d.n && k0 + kq < d.k;
            if (inside) {
                w_group(n0 + r, (k0 + kq) / size, &vals);
            }
            for (var c = 0u; c < size; c++) {
                let valid = inside && k0 + kq + c < d.k;
                b_tile[(kq + c) * (TILE_N / 4u) + r / 4u][r % 4u] = select(0.0, vals[c], valid);
            }
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            let a = a_tile[kk * (TILE / 4u) + lid.y];
            let b0 = b_tile[kk * (TILE_N / 4u) + lid.x];
            let b1 = b_tile[kk * (TILE_N / 4u) + TILE_N / 8u + lid.x];
            c00 += a.x * b0; c01 += a.x * b1;
            c10 += a.y * b0; c11 += a.y * b1;
            c20 += a.z * b0; c21 += a.z * b1;
            c30 += a.w * b0; c31 += a.w * b1;
        }
        workgroupBarrier();
    }
    // Columns 4 lid.x .. + 3 and TILE_N / 2 + 4 lid.x .. + 3: adjacent invocations read adjacent
    // vec4 of b_tile.
    let gn = n0 + lid.x * 4u;
    for (var i = 0u; i < 4u; i++) {
        let gm = m0 + lid.y * 4u + i;
        var lo: vec4<f32>; var hi: vec4<f32>;
        switch i {
            case 0u: { lo = c00; hi = c01; }
            case 1u: { lo = c10; hi = c11; }
            case 2u: { lo = c20; hi = c21; }
            default: { lo = c30; hi = c31; }
        }
        if (gm < d.m) {
            for (var j = 0u; j < 4u; j++) {
                if (gn + j < d.n) {
                    ys[d.y_offset + gm * d.n + gn + j] = lo[j];
                }
                if (gn + TILE_N / 2u + j < d.n) {
                    ys[d.y_offset + gm * d.n + gn + TILE_N / 2u + j] = hi[j];
                }
            }
        }
    }
}
