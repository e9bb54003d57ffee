// Quantize in one pass, as quantize_blocks.wgsl, where every block is a whole run of vec4 loads
// along a row: 4 f32 or 8 f16/bf16 elements per load, block widths multiples of that, rows a
// multiple of the block. One invocation per block loads it once into registers (VEC4S, the
// block's f32 vec4, is a specialization constant, so the loops unroll and the indices become
// constants), then finds its range, writes its scale (and zero point) and encodes and packs
// its words from the registers. It calls the same block_scale, zero_point and encode as
// quantize_blocks.wgsl, so the results are identical; only the loads differ.

// src, load4 and flush4 come from src_vec4.wgsl; bindings 2, 3, 5 and 6 and `store_params`
// from one_pass.wgsl.
// The code words, four to a vec4 (buffers and windows are whole vec4).
@group(0) @binding(4) var<storage, read_write> codes: array<vec4<u32>>;

// vec4 per block: g.block_cols / 4, at most HELD (generated per kernel, see Kernel::QuantizeVec4).
override VEC4S: u32 = 8u;

// Code word w of the block held in v.
fn pack(v: ptr<function, array<vec4<f32>, HELD>>, w: u32, p: BlockParams) -> u32 {
    var word = 0u;
    for (var j = 0u; j < CPW; j++) {
        let e = w * CPW + j;
        word |= encode((*v)[e / 4u][e % 4u], p.sp, p.zero, p.global) << (j * BITS);
    }
    return word;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let lb = work_item(gid, nwg, WG);
    if (lb >= g.count) { return; }
    // Blocks tile whole rows, one row high, so block lb starts lb blocks after the chunk's first
    // (no division to find its row and column, as common.wgsl's block_span needs).
    let first = (g.scale_base + lb - g.row_base * g.grid_cols) * g.block_cols;
    let at = (g.x_offset + first) / select(8u, 4u, INPUT == DTYPE_F32);
    var v: array<vec4<f32>, HELD>;
    var lo = vec4<f32>(F32_MAX);
    var hi = vec4<f32>(-F32_MAX);
    // Symmetric modes need only max |x|: |x| orders like its bits as u32, and NaN and infinity
    // lie above every finite value, so one compare per block finds them.
    var amax = vec4<u32>(0u);
    for (var k = 0u; k < VEC4S; k++) {
        let f = flush4(load4(at, k));
        v[k] = f;
        if (KIND == KIND_AFFINE) {
            let ok = finite4(f);
            amax = max(amax, select(vec4<u32>(0x7f800000u), vec4<u32>(0u), ok));
            lo = min(lo, select(vec4<f32>(F32_MAX), f, ok));
            hi = max(hi, select(vec4<f32>(-F32_MAX), f, ok));
        } else {
            amax = max(amax, bitcast<vec4<u32>>(f) & vec4<u32>(0x7fffffffu));
        }
    }
    let top = max(max(amax.x, amax.y), max(amax.z, amax.w));
    if (KIND != KIND_AFFINE) {
        // A block with NaN or infinity fails the whole call; its scale does not matter.
        let a = select(bitcast<f32>(top), 0.0, top >= 0x7f800000u);
        lo = vec4<f32>(-a);
        hi = vec4<f32>(a);
    }
    if (top >= 0x7f800000u) {
        // Rare: report the block's first NaN or infinity. Constant indices only: one run-time
        // index into v would make lavapipe keep all of v in memory (17% more instructions).
        var bad = 0xffffffffu;
        for (var k = 0u; k < VEC4S; k++) {
            let i = select(vec4<u32>(0xffffffffu), vec4<u32>(0u, 1u, 2u, 3u) + 4u * k, !finite4(v[k]));
            bad = min(bad, min(min(i.x, i.y), min(i.z, i.w)));
        }
        atomicMin(&status[2u * g.status_slot], first + bad);
    }
    let l = min(min(lo.x, lo.y), min(lo.z, lo.w));
    let h = max(max(hi.x, hi.y), max(hi.z, hi.w));
    let p = store_params(lb, l, h);
    let first_word = g.code_offset + first / CPW;
    let words = 4u * VEC4S / CPW;
    // Whole vec4 of integer words: one store each. The longer minifloat and NF4 encodings
    // stay a word at a time, which measured faster (benches/NOTES.md item 24).
    let integer = KIND == KIND_INT || KIND == KIND_AFFINE;
    if (integer && words % 4u == 0u && first_word % 4u == 0u) {
        for (var w = 0u; w < words; w += 4u) {
            codes[(first_word + w) / 4u] = vec4<u32>(
                pack(&v, w, p), pack(&v, w + 1u, p), pack(&v, w + 2u, p), pack(&v, w + 3u, p),
            );
        }
    } else {
        for (var w = 0u; w < words; w++) {
            codes[(first_word + w) / 4u][(first_word + w) % 4u] = pack(&v, w, p);
        }
    }
}
