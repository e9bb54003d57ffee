// y = x . W^T, x [M, K] (f32, f16 or bf16), W [N, K] through a weights prelude: f32 (plain
// matmul and dequantize-then-matmul), or decoded from its codes or GGUF blocks while the tile is
// loaded (fused; W is never materialized in f32). 64 x 128 output tiles, 16 x 8 invocations
// with 8 x 8 register tiles (sixteen named vec4 accumulators), K in steps of 16 through
// workgroup memory. Both tiles keep K contiguous, four k to a vec4, so that each tile element is
// stored once as part of a vec4 and each step of the inner loop is sixteen vec4 loads for 256
// multiply-adds: on lavapipe every load is a loop over the lanes, so the work per load is what
// counts; on a discrete GPU it is the classic register-tiled SGEMM. Each output's sum runs over
// k in order.

// x, y and the dims come from the linear.wgsl prelude.

const TILE: u32 = MATMUL_TILE; // rows: 8 invocations x 8 registers
const TILE_N: u32 = MATMUL_TILE_N; // columns: 16 invocations x 8 registers
const TK: u32 = 16u;
// vec4 per tile row: TK / 4, plus one so that invocations reading rows 16 vec4 apart do not all
// meet in one bank of a GPU's workgroup memory.
const ROW: u32 = TK / 4u + 1u;
var<workgroup> a_tile: array<vec4<f32>, 320>; // [TILE][ROW]
var<workgroup> b_tile: array<vec4<f32>, 640>; // [TILE_N][ROW]

// Element k of x's row m, zero outside x.
fn x_or_zero(m: u32, k: u32) -> f32 {
    if (m < d.m && k < d.k) {
        return x_at(d.x_offset + m * d.k + k);
    }
    return 0.0;
}

// acc + the products of x's four k with the four columns' (columns of t: one k each), k in order.
fn fold(acc: vec4<f32>, x: vec4<f32>, t: mat4x4<f32>) -> vec4<f32> {
    var a = acc + t[0] * x.x;
    a = a + t[1] * x.y;
    a = a + t[2] * x.z;
    return a + t[3] * x.w;
}

// Output row m, columns n, n + 16, ..., n + 112 (lo: the first four).
fn store_row(m: u32, n: u32, lo: vec4<f32>, hi: vec4<f32>) {
    if (m >= d.m) {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        if (n + 16u * j < d.n) {
            ys[d.y_offset + m * d.n + n + 16u * j] = lo[j];
        }
        if (n + 16u * (j + 4u) < d.n) {
            ys[d.y_offset + m * d.n + n + 16u * (j + 4u)] = hi[j];
        }
    }
}

@compute @workgroup_size(16, 8)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let m0 = wid.y * TILE;
    let n0 = wid.x * TILE_N;
    // Invocation (x, y) computes rows y + 8 i and columns x + 16 j: adjacent invocations read
    // adjacent tile rows and store adjacent outputs.
    var r0l = vec4<f32>(0.0); var r0h = vec4<f32>(0.0);
    var r1l = vec4<f32>(0.0); var r1h = vec4<f32>(0.0);
    var r2l = vec4<f32>(0.0); var r2h = vec4<f32>(0.0);
    var r3l = vec4<f32>(0.0); var r3h = vec4<f32>(0.0);
    var r4l = vec4<f32>(0.0); var r4h = vec4<f32>(0.0);
    var r5l = vec4<f32>(0.0); var r5h = vec4<f32>(0.0);
    var r6l = vec4<f32>(0.0); var r6h = vec4<f32>(0.0);
    var r7l = vec4<f32>(0.0); var r7h = vec4<f32>(0.0);
    let size = w_group_size();
    var vals: array<f32, 16>;
    for (var k0 = 0u; k0 < d.k; k0 += TK) {
        // x: 64 rows of 4 vec4, two per invocation.
        for (var e = li; e < TILE * TK / 4u; e += 128u) {
            let r = e / (TK / 4u);
            let k = k0 + 4u * (e % (TK / 4u));
            let m = m0 + r;
            a_tile[r * ROW + e % (TK / 4u)] = vec4<f32>(
                x_or_zero(m, k), x_or_zero(m, k + 1u), x_or_zero(m, k + 2u), x_or_zero(m, k + 3u),
            );
        }
        // W: 128 rows of 16 values, a decoding group at a time (a word's 4, 8 or 16 codes, or
        // 4 values: every group size divides TK).
        let groups = TK / size;
        for (var e = li; e < TILE_N * groups; e += 128u) {
            let r = e / groups;
            let kq = size * (e % groups);
            let inside = n0 + r < d.n && k0 + kq < d.k;
            if (inside) {
                w_group(n0 + r, (k0 + kq) / size, &vals);
            }
            for (var c = 0u; c < size; c += 4u) {
                let k = k0 + kq + c;
                let valid = vec4<bool>(k < d.k, k + 1u < d.k, k + 2u < d.k, k + 3u < d.k);
                let v = vec4<f32>(vals[c], vals[c + 1u], vals[c + 2u], vals[c + 3u]);
                let keep = valid & vec4<bool>(inside);
                b_tile[r * ROW + (kq + c) / 4u] = select(vec4<f32>(0.0), v, keep);
            }
        }
        workgroupBarrier();
        for (var j = 0u; j < TK / 4u; j++) {
            let b = lid.x * ROW + j;
            let lo = transpose(mat4x4<f32>(
                b_tile[b], b_tile[b + 16u * ROW], b_tile[b + 32u * ROW], b_tile[b + 48u * ROW],
            ));
            let hi = transpose(mat4x4<f32>(
                b_tile[b + 64u * ROW], b_tile[b + 80u * ROW], b_tile[b + 96u * ROW],
                b_tile[b + 112u * ROW],
            ));
            let a = lid.y * ROW + j;
            var x = a_tile[a];
            r0l = fold(r0l, x, lo); r0h = fold(r0h, x, hi);
            x = a_tile[a + 8u * ROW];
            r1l = fold(r1l, x, lo); r1h = fold(r1h, x, hi);
            x = a_tile[a + 16u * ROW];
            r2l = fold(r2l, x, lo); r2h = fold(r2h, x, hi);
            x = a_tile[a + 24u * ROW];
            r3l = fold(r3l, x, lo); r3h = fold(r3h, x, hi);
            x = a_tile[a + 32u * ROW];
            r4l = fold(r4l, x, lo); r4h = fold(r4h, x, hi);
            x = a_tile[a + 40u * ROW];
            r5l = fold(r5l, x, lo); r5h = fold(r5h, x, hi);
            x = a_tile[a + 48u * ROW];
            r6l = fold(r6l, x, lo); r6h = fold(r6h, x, hi);
            x = a_tile[a + 56u * ROW];
            r7l = fold(r7l, x, lo); r7h = fold(r7h, x, hi);
        }
        workgroupBarrier();
    }
    let m = m0 + lid.y;
    let n = n0 + lid.x;
    store_row(m, n, r0l, r0h);
    store_row(m + 8u, n, r1l, r1h);
    store_row(m + 16u, n, r2l, r2h);
    store_row(m + 24u, n, r3l, r3h);
    store_row(m + 32u, n, r4l, r4h);
    store_row(m + 40u, n, r5l, r5h);
    store_row(m + 48u, n, r6l, r6h);
    store_row(m + 56u, n, r7l, r7h);
}
