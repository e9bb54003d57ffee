// Scales and element codes (NUMERICS sections 2-5), mirroring src/reference/param.rs and
// src/reference/values.rs. Prepended to every kernel after common.wgsl.

// Mode and value family: integer Symmetric, integer Affine, NF4 lookup or minifloat. The named
// values (KIND_*, PARAM_*, DTYPE_*, GGUF_*, OUT_*, METHOD_*) are generated from the Rust tables
// and prepended by src/gpu/shaders.rs.
override KIND: u32 = KIND_INT;
// Scale type: F32, F16, BF16, E8M0 (MX) or E4M3 (NVFP4, with a global scale).
override PARAM: u32 = PARAM_F32;
// Divisor of the raw scale: qmax (Symmetric), 2^bits - 1 (Affine), max finite (minifloat), 1 (NF4).
override QMAX: f32 = 127.0;
// Signed code range of Symmetric integers; Affine codes run over [0, QMAX_CODE].
override QMIN: i32 = -127;
override QMAX_CODE: i32 = 127;
// Minifloat format of the value: exponent and mantissa bits, bias, largest finite code, and
// OCP's emax for E8M0 scales.
override MF_EBITS: u32 = 4u;
override MF_MBITS: u32 = 3u;
override MF_BIAS: i32 = 7;
override MF_MAX: u32 = 126u;
override EMAX: i32 = 8;

// Rounds s >= 0 toward +infinity to F32, F16 or BF16 with integer operations on its bits and
// returns the exact f32 of that value; -1 when it overflows the type.
fn to_param(s: f32) -> f32 {
    let b = bitcast<u32>(s);
    if (PARAM == PARAM_F32 || b == 0u) {
        return s;
    }
    if (PARAM == PARAM_BF16) {
        var r = b;
        if ((b & 0xffffu) != 0u) {
            r = (b | 0xffffu) + 1u;
        }
        return select(bitcast<f32>(r), -1.0, (r & 0x7f800000u) == 0x7f800000u);
    }
    let e = i32((b >> 23u) & 0xffu) - 127;
    if (e >= -14) {
        var r = b;
        if ((b & 0x1fffu) != 0u) {
            r = (b | 0x1fffu) + 1u;
        }
        return select(bitcast<f32>(r), -1.0, r > 0x477fe000u);
    }
    if (e < -24) {
        return TWO_POW_M24;
    }
    // f16 subnormal range: round up to a multiple of 2^-24.
    let d = u32(-1 - e);
    let mant = (b & 0x7fffffu) | 0x800000u;
    let k = (mant + (1u << d) - 1u) >> d;
    return f32(k) * TWO_POW_M24;
}

// Magnitude of a minifloat code without its sign bit.
fn mf_magnitude(code: u32, mbits: u32, bias: i32) -> f32 {
    let e = i32(code >> mbits);
    let m = code & ((1u << mbits) - 1u);
    if (e == 0) {
        return ldexp(f32(m), 1 - bias - i32(mbits));
    }
    return ldexp(f32((1u << mbits) + m), e - bias - i32(mbits));
}

// Round to nearest even, saturating at max_code; the sign bit follows v's sign bit. One path
// for every magnitude, without branches: the significand (with its implicit bit) shifted right
// to the code's last mantissa bit, further below the normal range, where codes are multiples
// of the smallest subnormal; a carry out of the mantissa moves the exponent up, and NaN or inf
// saturate as the largest magnitudes do.
fn mf_encode(v: f32, ebits: u32, mbits: u32, bias: i32, max_code: u32) -> u32 {
    let sign = select(0u, 1u << (ebits + mbits), (bitcast<u32>(v) & 0x80000000u) != 0u);
    let b = bitcast<u32>(v) & 0x7fffffffu;
    let field = b >> 23u;
    let sig = (b & 0x7fffffu) | select(0x800000u, 0u, field == 0u);
    let e = max(i32(field), 1) - 127;
    let s = min(23u - mbits + u32(max(1 - bias - e, 0)), 25u);
    let q = sig >> s;
    let rem = sig & ((1u << s) - 1u);
    let half = 1u << (s - 1u);
    let up = (rem > half) | ((rem == half) & ((q & 1u) == 1u));
    let exponent = u32(max(e + bias - 1, 0)) << mbits;
    return sign | min(exponent + q + u32(up), max_code);
}

// The scheme's minifloat code of v: mf_encode, or for E2M1 (8 magnitudes) the number of
// rounding boundaries below |v|, which is the same code in 7 comparisons. A boundary halfway
// between two values rounds to the even code, so it counts when reached (>=) where the code
// above is even and only when passed (>) where it is odd; past 5 it is code 7 (the value 6).
fn mf_code(v: f32) -> u32 {
    if (MF_EBITS == 2u && MF_MBITS == 1u) {
        let a = abs(v);
        let m = u32(a > 0.25) + u32(a >= 0.75) + u32(a > 1.25) + u32(a >= 1.75) + u32(a > 2.5)
            + u32(a >= 3.5) + u32(a > 5.0);
        return m | ((bitcast<u32>(v) >> 28u) & 8u);
    }
    return mf_encode(v, MF_EBITS, MF_MBITS, MF_BIAS, MF_MAX);
}

