// Per-block absmax reduction: one workgroup per block. Also detects non-finite inputs.
// OUT_SCALE = false writes the raw absmax (pass 1 of the two-pass Tensor-level reduction);
// true turns it into the stored scale (SPEC section 2).

override OUT_SCALE: bool = true;
// qmax = (b - a) / 2 of the value.
override QMAX: f32 = 127.0;

@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// Per chunk: [first non-finite element (chunk-local), first overflowing block (chunk-local)].
@group(0) @binding(3) var<storage, read_write> status: array<atomic<u32>>;

const WG: u32 = 64u;
var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let lb = wid.x + wid.y * nwg.x;
    if (lb >= g.count) {
        return;
    }
    let block = g.scale_base + lb;
    let gc = block % g.grid_cols;
    let t = block / g.grid_cols;
    let m = t / g.grid_rows;
    let r0 = (t % g.grid_rows) * g.block_rows;
    let c0 = gc * g.block_cols;
    let height = min(g.block_rows, g.mat_rows - r0);
    let width = min(g.block_cols, g.cols - c0);
    let first_row = m * g.mat_rows + r0 - g.row_base;

    var amax = 0.0;
    for (var i = lid; i < height * width; i += WG) {
        let flat = (first_row + i / width) * g.cols + c0 + i % width;
        let x = load_x(g.x_offset + flat);
        if (!is_finite_bits(x)) {
            atomicMin(&status[2u * g.status_slot], flat);
        } else {
            amax = max(amax, abs(flush_subnormal(x)));
        }
    }
    partial[lid] = amax;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
        if (lid < stride) {
            partial[lid] = max(partial[lid], partial[lid + stride]);
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        var v = partial[0];
        if (OUT_SCALE) {
            v = to_param(v / QMAX);
            if (v < 0.0) {
                atomicMin(&status[2u * g.status_slot + 1u], lb);
                v = 0.0;
            }
        }
        out[g.scale_offset + lb] = v;
    }
}
