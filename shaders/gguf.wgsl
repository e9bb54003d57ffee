// GGUF block types (NUMERICS section 7) but the K-quants, byte-exact with llama.cpp's
// quantize_row_*_ref, mirroring src/reference/gguf.rs. One invocation per group of GROUP
// blocks whose bytes end on a word boundary, so each invocation owns whole u32 words (no
// atomics, no races). Each block is loaded once as 8 vec4 into registers (constant indices
// only: lavapipe keeps a run-time indexed array in memory), and its bytes go out through a
// bit stream of whole words, so no byte is placed by a run-time index either. C semantics:
// roundf rounds halves away from zero, casts truncate. After common.wgsl, src_vec4.wgsl and
// gguf_blocks.wgsl.

// [first non-finite element (chunk-local)].
@group(0) @binding(2) var<storage, read_write> status: array<atomic<u32>>;
// The block bytes as words.
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
// MXFP4: per biased f32 exponent, the mantissa distance below 2 at which log2 rounds up.
@group(0) @binding(4) var<storage, read> log2_round_up: array<u32>;

// The output stream: `pend` holds the `pending` (< 32) low bits not yet stored, `next` the word
// they go to.
var<private> pend: u32;
var<private> pending: u32;
var<private> next: u32;

// Appends the n low bits of `bits` (n = 8, 16 or 32; bits < 2^n) to the stream.
fn put(bits: u32, n: u32) {
    pend |= bits << pending;
    if (pending + n < 32u) {
        pending += n;
        return;
    }
    out[next] = pend;
    next += 1u;
    let used = 32u - pending;
    pend = select(bits >> used, 0u, used == 32u);
    pending = pending + n - 32u;
}


// roundf: halves away from zero, exactly.
fn round_away(v: vec4<f32>) -> vec4<f32> {
    let a = abs(v);
    let f = floor(a);
    return sign(v) * (f + floor(2.0 * (a - f)));
}

fn inverse(d: f32) -> f32 {
    return select(1.0 / d, 0.0, d == 0.0);
}

// floorf(log2f(a)) for a correctly rounded log2f, a > 0 normal.
fn floor_log2f(a: f32) -> i32 {
    let b = bitcast<u32>(a);
    let biased = (b >> 23u) & 0xffu;
    let n = 0x800000u - (b & 0x7fffffu);
    return i32(biased) - 127 + select(0, 1, n <= log2_round_up[biased]);
}

// MXFP4's code of each lane of x, as gguf-py's scan keeps the first of the 16 values k d
// nearest x: the magnitude's code is the number of steps along 0, 1, 2, 3, 4, 6, 8, 12 (times
// d) to a strictly nearer value (the distances fall, then rise, and each difference here is
// exact), computed with the scan's own arithmetic; a negative x takes the code 8 above, but
// for 0, which the scan finds first at code 0.
fn mxfp4_codes(x: vec4<f32>, d: f32) -> vec4<u32> {
    let a = abs(x);
    let d0 = a;
    let d1 = abs(d - a);
    let d2 = abs(2.0 * d - a);
    let d3 = abs(3.0 * d - a);
    let d4 = abs(4.0 * d - a);
    let d5 = abs(6.0 * d - a);
    let d6 = abs(8.0 * d - a);
    let d7 = abs(12.0 * d - a);
    let one = vec4<u32>(1u);
    let zero = vec4<u32>(0u);
    let m = select(zero, one, d1 < d0) + select(zero, one, d2 < d1) + select(zero, one, d3 < d2)
        + select(zero, one, d4 < d3) + select(zero, one, d5 < d4) + select(zero, one, d6 < d5)
        + select(zero, one, d7 < d6);
    return m | select(zero, vec4<u32>(8u), (x < vec4<f32>(0.0)) & (m > zero));
}

// How a block's elements become codes: its scale d, 1 / d, and Q4_1 and Q5_1's minimum.
struct Coding {
    d: f32,
    id: f32,
    lo: f32,
}

// The codes of four elements, computed from the registers each time they are needed (a codes
// array would live in memory on lavapipe).
fn code4(x: vec4<f32>, c: Coding) -> vec4<u32> {
    if (GGUF_TYPE == GGUF_Q8_0) {
        return bitcast<vec4<u32>>(vec4<i32>(round_away(x * c.id)));
    }
    if (GGUF_TYPE == GGUF_MXFP4) {
        return mxfp4_codes(x, c.d);
    }
    let five = GGUF_TYPE == GGUF_Q5_0 || GGUF_TYPE == GGUF_Q5_1;
    let top = vec4<i32>(select(15, 31, five));
    if (GGUF_TYPE == GGUF_Q4_1 || GGUF_TYPE == GGUF_Q5_1) {
        return vec4<u32>(clamp(vec4<i32>(trunc((x - c.lo) * c.id + 0.5)), vec4<i32>(0), top));
    }
    let offset = select(8.5, 16.5, five);
    return vec4<u32>(clamp(vec4<i32>(trunc(x * c.id + offset)), vec4<i32>(0), top));
}

// The 16 nibble bytes of a 32-element block: element j's code low (j < 16), j + 16's high.
fn put_nibbles(v: ptr<function, array<vec4<f32>, 8>>, c: Coding) {
    for (var w = 0u; w < 4u; w++) {
        let low = code4((*v)[w], c) & vec4<u32>(0xfu);
        let high = code4((*v)[w + 4u], c) & vec4<u32>(0xfu);
        put(byte_word(low | (high << vec4<u32>(4u))), 32u);
    }
}

