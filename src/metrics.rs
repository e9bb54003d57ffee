//! How close a restored tensor is to the original.

/// Signal-to-quantization-noise ratio in dB: 20 log10(||x|| / ||x - x'||).
pub fn sqnr_db(x: &[f32], y: &[f32]) -> f64 {
    let (mut sig, mut noise) = (0.0f64, 0.0f64);
    for (&a, &b) in x.iter().zip(y) {
        sig += (a as f64).powi(2);
        noise += (a as f64 - b as f64).powi(2);
    }
    if noise == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (sig / noise).log10()
    }
}
