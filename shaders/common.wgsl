// Shared prelude of every wgquant kernel: the dispatch geometry, input decoding and block
// indexing. The host prepends it and codec.wgsl to each kernel file (see src/gpu/shaders.rs).

// Input element type: DTYPE_F32, DTYPE_F16 or DTYPE_BF16 (two 16-bit elements per u32, low
// half first).
override INPUT: u32 = DTYPE_F32;
// Code width in bits and codes per u32 word (32 / BITS).
override BITS: u32 = 8u;
override CPW: u32 = 4u;
// Native store: one byte per code, flat over the tensor, no row padding.
override NATIVE: bool = false;

// One dispatch over one chunk of a tensor viewed as [outer, mat_rows, cols] (src/layout.rs).
struct Geom {
    rows: u32,         // rows of `cols` elements in this chunk
    cols: u32,         // length of the last dim
    mat_rows: u32,     // rows per matrix (all rows at Tensor level)
    block_rows: u32,
    block_cols: u32,
    grid_rows: u32,    // blocks per matrix along rows
    grid_cols: u32,    // blocks per matrix along columns
    row_base: u32,     // tensor row of this chunk's first row
    x_offset: u32,     // element offset of the chunk's first element in the bound f32/f16/bf16 window
    code_offset: u32,  // word offset of the chunk's first code word in the bound code window
    scale_base: u32,   // block whose scale sits at `scale_offset` in the bound scale window
    scale_offset: u32,
    count: u32,        // work items in this dispatch
    status_slot: u32,  // this chunk's pair of status words
    aux: u32,          // a kernel's own parameter (the histogram's bins / amax as f32 bits)
    zero: u32,         // always 0, unknown to the compiler (kquants.wgsl's `unfused`)
    // div_by's pairs for the fields above, so that locating a block or element never divides.
    div_cols: vec2<u32>,
    div_mat_rows: vec2<u32>,
    div_block_rows: vec2<u32>,
    div_block_cols: vec2<u32>,
    div_grid_rows: vec2<u32>,
    div_grid_cols: vec2<u32>,
}

@group(0) @binding(0) var<uniform> g: Geom;

const TWO_POW_M24: f32 = 5.9604645e-8;
const F32_MAX: f32 = 3.40282347e38;

// Linear work item of a 2-D dispatch (dispatches past 65,535 workgroups fold into y).
fn work_item(gid: vec3<u32>, nwg: vec3<u32>, wg_size: u32) -> u32 {
    return gid.x + gid.y * nwg.x * wg_size;
}

// f16 bits to f32, exactly, with integer operations (no dependence on pack/unpack rounding).
fn f16_bits_to_f32(h: u32) -> f32 {
    let sign = (h & 0x8000u) << 16u;
    let e = (h >> 10u) & 0x1fu;
    let m = h & 0x3ffu;
    if (e == 0u) {
        return bitcast<f32>(sign | bitcast<u32>(f32(m) * TWO_POW_M24));
    }
    if (e == 31u) {
        return bitcast<f32>(sign | 0x7f800000u | (m << 13u));
    }
    return bitcast<f32>(sign | ((e + 112u) << 23u) | (m << 13u));
}

// Element `i` of an array of `dtype` elements as f32 (f16 and bf16 widen exactly), given the
// u32 word that holds it: word i (f32) or word i / 2 (16-bit types).
fn widen(word: u32, i: u32, dtype: u32) -> f32 {
    if (dtype == DTYPE_F32) {
        return bitcast<f32>(word);
    }
    let half_bits = (word >> (16u * (i % 2u))) & 0xffffu;
    if (dtype == DTYPE_F16) {
        return f16_bits_to_f32(half_bits);
    }
    return bitcast<f32>(half_bits << 16u);
}

// The word of `dtype` element i.
fn word_of(i: u32, dtype: u32) -> u32 {
    return select(i / 2u, i, dtype == DTYPE_F32);
}

// NaN and infinities by their bits: compilers may assume floats are finite.
fn is_finite_bits(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// NUMERICS section 8: magnitudes below 2^-126 count as a zero of the same sign. Built from the bits
// because a GPU may treat -0.0 and subnormals as +0.0 in float arithmetic.
fn flush_subnormal(x: f32) -> f32 {
    let b = bitcast<u32>(x);
    return select(x, bitcast<f32>(b & 0x80000000u), (b & 0x7f800000u) == 0u);
}

// The high 32 bits of the 64-bit product a * b, from 16-bit halves (WGSL has no mulhi).
fn mul_hi(a: u32, b: u32) -> u32 {
    let al = a & 0xffffu;
    let ah = a >> 16u;
    let bl = b & 0xffffu;
    let bh = b >> 16u;
    let lh = al * bh;
    let hl = ah * bl;
    let mid = ((al * bl) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
    return ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

// n / d for the pair dv = divisor(d) of src/gpu/bindings.rs, exact for every n: integer
// division is emulated in tens of instructions on GPUs and runs one lane at a time on lavapipe.
// A power of two (multiplier 1) is a shift; the branch is uniform.
fn div_by(n: u32, dv: vec2<u32>) -> u32 {
    if (dv.x == 1u) {
        return n >> dv.y;
    }
    let t = mul_hi(n, dv.x);
    let sh1 = min(dv.y, 1u);
    return (t + ((n - t) >> sh1)) >> (dv.y - sh1);
}

// Where block `block` (counted from g.scale_base) lies: its first chunk row and column, and its
// height and width (edge blocks are partial).
struct BlockSpan {
    first_row: u32,
    c0: u32,
    height: u32,
    width: u32,
}

fn block_span(lb: u32) -> BlockSpan {
    let block = g.scale_base + lb;
    let t = div_by(block, g.div_grid_cols);
    let m = div_by(t, g.div_grid_rows);
    let r0 = (t - m * g.grid_rows) * g.block_rows;
    let c0 = (block - t * g.grid_cols) * g.block_cols;
    return BlockSpan(
        m * g.mat_rows + r0 - g.row_base,
        c0,
        min(g.block_rows, g.mat_rows - r0),
        min(g.block_cols, g.cols - c0),
    );
}

// Chunk-local flat index of element i (row-major within the block) of a block. One-row blocks
// (and the flat runs of whole-tensor reductions) need no division, which GPUs emulated on CPUs
// do one lane at a time.
fn block_element(span: BlockSpan, i: u32) -> u32 {
    if (span.height == 1u) {
        return span.first_row * g.cols + span.c0 + i;
    }
    return (span.first_row + i / span.width) * g.cols + span.c0 + i % span.width;
}

// Index into the bound scale window of the block holding (chunk row, col).
fn scale_index(row: u32, col: u32) -> u32 {
    let tr = g.row_base + row;
    let m = div_by(tr, g.div_mat_rows);
    let r = tr - m * g.mat_rows;
    let block = (m * g.grid_rows + div_by(r, g.div_block_rows)) * g.grid_cols
        + div_by(col, g.div_block_cols);
    return g.scale_offset + block - g.scale_base;
}
