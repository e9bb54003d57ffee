// Integer path for M <= 8: one output y[m, n] per invocation, a row of WG outputs per
// workgroup. Per W block, an exact i32 sum of int8 products four at a time (`dot4`), scaled once
// per block. For few rows of x this beats tiling: no invocation is idle and there is no
// barrier. After int_linear.wgsl.

@compute @workgroup_size(WG)
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
