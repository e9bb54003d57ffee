// GEMV for M <= 8 (decoding): one workgroup of 64 per output column n makes one pass over row n
// of W, decoding each code once and using it for all M rows of x; the 64 partial sums per row
// are combined by `reduce_sum` (subgroups where the adapter has them, workgroup memory
// otherwise; the host prepends one of the two).

struct Dims {
    m: u32,
    n: u32,
    k: u32,
    x_offset: u32,
    y_offset: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(5) var<storage, read> xs: array<f32>;
@group(0) @binding(6) var<storage, read_write> ys: array<f32>;
@group(0) @binding(7) var<uniform> d: Dims;

const MAX_M: u32 = 8u;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let n = wid.x + wid.y * nwg.x;
    if (n >= d.n) {
        return;
    }
    var acc: array<f32, MAX_M>;
    for (var k = li; k < d.k; k += 64u) {
        let w = w_value(n, k);
        for (var m = 0u; m < d.m; m++) {
            acc[m] += w * xs[d.x_offset + m * d.k + k];
        }
    }
    for (var m = 0u; m < MAX_M; m++) {
        let total = reduce_sum(acc[m], li);
        if (li == 0u && m < d.m) {
            ys[d.y_offset + m * d.n + n] = total;
        }
    }
}