// Bit 4 of each code, element j's at bit j.
fn put_high_bits(v: ptr<function, array<vec4<f32>, 8>>, c: Coding) {
    var qh = 0u;
    for (var k = 0u; k < 8u; k++) {
        let h = ((code4((*v)[k], c) >> vec4<u32>(4u)) & vec4<u32>(1u)) << (vec4<u32>(0u, 1u, 2u, 3u) + 4u * k);
        qh |= h.x | h.y | h.z | h.w;
    }
    put(qh, 32u);
}

// The first element of v equal to `want` (in magnitude where `magnitude`), as ggml's loops
// keep it, found with constant indices.
fn first_equal(v: ptr<function, array<vec4<f32>, 8>>, want: f32, magnitude: bool) -> f32 {
    var first = 0.0;
    for (var k = 8u; k > 0u; k--) {
        let x = (*v)[k - 1u];
        let hit = select(x, abs(x), magnitude) == vec4<f32>(want);
        first = select(first, x.w, hit.w);
        first = select(first, x.z, hit.z);
        first = select(first, x.y, hit.y);
        first = select(first, x.x, hit.x);
    }
    return first;
}

// Quantizes the 32 elements in v (finite) to the stream.
fn quantize_block(v: ptr<function, array<vec4<f32>, 8>>, amax: f32) {
    var c = Coding(0.0, 0.0, 0.0);
    if (GGUF_TYPE == GGUF_Q8_0) {
        c.d = amax / 127.0;
        c.id = inverse(c.d);
        put(f16_bits_rne(c.d), 16u);
        for (var k = 0u; k < 8u; k++) {
            put(byte_word(code4((*v)[k], c)), 32u);
        }
        return;
    }
    if (GGUF_TYPE == GGUF_MXFP4) {
        var e = 0u;
        if (amax > 0.0) {
            e = u32(floor_log2f(amax) - 2 + 127) & 0xffu;
        }
        c.d = e8m0_to_f32_half(e);
        put(e, 8u);
        put_nibbles(v, c);
        return;
    }
    let five = GGUF_TYPE == GGUF_Q5_0 || GGUF_TYPE == GGUF_Q5_1;
    if (GGUF_TYPE == GGUF_Q4_0 || GGUF_TYPE == GGUF_Q5_0) {
        // The first element of largest magnitude, with its sign (+0 if all are zeros).
        var smax = 0.0;
        if (amax > 0.0) {
            smax = first_equal(v, amax, true);
        }
        c.d = smax / select(-8.0, -16.0, five);
        c.id = inverse(c.d);
        put(f16_bits_rne(c.d), 16u);
    } else {
        var lo4 = (*v)[0];
        var hi4 = (*v)[0];
        for (var k = 1u; k < 8u; k++) {
            lo4 = min(lo4, (*v)[k]);
            hi4 = max(hi4, (*v)[k]);
        }
        var lo = min(min(lo4.x, lo4.y), min(lo4.z, lo4.w));
        var hi = max(max(hi4.x, hi4.y), max(hi4.z, hi4.w));
        // ggml keeps the first zero: its sign reaches the bytes.
        if (lo == 0.0) {
            lo = first_equal(v, 0.0, false);
        }
        if (hi == 0.0) {
            hi = first_equal(v, 0.0, false);
        }
        c.d = (hi - lo) / select(15.0, 31.0, five);
        c.id = inverse(c.d);
        c.lo = lo;
        put(f16_bits_rne(c.d), 16u);
        put(f16_bits_rne(lo), 16u);
    }
    if (five) {
        put_high_bits(v, c);
    }
    put_nibbles(v, c);
}

// Loads block blk of the chunk (zeros past its g.rows blocks), reports its first non-finite
// element, and quantizes it to the stream.
fn quantize_at(blk: u32) {
    var v: array<vec4<f32>, 8>;
    var top = 0u;
    if (blk < g.rows) {
        let at = (g.x_offset + blk * 32u) / select(8u, 4u, INPUT == DTYPE_F32);
        for (var k = 0u; k < 8u; k++) {
            let bits = load4(at, k);
            v[k] = bitcast<vec4<f32>>(bits);
            let m = bits & vec4<u32>(0x7fffffffu);
            top = max(top, max(max(m.x, m.y), max(m.z, m.w)));
        }
    }
    if (top >= 0x7f800000u) {
        // Rare: report the block's first NaN or infinity, with constant indices only.
        var bad = 0xffffffffu;
        for (var k = 0u; k < 8u; k++) {
            let i = select(vec4<u32>(0xffffffffu), vec4<u32>(0u, 1u, 2u, 3u) + 4u * k, !finite4(v[k]));
            bad = min(bad, min(min(i.x, i.y), min(i.z, i.w)));
        }
        atomicMin(&status[0], blk * 32u + bad);
        top = 0u;
    }
    quantize_block(&v, bitcast<f32>(top));
}

@compute @workgroup_size(WG)
fn quantize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let grp = work_item(gid, nwg, WG);
    if (grp >= g.count) { return; }
    pend = 0u;
    pending = 0u;
    next = g.code_offset + grp * (GROUP * BLOCK_BYTES / 4u);
    // GROUP (1, 2 or 4) blocks written out straight, so that the stream's position after each
    // field is a constant and every `put` folds to a plain OR or a store. A last group's
    // missing blocks are quantized zeros, past the tensor's bytes.
    let first = grp * GROUP;
    quantize_at(first);
    if (GROUP > 1u) {
        quantize_at(first + 1u);
    }
    if (GROUP > 2u) {
        quantize_at(first + 2u);
        quantize_at(first + 3u);
    }
}
