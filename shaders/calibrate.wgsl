// Calibrated block scales, one invocation per block (blocks of at most 256 elements, held in
// private memory); mirrors src/reference/calibrate.rs. METHOD_PERCENTILE: amax is the
// nearest-rank percentile of |x| in the block; METHOD_MSE: the lowest squared error over
// llama.cpp's grid of clipping ratios with a least-squares refit (Affine: ranges shrunk in 5%
// steps).

override METHOD: u32 = METHOD_MSE;
// The percentile in millionths (99.9 -> 999000).
override PCT_MILLIONTHS: u32 = 999000u;

@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> zeros: array<u32>;
@group(0) @binding(5) var<storage, read_write> status: array<atomic<u32>>;

var<private> xs: array<f32, 256>;

// The unscaled code value of v: a clamped integer, or a minifloat's value.
fn q_value(v: f32) -> f32 {
    if (KIND == KIND_MINIFLOAT) {
        return mf_decode(mf_code(v), MF_EBITS, MF_MBITS, MF_BIAS);
    }
    return clamp(round(v), f32(QMIN), f32(QMAX_CODE));
}

// Squared error and least-squares scale of the codes chosen at `iscale` (err < 0: no fit).
fn fit(n: u32, iscale: f32) -> vec2<f32> {
    var sxq = 0.0;
    var sqq = 0.0;
    for (var j = 0u; j < n; j++) {
        let v = q_value(xs[j] * iscale);
        sxq += xs[j] * v;
        sqq += v * v;
    }
    if (sqq == 0.0 || sxq <= 0.0) {
        return vec2<f32>(-1.0, 0.0);
    }
    let s = sxq / sqq;
    var err = 0.0;
    for (var j = 0u; j < n; j++) {
        let d = xs[j] - s * q_value(xs[j] * iscale);
        err += d * d;
    }
    return vec2<f32>(err, s);
}

// Mse for Affine: (raw scale, clipped minimum).
fn mse_affine(n: u32) -> vec2<f32> {
    let levels = f32(QMAX_CODE);
    var lo = 0.0;
    var hi = 0.0;
    for (var j = 0u; j < n; j++) {
        lo = min(lo, xs[j]);
        hi = max(hi, xs[j]);
    }
    var best = vec3<f32>(F32_MAX, 0.0, 0.0);
    for (var i = 0u; i < 10u; i++) {
        let r = 1.0 - 0.05 * f32(i);
        let lo_r = lo * r;
        let s = (hi * r - lo_r) / levels;
        if (s == 0.0) {
            continue;
        }
        let z = clamp(round(-lo_r / s), 0.0, levels);
        var err = 0.0;
        for (var j = 0u; j < n; j++) {
            let u = clamp(round(xs[j] / s) + z, 0.0, levels);
            let d = xs[j] - (u - z) * s;
            err += d * d;
        }
        if (err < best.x) {
            best = vec3<f32>(err, s, lo_r);
        }
    }
    return best.yz;
}

// Mse for Symmetric integers and minifloats: the raw scale.
fn mse_symmetric(n: u32, amax: f32) -> f32 {
    if (amax == 0.0) {
        return 0.0;
    }
    var nmax = f32(QMAX_CODE);
    if (KIND == KIND_MINIFLOAT) {
        nmax = QMAX;
    }
    var best = vec2<f32>(F32_MAX, 0.0);
    for (var i = -9; i <= 9; i++) {
        let c = fit(n, (nmax + 0.1 * f32(i)) / amax);
        if (c.x >= 0.0 && c.x < best.x) {
            best = c;
        }
    }
    return select(amax / nmax, best.y, best.y > 0.0);
}

// The nearest-rank percentile of |x| (the ceil(p n / 1e6)-th smallest), by counting.
fn percentile(n: u32) -> f32 {
    let rank = max((PCT_MILLIONTHS * n + 999999u) / 1000000u, 1u);
    for (var i = 0u; i < n; i++) {
        let a = abs(xs[i]);
        var less = 0u;
        var equal = 0u;
        for (var j = 0u; j < n; j++) {
            let b = abs(xs[j]);
            less += select(0u, 1u, b < a);
            equal += select(0u, 1u, b == a);
        }
        if (less < rank && rank <= less + equal) {
            return a;
        }
    }
    return 0.0;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let lb = work_item(gid, nwg, WG);
    if (lb >= g.count) { return; }
    let span = block_span(lb);
    let n = span.height * span.width;
    var amax = 0.0;
    for (var i = 0u; i < n; i++) {
        let flat = block_element(span, i);
        let x = load_x(g.x_offset + flat);
        if (!is_finite_bits(x)) {
            atomicMin(&status[2u * g.status_slot], flat);
        }
        xs[i] = flush_subnormal(x);
        amax = max(amax, abs(xs[i]));
    }
    var sp: f32;
    var lo_for_zero = 0.0;
    if (METHOD == METHOD_PERCENTILE) {
        let a = percentile(n);
        sp = block_scale(-a, a, 0.0);
    } else if (KIND == KIND_AFFINE) {
        let r = mse_affine(n);
        sp = to_param(r.x);
        lo_for_zero = r.y;
    } else {
        sp = to_param(mse_symmetric(n, amax));
    }
    if (sp < 0.0) {
        atomicMin(&status[2u * g.status_slot + 1u], lb);
        sp = 0.0;
    }
    let i = g.scale_offset + lb;
    out[i] = sp;
    if (KIND == KIND_AFFINE) {
        zeros[i] = zero_point(lo_for_zero, sp);
    }
}
