// Integer path for M > 8: y = x . W^T in 64 x 64 output tiles, 16 x 16 invocations with 4 x 4
// register tiles, as matmul.wgsl: K in steps of 8 words of int8 codes (Q4 words widened to two
// such words as they are loaded), stored transposed, four rows to a vec4<u32> at each word, so
// each word step is two vec4 loads and sixteen `dot4`s (the packed_4x8_integer_dot_product
// builtin where the adapter has it). Each output's exact i32 sum over a W block is scaled once,
// when the block ends. After int_linear.wgsl.

const TILE: u32 = MATMUL_TILE;
// Words (of four int8 codes) per step of K.
const TW: u32 = 8u;
// [TW][TILE / 4]: row r's word kw at [kw * 16 + r / 4][r % 4].
var<workgroup> x_tile: array<vec4<u32>, 128>;
var<workgroup> w_tile: array<vec4<u32>, 128>;

fn slot(r: u32, kw: u32) -> u32 {
    return kw * (TILE / 4u) + r / 4u;
}

// Word gw (codes 4 gw .. 4 gw + 3) of W's row n, as four int8 bytes.
fn w_word(n: u32, gw: u32) -> u32 {
    if (BITS == 8u) {
        return src[n * d.w_words + gw];
    }
    return widen4(src[n * d.w_words + gw / 2u] >> (16u * (gw % 2u)));
}

// The W scales of columns n .. n + 3 for the block starting at kb.
fn w_scales4(n: u32, kb: u32) -> vec4<f32> {
    return vec4<f32>(
        w_scales[scale_index(min(n, d.n - 1u), kb)],
        w_scales[scale_index(min(n + 1u, d.n - 1u), kb)],
        w_scales[scale_index(min(n + 2u, d.n - 1u), kb)],
        w_scales[scale_index(min(n + 3u, d.n - 1u), kb)],
    );
}

// Row m's block sums scaled by their W scales ws and x's scale of the block starting at kb.
fn scaled(s: vec4<i32>, m: u32, ws: vec4<f32>, kb: u32) -> vec4<f32> {
    let x_blocks = (d.k + d.x_block - 1u) / d.x_block;
    let sx = x_scales[min(m, d.m - 1u) * x_blocks + kb / d.x_block];
    return vec4<f32>(s) * (ws * sx);
}

fn dot4x4(a: u32, b: vec4<u32>) -> vec4<i32> {
    return vec4<i32>(dot4(a, b.x), dot4(a, b.y), dot4(a, b.z), dot4(a, b.w));
}

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let m0 = wid.y * TILE;
    let n0 = wid.x * TILE;
    let m = m0 + 4u * lid.y;
    let n = n0 + 4u * lid.x;
    let words = (d.k + 3u) / 4u;
    // Named accumulators (lavapipe keeps arrays in memory); the exact sums of the current block.
    var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
    var s0 = vec4<i32>(0); var s1 = vec4<i32>(0);
    var s2 = vec4<i32>(0); var s3 = vec4<i32>(0);
    var block_start = 0u;
    for (var kw0 = 0u; kw0 < words; kw0 += TW) {
        for (var e = li; e < TILE * TW; e += 256u) {
            let r = e / TW;
            let gw = kw0 + e % TW;
            var xv = 0u;
            var wv = 0u;
            if (gw < words) {
                if (m0 + r < d.m) {
                    xv = x_codes[(m0 + r) * d.x_words + gw];
                }
                if (n0 + r < d.n) {
                    wv = w_word(n0 + r, gw);
                }
            }
            x_tile[slot(r, e % TW)][r % 4u] = xv;
            w_tile[slot(r, e % TW)][r % 4u] = wv;
        }
        workgroupBarrier();
        for (var kw = 0u; kw < TW; kw++) {
            let k = 4u * (kw0 + kw);
            if (k >= d.k) {
                break;
            }
            // A new W block: scale the last one's sums into the accumulators (a running
            // boundary, not k % block, to spare a division per step).
            if (k == block_start + d.block) {
                let ws = w_scales4(n, block_start);
                acc0 += scaled(s0, m, ws, block_start);
                acc1 += scaled(s1, m + 1u, ws, block_start);
                acc2 += scaled(s2, m + 2u, ws, block_start);
                acc3 += scaled(s3, m + 3u, ws, block_start);
                s0 = vec4<i32>(0); s1 = vec4<i32>(0);
                s2 = vec4<i32>(0); s3 = vec4<i32>(0);
                block_start = k;
            }
            let a = x_tile[slot(4u * lid.y, kw)];
            let b = w_tile[slot(4u * lid.x, kw)];
            s0 += dot4x4(a.x, b);
            s1 += dot4x4(a.y, b);
            s2 += dot4x4(a.z, b);
            s3 += dot4x4(a.w, b);
        }
        workgroupBarrier();
    }
    if (d.k > 0u) {
        let ws = w_scales4(n, block_start);
        acc0 += scaled(s0, m, ws, block_start);
        acc1 += scaled(s1, m + 1u, ws, block_start);
        acc2 += scaled(s2, m + 2u, ws, block_start);
        acc3 += scaled(s3, m + 3u, ws, block_start);
    }
    for (var i = 0u; i < 4u; i++) {
        var row: vec4<f32>;
        switch i {
            case 0u: { row = acc0; }
            case 1u: { row = acc1; }
            case 2u: { row = acc2; }
            default: { row = acc3; }
        }
        if (m + i < d.m) {
            for (var j = 0u; j < 4u; j++) {
                if (n + j < d.n) {
                    ys[d.y_offset + (m + i) * d.n + n + j] = row[j];
                }
            }
        }
    }
}
