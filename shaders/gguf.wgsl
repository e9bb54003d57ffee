// GGUF block types (NUMERICS section 7) but the K-quants, byte-exact with llama.cpp's
// quantize_row_*_ref, mirroring src/reference/gguf.rs: one invocation per group of GROUP blocks
// whose bytes end on a word boundary, so each invocation owns whole u32 words (no atomics, no
// races). C semantics: roundf rounds halves away from zero, casts truncate. After common.wgsl
// and gguf_blocks.wgsl.

// [first non-finite element (chunk-local)].
@group(0) @binding(2) var<storage, read_write> status: array<atomic<u32>>;
// The block bytes as words.
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
// MXFP4: per biased f32 exponent, the mantissa distance below 2 at which log2 rounds up.
@group(0) @binding(4) var<storage, read> log2_round_up: array<u32>;

var<private> xs: array<f32, 32>;
// The group's bytes; 4 MXFP4 blocks (68 bytes) is the most.
var<private> words: array<u32, 17>;

fn put_byte(i: u32, v: u32) {
    words[i / 4u] |= (v & 0xffu) << (8u * (i % 4u));
}

fn put_f16(i: u32, x: f32) {
    let h = f16_bits_rne(x);
    put_byte(i, h);
    put_byte(i + 1u, h >> 8u);
}

// roundf: halves away from zero, exactly.
fn round_away(v: f32) -> f32 {
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

// Packs element j's low nibble (j < 16) or high nibble (j >= 16) of the 16 bytes at `at`.
fn put_nibbles(at: u32, q: ptr<function, array<u32, 32>>) {
    for (var j = 0u; j < 16u; j++) {
        put_byte(at + j, ((*q)[j] & 0xfu) | (((*q)[j + 16u] & 0xfu) << 4u));
    }
}

fn put_high_bits(at: u32, q: ptr<function, array<u32, 32>>) {
    var qh = 0u;
    for (var j = 0u; j < 32u; j++) {
        qh |= (((*q)[j] >> 4u) & 1u) << j;
    }
    for (var k = 0u; k < 4u; k++) {
        put_byte(at + k, qh >> (8u * k));
    }
}

// Quantizes the block whose 32 elements are in `xs` into the bytes at `at`.
fn quantize_block(at: u32) {
    var q: array<u32, 32>;
    var amax = 0.0;
    var smax = 0.0;
    var lo = xs[0];
    var hi = xs[0];
    for (var j = 0u; j < 32u; j++) {
        let v = xs[j];
        if (abs(v) > abs(smax)) {
            smax = v;
        }
        amax = max(amax, abs(v));
        lo = min(lo, v);
        hi = max(hi, v);
    }
    if (GGUF_TYPE == GGUF_Q8_0) {
        let d = amax / 127.0;
        let id = inverse(d);
        put_f16(at, d);
        for (var j = 0u; j < 32u; j++) {
            put_byte(at + 2u + j, bitcast<u32>(i32(round_away(xs[j] * id))));
        }
    } else if (GGUF_TYPE == GGUF_Q4_0 || GGUF_TYPE == GGUF_Q5_0) {
        let five = GGUF_TYPE == GGUF_Q5_0;
        let d = smax / select(-8.0, -16.0, five);
        let id = inverse(d);
        let offset = select(8.5, 16.5, five);
        let top = select(15, 31, five);
        for (var j = 0u; j < 32u; j++) {
            q[j] = u32(clamp(i32(trunc(xs[j] * id + offset)), 0, top));
        }
        put_f16(at, d);
        if (five) {
            put_high_bits(at + 2u, &q);
            put_nibbles(at + 6u, &q);
        } else {
            put_nibbles(at + 2u, &q);
        }
    } else if (GGUF_TYPE == GGUF_Q4_1 || GGUF_TYPE == GGUF_Q5_1) {
        let five = GGUF_TYPE == GGUF_Q5_1;
        let top = select(15, 31, five);
        let d = (hi - lo) / f32(top);
        let id = inverse(d);
        for (var j = 0u; j < 32u; j++) {
            q[j] = u32(clamp(i32(trunc((xs[j] - lo) * id + 0.5)), 0, top));
        }
        put_f16(at, d);
        put_f16(at + 2u, lo);
        if (five) {
            put_high_bits(at + 4u, &q);
            put_nibbles(at + 8u, &q);
        } else {
            put_nibbles(at + 4u, &q);
        }
    } else {
        var e = 0u;
        if (amax > 0.0) {
            e = u32(floor_log2f(amax) - 2 + 127) & 0xffu;
        }
        let d = e8m0_to_f32_half(e);
        for (var j = 0u; j < 32u; j++) {
            var best = 0u;
            for (var i = 1u; i < 16u; i++) {
                if (abs(KVALUES[i] * d - xs[j]) < abs(KVALUES[best] * d - xs[j])) {
                    best = i;
                }
            }
            q[j] = best;
        }
        put_byte(at, e);
        put_nibbles(at + 1u, &q);
    }
}

@compute @workgroup_size(WG)
fn quantize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let grp = work_item(gid, nwg, WG);
    if (grp >= g.count) { return; }
    for (var w = 0u; w < 17u; w++) {
        words[w] = 0u;
    }
    // g.rows: blocks in this chunk.
    for (var k = 0u; k < GROUP; k++) {
        let blk = grp * GROUP + k;
        if (blk >= g.rows) {
            break;
        }
        for (var j = 0u; j < 32u; j++) {
            let x = load_x(g.x_offset + blk * 32u + j);
            if (!is_finite_bits(x)) {
                atomicMin(&status[0], blk * 32u + j);
            }
            xs[j] = x;
        }
        quantize_block(k * BLOCK_BYTES);
    }
    let per_group = GROUP * BLOCK_BYTES / 4u;
    for (var w = 0u; w < per_group; w++) {
        out[g.code_offset + grp * per_group + w] = words[w];
    }
}
