//! The GGUF block reference against ggml's own: `tests/oracle/kquants.c`, compiled here and
//! linked against llama.cpp's `libggml-base.a` (the library llama-quantize quantizes with; CI
//! builds it, see `tests/llama_cpp.rs`), quantizes and dequantizes the same super-blocks with
//! every type, K-quants and 32-element types, and every byte and every decoded value must be
//! equal, and so must the GPU kernels' bytes: random blocks at many scales and adversarial ones
//! (zeros of both signs, all equal, one outlier, ties, magnitudes from 1e-30 to 1e15, and
//! blocks a few ulps from a random one, where the searches' decisions flip).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use wgquant::format::{GgufType, QK_K};
use wgquant::reference::gguf::{dequantize, quantize};

/// Builds the harness against llama.cpp's build in `$WGQUANT_LLAMA_CPP/..`.
fn harness(dir: &Path) -> Option<PathBuf> {
    let bin = common::required_path("WGQUANT_LLAMA_CPP", "llama.cpp's build/bin directory")?;
    let lib = bin.join("../ggml/src/libggml-base.a");
    let exe = dir.join("kquants");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/kquants.c");
    let out = Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&exe)
        .arg(&src)
        .arg(&lib)
        .args(["-lstdc++", "-lm", "-lpthread", "-fopenmp"])
        .output()
        .expect("a C compiler (cc) for the ggml oracle");
    assert!(
        out.status.success(),
        "compiling {}: {}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(exe)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn uniform(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform().max(1e-7), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

/// The test's super-blocks, concatenated.
fn blocks() -> Vec<f32> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::new();
    let mut block = |f: &mut dyn FnMut(usize, &mut Rng) -> f32, rng: &mut Rng| {
        out.extend((0..QK_K).map(|i| f(i, rng)));
    };
    for scale in [1e-30f32, 1e-6, 1e-3, 0.02, 1.0, 37.0, 1e4, 1e11, 1e15] {
        for _ in 0..40 {
            block(&mut |_, r| r.normal() * scale, &mut rng);
        }
        // Sub-blocks of very different sizes, one-signed blocks, uniform noise.
        block(
            &mut |i, r| r.normal() * scale * (1 + i / 32) as f32,
            &mut rng,
        );
        block(
            &mut |i, r| r.normal() * scale / (1 + i / 16) as f32,
            &mut rng,
        );
        block(&mut |_, r| r.normal().abs() * scale, &mut rng);
        block(&mut |_, r| -r.normal().abs() * scale, &mut rng);
        block(&mut |_, r| (r.uniform() - 0.5) * scale, &mut rng);
    }
    block(&mut |_, _| 0.0, &mut rng);
    // Signed zeros: where ggml keeps the first zero as a block's minimum, maximum or
    // largest magnitude, its sign reaches the scale bytes.
    block(&mut |_, _| -0.0, &mut rng);
    block(&mut |i, _| [-0.0, 0.0][i % 2], &mut rng);
    block(
        &mut |i, _| match i % 32 {
            0 => [-0.0, 0.0][i / 32 % 2],
            1 => [0.0, -0.0][i / 32 % 2],
            j => j as f32 * if i / 64 % 2 == 0 { 0.1 } else { -0.1 },
        },
        &mut rng,
    );
    block(&mut |_, _| 0.5, &mut rng);
    block(&mut |_, _| -3.0, &mut rng);
    block(&mut |i, _| if i == 77 { 100.0 } else { 0.0 }, &mut rng);
    block(&mut |i, r| if i == 3 { -1e3 } else { r.normal() }, &mut rng);
    block(&mut |i, _| (i % 16) as f32 - 8.0, &mut rng);
    block(&mut |i, _| (i % 7) as f32 * 0.5, &mut rng);
    block(&mut |i, _| if i % 32 == 0 { 1.0 } else { 0.0 }, &mut rng);
    // A few ulps from a random block: the scale searches compare errors of nearby candidates.
    let base: Vec<f32> = (0..QK_K).map(|_| rng.normal()).collect();
    for _ in 0..64 {
        let mut b = base.clone();
        for _ in 0..1 + rng.next() % 8 {
            let i = (rng.next() % QK_K as u64) as usize;
            let ulps = (rng.next() % 7) as i32 - 3;
            b[i] = f32::from_bits((b[i].to_bits() as i32 + ulps) as u32);
        }
        out.extend(b);
    }
    out
}

