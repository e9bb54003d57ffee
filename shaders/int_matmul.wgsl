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

// The sixteen outputs' block sums, scaled by their W and x scales of the block starting at kb.
fn scaled(s: array<vec4<i32>, 4>, m: u32, n: u32, kb: u32) -> array<vec4<f32>, 4> {
    let x_blocks = (d.k + d.x_block - 1u) / d.x_block;
    var ws: vec4<f32>;
    for (var j = 0u; j < 4u; j++) {
        ws[j] = w_scales[scale_index(min(n + j, d.n - 1u), kb)];
    }
    var out: array<vec4<f32>, 4>;
    for (var i = 0u; i < 4u; i++) {
        let sx = x_scales[min(m + i, d.m - 1u) * x_blocks + kb / d.x_block];
        out[i] = vec4<f32>(s[i]) * (ws * sx);
    }
    return out;
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
    var acc: array<vec4<f32>, 4>;
    var isum: array<vec4<i32>, 4>;
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
            // A new W block: scale the last one's sums into the accumulators.
            if (k > 0u && k % d.block == 0u) {
                let add = scaled(isum, m, n, k - d.block);
                for (var i = 0u; i < 4u; i++) {
                    acc[i] += add[i];
                    isum[i] = vec4<i32>(0);
                }
            }
            let a = x_tile[slot(4u * lid.y, kw)];
            let b = w_tile[slot(4u * lid.x, kw)];
            for (var i = 0u; i < 4u; i++) {
                isum[i] += vec4<i32>(dot4(a[i], b.x), dot4(a[i], b.y), dot4(a[i], b.z), dot4(a[i], b.w));
            }
        }
        workgroupBarrier();
    }
    if (d.k > 0u) {
        let add = scaled(isum, m, n, ((d.k - 1u) / d.block) * d.block);
        for (var i = 0u; i < 4u; i++) {
            acc[i] += add[i];
        }
    }
    for (var i = 0u; i < 4u; i++) {
        if (m + i < d.m) {
            for (var j = 0u; j < 4u; j++) {
                if (n + j < d.n) {
                    ys[d.y_offset + (m + i) * d.n + n + j] = acc[i][j];
                }
            }
        }
    }
}
