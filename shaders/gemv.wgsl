// GEMV for M <= 8 (decoding). A workgroup of WG (64) serves WG / LANES (8) output columns with
// LANES (8) lanes each; the lanes of a column take its code words in turn (weights.wgsl's
// w_group), decode each code once and use it for all M rows of x. The 8 partial sums of a
// column are combined by `reduce8`: subgroup shuffles where the adapter has subgroups of at
// least 8 lanes, workgroup memory otherwise (the host prepends one of the two).

// x, y and the dims come from the linear.wgsl prelude.

const MAX_M: u32 = 8u;

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let n = (wid.x + wid.y * nwg.x) * (WG / LANES) + li / LANES;
    let lane = li % LANES;
    var acc: array<f32, MAX_M>;
    if (n < d.n) {
        let size = w_group_size();
        let groups = (d.k + size - 1u) / size;
        var vals: array<f32, 16>;
        for (var j = lane; j < groups; j += LANES) {
            w_group(n, j, &vals);
            for (var c = 0u; c < size; c++) {
                let k = j * size + c;
                if (k >= d.k) {
                    break;
                }
                for (var m = 0u; m < d.m; m++) {
                    acc[m] += vals[c] * x_at(d.x_offset + m * d.k + k);
                }
            }
        }
    }
    // Every invocation reaches the reduction (it may use barriers or subgroup operations).
    for (var m = 0u; m < d.m; m++) {
        let total = reduce8(acc[m], li);
        if (lane == 0u && n < d.n) {
            ys[d.y_offset + m * d.n + n] = total;
        }
    }
}