fn mf_decode(code: u32, ebits: u32, mbits: u32, bias: i32) -> f32 {
    let sign_bit = 1u << (ebits + mbits);
    let v = mf_magnitude(code & (sign_bit - 1u), mbits, bias);
    return select(v, -v, (code & sign_bit) != 0u);
}

// The stored scale of a block with minimum lo and maximum hi (subnormals flushed), as an exact
// f32 (E8M0 2^-127 as its subnormal bits); -1 on overflow.
fn block_scale(lo: f32, hi: f32, global: f32) -> f32 {
    let amax = max(max(-lo, hi), 0.0);
    if (PARAM == PARAM_E8M0) {
        var k = -127;
        if (amax != 0.0) {
            k = clamp(i32((bitcast<u32>(amax) >> 23u) & 0xffu) - 127 - EMAX, -127, 127);
        }
        return bitcast<f32>(select(u32(k + 127) << 23u, 0x00400000u, k == -127));
    }
    if (PARAM == PARAM_E4M3) {
        if (global == 0.0) {
            return 0.0;
        }
        let bs = clamp(mf_encode((amax / 6.0) / global, 4u, 3u, 7, 126u), 1u, 126u);
        return mf_decode(bs, 4u, 3u, 7);
    }
    if (KIND == KIND_AFFINE) {
        return to_param((max(hi, 0.0) - min(lo, 0.0)) / QMAX);
    }
    return to_param(amax / QMAX);
}

// Affine zero point of a block.
fn zero_point(lo: f32, sp: f32) -> u32 {
    if (sp == 0.0) {
        return 0u;
    }
    return u32(clamp(round(-min(lo, 0.0) / sp), 0.0, f32(QMAX_CODE)));
}

// Exponent k of an E8M0 scale stored as the f32 2^k.
fn e8m0_exponent(sp: f32) -> i32 {
    return i32((bitcast<u32>(sp) >> 23u) & 0xffu) - 127;
}

// bitsandbytes' NF4 codebook as exact f32 hex literals (the f64 values rounded to nearest).
// A private copy: indexing a const array at run time makes some compilers copy it each time.
var<private> NF4: array<f32, 16> = array<f32, 16>(
    -0x1p+0f, -0x1.647362p-1f, -0x1.0cd66p-1f, -0x1.94654p-2f,
    -0x1.23449ap-2f, -0x1.7a6a7ep-3f, -0x1.74f0e2p-4f, 0.0f,
    0x1.45f5fep-4f, 0x1.4995c6p-3f, 0x1.f809bap-3f, 0x1.5a0674p-2f,
    0x1.c3497p-2f, 0x1.200f56p-1f, 0x1.722766p-1f, 0x1p+0f,
);

// The reference's first nearest NF4 code to v in [-1, 1] (the codebook's range, to which
// NUMERICS section 5 clamps v). Its distances |v - c| fall strictly along the sorted codebook
// to the first nearest code and then never fall again (f32 rounding of v - c keeps that order
// there: the codes are far more than an ulp of v apart), so "the next code is strictly
// nearer" holds exactly below that code, and a binary search on it finds the code in 4 steps.
// Each step's pair of codes is picked by selects at constant indices: no run-time index
// (lavapipe keeps an indexed table in memory), 4 comparisons instead of the scan's 15.
fn nf4_nearest(v: f32) -> u32 {
    let b3 = abs(v - NF4[8]) < abs(v - NF4[7]);
    let lo2 = select(NF4[3], NF4[11], b3);
    let hi2 = select(NF4[4], NF4[12], b3);
    let b2 = abs(v - hi2) < abs(v - lo2);
    let lo1 = select(select(NF4[1], NF4[5], b2), select(NF4[9], NF4[13], b2), b3);
    let hi1 = select(select(NF4[2], NF4[6], b2), select(NF4[10], NF4[14], b2), b3);
    let b1 = abs(v - hi1) < abs(v - lo1);
    let lo0 = select(
        select(select(NF4[0], NF4[2], b1), select(NF4[4], NF4[6], b1), b2),
        select(select(NF4[8], NF4[10], b1), select(NF4[12], NF4[14], b1), b2),
        b3,
    );
    let hi0 = select(
        select(select(NF4[1], NF4[3], b1), select(NF4[5], NF4[7], b1), b2),
        select(select(NF4[9], NF4[11], b1), select(NF4[13], NF4[15], b1), b2),
        b3,
    );
    let b0 = abs(v - hi0) < abs(v - lo0);
    return select(0u, 8u, b3) | select(0u, 4u, b2) | select(0u, 2u, b1) | select(0u, 1u, b0);
}

