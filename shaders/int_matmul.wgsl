// Integer path: y = x . W^T with x quantized per row (or per block of K) to int8 by the generic
// quantize kernels, and W a symmetric Q8 or Q4 weight in the U32 store with blocks along K.
// Each invocation computes one y[m, n]: per W block, an exact i32 sum of int8 products four at a
// time (`dot4`, the packed_4x8_integer_dot_product builtin where the adapter has it), scaled
// once per block. Q4 words are widened to two words of int8 first.

struct IntDims {
    m: u32,
    n: u32,
    k: u32,
    // Words per row of x's codes (ceil(K / 4)) and of W's codes.
    x_words: u32,
    w_words: u32,
    // Elements per W block along K (a multiple of 8), and per x scale (K or the same block).
    block: u32,
    x_block: u32,
    y_offset: u32,
}

@group(0) @binding(5) var<storage, read> x_codes: array<u32>;
@group(0) @binding(6) var<storage, read> x_scales: array<f32>;
@group(0) @binding(7) var<storage, read_write> ys: array<f32>;
@group(0) @binding(8) var<uniform> d: IntDims;

// Four signed 4-bit codes (bits 0..15 of `nib`) as four int8 bytes.
fn widen4(nib: u32) -> u32 {
    var out = 0u;
    for (var i = 0u; i < 4u; i++) {
        let v = bitcast<i32>(((nib >> (4u * i)) & 0xfu) << 28u) >> 28u;
        out |= (bitcast<u32>(v) & 0xffu) << (8u * i);
    }
    return out;
}

@compute @workgroup_size(INT_TILE, INT_TILE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n = gid.x;
    let m = gid.y;
    if (n >= d.n || m >= d.m) { return; }
    var acc = 0.0;
    for (var k0 = 0u; k0 < d.k; k0 += d.block) {
        let k1 = min(k0 + d.block, d.k);
        var isum = 0i;
        for (var k = k0; k < k1; k += 4u) {
            let xw = x_codes[m * d.x_words + k / 4u];
            var ww: u32;
            if (BITS == 8u) {
                ww = src[n * d.w_words + k / 4u];
            } else {
                ww = widen4(src[n * d.w_words + k / 8u] >> (4u * (k % 8u)));
            }
            isum += dot4(xw, ww);
        }
        let sx = x_scales[m * ((d.k + d.x_block - 1u) / d.x_block) + k0 / d.x_block];
        acc += f32(isum) * (w_scales[scale_index(n, k0)] * sx);
    }
    ys[d.y_offset + m * d.n + n] = acc;
}
