// Per-block absmax reduction, also detecting non-finite inputs. PER_THREAD = true: one
// invocation per block (small blocks: no barriers, 64 blocks per workgroup); false: one
// workgroup per block (large blocks such as whole rows or Tensor-level runs).
// OUT_SCALE = false writes the raw absmax (pass 1 of the two-pass Tensor-level reduction);
// true turns it into the stored scale (SPEC section 2).

override PER_THREAD: bool = false;
override OUT_SCALE: bool = true;
// qmax = (b - a) / 2 of the value.
override QMAX: f32 = 127.0;

@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// Per chunk: [first non-finite element (chunk-local), first overflowing block (chunk-local)].
@group(0) @binding(3) var<storage, read_write> status: array<atomic<u32>>;

const WG: u32 = 64u;
var<workgroup> partial: array<f32, WG>;

// Absmax over the elements [start, height * width) of block `lb`, stepping by `step`.
fn block_amax(lb: u32, start: u32, step: u32) -> f32 {
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
    for (var i = start; i < height * width; i += step) {
        let flat = (first_row + i / width) * g.cols + c0 + i % width;
        let x = load_x(g.x_offset + flat);
        if (!is_finite_bits(x)) {
            atomicMin(&status[2u * g.status_slot], flat);
        } else {
            amax = max(amax, abs(flush_subnormal(x)));
        }
    }
    return amax;
}

// Writes the absmax, or the stored scale it gives, of block `lb`.
fn finish_block(lb: u32, amax: f32) {
    var v = amax;
    if (OUT_SCALE) {
        v = to_param(v / QMAX);
        if (v < 0.0) {
            atomicMin(&status[2u * g.status_slot + 1u], lb);
            v = 0.0;
        }
    }
    out[g.scale_offset + lb] = v;
}

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let group = wid.x + wid.y * nwg.x;
    if (PER_THREAD) {
        let lb = group * WG + lid;
        if (lb < g.count) {
            finish_block(lb, block_amax(lb, 0u, 1u));
        }
        return;
    }
    if (group >= g.count) {
        return;
    }
    partial[lid] = block_amax(group, lid, WG);
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
        if (lid < stride) {
            partial[lid] = max(partial[lid], partial[lid + stride]);
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        finish_block(group, partial[0]);
    }
}