// x divided by its block's scale for a minifloat value: by 2^k (MX), by the two-level scale
// (NVFP4), or by the stored scale; +0 when there is no scale. The sign of x / sp is x's, set
// from the bits because WGSL may drop the sign of a zero.
fn mf_scaled(x: f32, sp: f32, global: f32) -> f32 {
    var v: f32;
    if (PARAM == PARAM_E8M0) {
        v = ldexp(x, -e8m0_exponent(sp));
    } else if (PARAM == PARAM_E4M3) {
        if (global == 0.0) {
            return 0.0;
        }
        v = x / (sp * global);
    } else {
        if (sp == 0.0) {
            return 0.0;
        }
        v = x / sp;
    }
    return bitcast<f32>((bitcast<u32>(v) & 0x7fffffffu) | (bitcast<u32>(x) & 0x80000000u));
}

// The code of element x (subnormals already flushed), masked to BITS.
fn encode(x: f32, sp: f32, zero: u32, global: f32) -> u32 {
    if (KIND == KIND_MINIFLOAT) {
        return mf_code(mf_scaled(x, sp, global));
    }
    if (KIND == KIND_LOOKUP) {
        var v = 0.0;
        if (sp != 0.0) {
            v = x / sp;
        }
        return nf4_nearest(clamp(v, -1.0, 1.0));
    }
    if (sp == 0.0) {
        return 0u;
    }
    // Clamping to integer bounds before rounding gives the same integer as after. Adding
    // 1.5 * 2^23 rounds half to even, leaving the integer's two's complement in the low bits.
    if (KIND == KIND_AFFINE) {
        let z = f32(zero);
        let t = clamp(x / sp, -z, f32(QMAX_CODE) - z) + ROUND_MAGIC;
        return (bitcast<u32>(t) + zero) & ((1u << BITS) - 1u);
    }
    let t = clamp(x / sp, f32(QMIN), f32(QMAX_CODE)) + ROUND_MAGIC;
    return bitcast<u32>(t) & ((1u << BITS) - 1u);
}

const ROUND_MAGIC: f32 = 12582912.0;

// Codes 4c .. 4c + 3 of a word of CPW codes (CPW a multiple of 4), LSB first.
fn codes4(word: u32, c: u32) -> vec4<u32> {
    let shifts = (vec4<u32>(0u, 1u, 2u, 3u) + 4u * c) * BITS;
    return (vec4<u32>(word) >> shifts) & vec4<u32>((1u << BITS) - 1u);
}

// The value of a code (masked to BITS): its unscaled value, then its block's scale.
fn decode(code: u32, sp: f32, zero: u32, global: f32) -> f32 {
    return scale_value(code_value(code, zero), sp, global);
}

// A code's value before scaling: the minifloat's or codebook's value, or the (shifted) integer.
fn code_value(code: u32, zero: u32) -> f32 {
    if (KIND == KIND_MINIFLOAT) {
        return mf_decode(code, MF_EBITS, MF_MBITS, MF_BIAS);
    }
    if (KIND == KIND_LOOKUP) {
        return NF4[code];
    }
    if (KIND == KIND_AFFINE) {
        return f32(i32(code) - i32(zero));
    }
    return f32(bitcast<i32>(code << (32u - BITS)) >> (32u - BITS));
}

// v (a code's value, or a sum of them times x) times its block's scale. Linear in v, so the
// GEMV applies it once per block of products.
fn scale_value(v: f32, sp: f32, global: f32) -> f32 {
    if (KIND == KIND_MINIFLOAT && PARAM == PARAM_E8M0) {
        return ldexp(v, e8m0_exponent(sp));
    }
    if (KIND == KIND_MINIFLOAT && PARAM == PARAM_E4M3) {
        return v * sp * global;
    }
    return v * sp;
}

// Whether x (subnormals flushed) lies outside its block's representable range, so that its code
// was clamped or saturated; mirrors src/reference/calibrate.rs `clipped`.
fn is_clipped(x: f32, sp: f32, zero: u32, global: f32) -> bool {
    if (KIND == KIND_MINIFLOAT) {
        return abs(mf_scaled(x, sp, global)) > mf_magnitude(MF_MAX, MF_MBITS, MF_BIAS);
    }
    if (sp == 0.0) {
        return false;
    }
    if (KIND == KIND_LOOKUP) {
        return abs(x / sp) > 1.0;
    }
    let v = round(x / sp);
    if (KIND == KIND_AFFINE) {
        let u = v + f32(zero);
        return u < 0.0 || u > f32(QMAX_CODE);
    }
    return v < f32(QMIN) || v > f32(QMAX_CODE);
}
