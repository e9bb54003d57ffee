// y = x . W^T, x [M, K] f32, W [N, K] through weights.wgsl: f32 (plain matmul and
// dequantize-then-matmul) or decoded from packed codes while the tile is loaded (fused; W is
// never materialized in f32). 64 x 64 output tiles, 16 x 16 invocations with 4 x 4 register
// tiles, K in steps of 16 through workgroup memory.

// x, y and the dims come from the linear.wgsl prelude.

const TILE: u32 = MATMUL_TILE; // 16 invocations x 4 registers
const TK: u32 = 16u;
var<workgroup> a_tile: array<f32, 1024>; // [TILE][TK] of x
var<workgroup> b_tile: array<f32, 1024>; // [TILE][TK] of W

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let m0 = wid.y * TILE;
    let n0 = wid.x * TILE;
    var acc: array<f32, 16>;
    for (var k0 = 0u; k0 < d.k; k0 += TK) {
        for (var i = 0u; i < 4u; i++) {
            let e = li + i * 256u;
            let r = e / TK;
            let gk = k0 + e % TK;
            var a = 0.0;
            if (m0 + r < d.m && gk < d.k) {
                a = x_at(d.x_offset + (m0 + r) * d.k + gk);
            }
            a_tile[e] = a;
            var b = 0.0;
            if (n0 + r < d.n && gk < d.k) {
                b = w_value(n0 + r, gk);
            }
            b_tile[e] = b;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            var a: array<f32, 4>;
            var b: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                a[i] = a_tile[(lid.y * 4u + i) * TK + kk];
                b[i] = b_tile[(lid.x * 4u + i) * TK + kk];
            }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i * 4u + j] += a[i] * b[j];
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
            let gm = m0 + lid.y * 4u + i;
            let gn = n0 + lid.x * 4u + j;
            if (gm < d.m && gn < d.n) {
                ys[d.y_offset + gm * d.n + gn] = acc[i * 4u + j];
            }
        }
    }
}
