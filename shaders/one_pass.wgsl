// What the one-pass quantize kernels (quantize_blocks.wgsl, quantize_vec4.wgsl) share: their
// outputs but the codes (binding 4, which each declares: as words, or as vec4 of them), and
// storing a block's scale and zero point once its range is known.

@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> zeros: array<u32>;
// Per chunk: [first non-finite element (chunk-local), first overflowing block (chunk-local)].
@group(0) @binding(5) var<storage, read_write> status: array<atomic<u32>>;
// NVFP4's global scale, from the whole-tensor reduction before this pass.
@group(0) @binding(6) var<storage, read> global: array<f32>;

// Tensor level: the blocks are runs of the flat chunk that share the tensor's scale (and zero
// point), which the whole-tensor reduction stored before this pass.
override TENSOR_SCALE: bool = false;

struct BlockParams {
    sp: f32,
    zero: u32,
    global: f32,
}

// Block `lb`'s scale (overflow reported, stored as 0) and, in Affine mode, zero point, from its
// range [lo, hi]; both stored, and returned for the encoding.
fn store_params(lb: u32, lo: f32, hi: f32) -> BlockParams {
    let gs = global[0];
    if (TENSOR_SCALE) {
        var z = 0u;
        if (KIND == KIND_AFFINE) {
            z = zeros[g.scale_offset];
        }
        return BlockParams(out[g.scale_offset], z, gs);
    }
    var sp = block_scale(lo, hi, gs);
    if (sp < 0.0) {
        atomicMin(&status[2u * g.status_slot + 1u], lb);
        sp = 0.0;
    }
    out[g.scale_offset + lb] = sp;
    var zero = 0u;
    if (KIND == KIND_AFFINE) {
        zero = zero_point(lo, sp);
        zeros[g.scale_offset + lb] = zero;
    }
    return BlockParams(sp, zero, gs);
}
