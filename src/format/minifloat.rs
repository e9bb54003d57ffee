//! OCP minifloats (NUMERICS section 3): E4M3 (`float8_e4m3fn`), E5M2 (`float8_e5m2`), E2M1
//! (`float4_e2m1fn`). Encoding is round-to-nearest-even with saturation to +-max, done the plain
//! way: find the nearest representable magnitude among all codes.

/// A minifloat format: exponent and mantissa widths, bias, largest finite code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minifloat {
    pub exp_bits: u32,
    pub man_bits: u32,
    pub bias: i32,
    /// Largest finite magnitude code (sign bit clear).
    pub max_code: u32,
}

pub const E4M3: Minifloat = Minifloat {
    exp_bits: 4,
    man_bits: 3,
    bias: 7,
    max_code: 0x7E,
};
pub const E5M2: Minifloat = Minifloat {
    exp_bits: 5,
    man_bits: 2,
    bias: 15,
    max_code: 0x7B,
};
pub const E2M1: Minifloat = Minifloat {
    exp_bits: 2,
    man_bits: 1,
    bias: 1,
    max_code: 0x7,
};

impl Minifloat {
    /// Total bits, sign included.
    pub const fn bits(&self) -> u32 {
        1 + self.exp_bits + self.man_bits
    }

    fn sign_bit(&self) -> u32 {
        1 << (self.exp_bits + self.man_bits)
    }

    /// The exponent of the largest power of two below max (OCP's emax: 8, 15, 2).
    pub fn emax(&self) -> i32 {
        (self.max_code >> self.man_bits) as i32 - self.bias
    }

    /// Magnitude of a code without its sign bit.
    fn magnitude(&self, code: u32) -> f32 {
        let e = (code >> self.man_bits) as i32;
        let m = (code & ((1 << self.man_bits) - 1)) as f32;
        let frac = m / (1 << self.man_bits) as f32;
        if e == 0 {
            frac * 2f32.powi(1 - self.bias)
        } else {
            (1.0 + frac) * 2f32.powi(e - self.bias)
        }
    }

    /// Largest finite value (448, 57344, 6).
    pub fn max_finite(&self) -> f32 {
        self.magnitude(self.max_code)
    }

    /// The value of a code.
    pub fn decode(&self, code: u32) -> f32 {
        let v = self.magnitude(code & (self.sign_bit() - 1));
        if code & self.sign_bit() != 0 {
            -v
        } else {
            v
        }
    }

    /// Round to nearest, ties to the even code, saturating beyond max; the sign bit follows the
    /// sign of `v` (so -0 keeps it). `v` must not be NaN.
    pub fn encode(&self, v: f32) -> u32 {
        let a = v.abs();
        // Codes 0..=max_code are increasing in magnitude: binary search for the pair around a.
        let (mut lo, mut hi) = (0u32, self.max_code);
        if a >= self.magnitude(hi) {
            lo = hi;
        } else {
            while hi - lo > 1 {
                let mid = (lo + hi) / 2;
                if self.magnitude(mid) <= a {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            // f64 differences of f32 values are exact.
            let (a, l, h) = (
                a as f64,
                self.magnitude(lo) as f64,
                self.magnitude(hi) as f64,
            );
            let (dl, dh) = (a - l, h - a);
            if dh < dl || (dh == dl && hi % 2 == 0) {
                lo = hi;
            }
        }
        if v.is_sign_negative() {
            lo | self.sign_bit()
        } else {
            lo
        }
    }
}