/// The largest |x| that keeps ggml's arithmetic finite for `ty`, with a margin: no f32 product
/// of the scale search overflows (Q3_K compares `slx * slx * suml2`, up to
/// (16 * 4 * |x|^3)^2 * 16 * 16 * |x|^2; Q6_K `sumlx * sumlx`, up to (16 * 32 * |x|^3)^2; the
/// others weigh errors by up to |x|^3), and the f16 `d` (the largest sub-block scale, about
/// |x| / nmax, over its 6-bit or 4-bit divisor) stays below f16's largest value.
fn exact_range(ty: GgufType) -> f32 {
    if !ty.is_k_quant() {
        // The f16 scale: |x| over 8 or more, or a range of up to 2 |x| over 15 or more.
        return 65504.0 * 4.0;
    }
    let products = match ty {
        GgufType::Q3K => (f32::MAX / (4096.0 * 256.0)).powf(0.125),
        GgufType::Q6K => (f32::MAX.sqrt() / 512.0).cbrt(),
        _ => f32::MAX.cbrt(),
    };
    let (divisor, nmax) = match ty {
        GgufType::Q2K => (15.0, 3.0),
        GgufType::Q3K => (32.0, 4.0),
        GgufType::Q4K => (63.0, 15.0),
        GgufType::Q5K => (63.0, 31.0),
        _ => (128.0, 32.0),
    };
    products.min(65504.0 * divisor * nmax / 4.0)
}

#[test]
fn gguf_blocks_equal_ggml_byte_for_byte() {
    let dir = common::temp_dir("kquants-oracle");
    let Some(exe) = harness(&dir) else {
        return;
    };
    let x = blocks();
    let input = dir.join("x.f32");
    std::fs::write(&input, bytemuck::cast_slice(&x)).unwrap();
    let shape = [x.len() / QK_K, QK_K];
    for ty in GgufType::ALL {
        let per = ty.block_elements();
        let (blocks_path, values_path) = (dir.join("blocks"), dir.join("values"));
        // ggml's spelling: q4_K.
        let ggml_name = ty.name().to_ascii_lowercase().replace("_k", "_K");
        let out = Command::new(&exe)
            .arg(&ggml_name)
            .args([&input, &blocks_path, &values_path])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = std::fs::read(&blocks_path).unwrap();
        let ours = quantize(&x, &shape, ty).unwrap().data;
        assert_eq!(ours.len(), theirs.len(), "{ty}");
        let bad: Vec<usize> = (0..x.len() / per)
            .filter(|&b| {
                let r = b * ty.block_bytes()..(b + 1) * ty.block_bytes();
                ours[r.clone()] != theirs[r]
            })
            .collect();
        assert!(
            bad.is_empty(),
            "{ty}: {} of {} blocks differ from ggml's, first {:?}",
            bad.len(),
            x.len() / per,
            &bad[..bad.len().min(8)]
        );
        // The GPU kernel on the same blocks: equal on lavapipe, at most 1% of super-blocks
        // apart elsewhere (NUMERICS section 7). Beyond `exact_range`, ggml computes with
        // infinities and NaNs, which WGSL lets a GPU assume away: those super-blocks are
        // counted, not compared.
        let gpu = common::ctx().quantize_gguf(&x, &shape, ty).unwrap();
        let (mut gpu_bad, mut overflowing) = (0, 0);
        for (i, (a, b)) in gpu
            .data
            .chunks(ty.block_bytes())
            .zip(theirs.chunks(ty.block_bytes()))
            .enumerate()
        {
            let amax = x[i * per..(i + 1) * per]
                .iter()
                .fold(0.0f32, |m, v| m.max(v.abs()));
            if amax > exact_range(ty) {
                overflowing += usize::from(a != b);
            } else if a != b {
                gpu_bad += 1;
                assert!(
                    !common::exact_adapter(),
                    "{ty}: GPU block {i} differs from ggml's"
                );
            }
        }
        eprintln!(
            "{ty}: {gpu_bad} GPU blocks differ from ggml's where |x| <= {:e}, {overflowing} beyond",
            exact_range(ty)
        );
        assert!(gpu_bad * 100 <= x.len() / per, "{ty}: {gpu_bad} differ");
        let values: Vec<f32> = bytemuck::pod_collect_to_vec(&std::fs::read(&values_path).unwrap());
        let decoded =
            dequantize(&wgquant::GgufTensor::new(ty, shape.to_vec(), theirs).unwrap()).unwrap();
        assert!(
            decoded
                .iter()
                .zip(&values)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{ty}: dequantized values differ from ggml's"
        );
        eprintln!("{ty}: {} blocks equal to ggml's", x.len() / per);
    }
}
