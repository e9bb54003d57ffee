//! The override constants of each kernel for a scheme, a GGUF type or an input dtype.

use super::{CalibrateMethod, DType, ElementKind, KernelEnum, GEMV_PART, GEMV_X_VEC4S};
use crate::calibration::Calibration;
use crate::format::minifloat::E4M3;
use crate::format::GgufType;
use crate::scheme::{QuantLevel, QuantParam, QuantScheme, QuantStore};

/// Override constants of one pipeline, as (name, value) pairs.
pub type Constants = Vec<(&'static str, f64)>;

/// What a reduction dispatch writes (`OUT` in `shaders/reduce.wgsl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReduceOut {
    /// (min, max) pairs: pass 1 of a whole-tensor reduction.
    Range,
    /// Stored scales (and zero points).
    Scale,
    /// NVFP4's global scale.
    Global,
}

/// The constants describing the scheme's value, mode, param and store.
fn scheme_constants(scheme: &QuantScheme) -> Constants {
    let bits = scheme.value.bits();
    let levels = ((1u32 << bits) - 1) as f64;
    let fmt = scheme.value.minifloat().unwrap_or(E4M3);
    let (a, b) = scheme.value.int_range().unwrap_or((0, 0));
    let kind = ElementKind::of(scheme);
    let (qmax, qmin, qmax_code) = match kind {
        ElementKind::Minifloat => (fmt.max_finite() as f64, 0.0, 0.0),
        ElementKind::Lookup => (1.0, 0.0, 15.0),
        ElementKind::Affine => (levels, 0.0, levels),
        ElementKind::Int => ((b - a) as f64 / 2.0, a as f64, b as f64),
    };
    vec![
        ("BITS", bits as f64),
        ("CPW", (32 / bits) as f64),
        ("NATIVE", (scheme.store == QuantStore::Native) as u32 as f64),
        ("KIND", kind.code()),
        ("PARAM", scheme.param.code()),
        ("QMAX", qmax),
        ("QMIN", qmin),
        ("QMAX_CODE", qmax_code),
        ("MF_EBITS", fmt.exp_bits as f64),
        ("MF_MBITS", fmt.man_bits as f64),
        ("MF_BIAS", fmt.bias as f64),
        ("MF_MAX", fmt.max_code as f64),
        ("EMAX", fmt.emax() as f64),
    ]
}

/// Blocks of at most this many elements are reduced by one invocation each, larger ones by a
/// whole workgroup.
pub const PER_THREAD_MAX: usize = 256;

/// Constants of the reduction. Only `Scale` depends on the scheme; the others just find ranges.
pub fn reduce_constants(
    scheme: &QuantScheme,
    input: DType,
    out: ReduceOut,
    per_thread: bool,
) -> Constants {
    let mut c = match out {
        ReduceOut::Scale => scheme_constants(scheme),
        ReduceOut::Range | ReduceOut::Global => Vec::new(),
    };
    c.extend([
        ("INPUT", input.code()),
        ("OUT", out.code()),
        ("PER_THREAD", per_thread as u32 as f64),
    ]);
    c
}

/// Whether `RangeVec4` takes pass 1 of a whole-tensor reduction of `input` with rows of `cols`:
/// rows of whole 16-byte loads (so chunks, which start on rows, are too).
pub fn range_vec4_applies(cols: usize, input: DType) -> bool {
    cols.is_multiple_of(16 / input.bytes())
}

/// Constants of `RangeVec4`: the input type and the lanes walk.
pub fn range_vec4_constants(input: DType, interleaved: bool) -> Constants {
    vec![
        ("INPUT", input.code()),
        ("INTERLEAVED", interleaved as u8 as f64),
    ]
}

/// Constants of the quantize kernel; `count_clipped` counts elements outside the range.
pub fn quantize_constants(scheme: &QuantScheme, input: DType, count_clipped: bool) -> Constants {
    let mut c = scheme_constants(scheme);
    c.extend([
        ("INPUT", input.code()),
        ("COUNT_CLIPPED", count_clipped as u32 as f64),
    ]);
    c
}

/// Constants of the one-pass kernels; `tensor_scale`: the tensor's scale is given (Tensor level,
/// blocks that are runs of the flat chunk).
pub fn quantize_blocks_constants(
    scheme: &QuantScheme,
    input: DType,
    tensor_scale: bool,
) -> Constants {
    let mut c = scheme_constants(scheme);
    c.push(("INPUT", input.code()));
    c.push(("TENSOR_SCALE", tensor_scale as u8 as f64));
    c
}

/// Constants of `QuantizeVec4` for blocks of `block_cols` elements of `input`.
pub fn quantize_vec4_constants(
    scheme: &QuantScheme,
    input: DType,
    block_cols: usize,
    tensor_scale: bool,
) -> Constants {
    let mut c = quantize_blocks_constants(scheme, input, tensor_scale);
    c.push(("VEC4S", (block_cols / 4) as f64));
    c
}

/// The register array of `QuantizeVec4` for blocks of `block_cols` elements: their vec4 count
/// rounded up to a power of two.
pub fn quantize_vec4_held(block_cols: usize) -> u32 {
    (block_cols / 4).max(1).next_power_of_two() as u32
}

/// Largest block `QuantizeVec4` holds in registers, in elements.
pub const VEC4_BLOCK_MAX: usize = 64;

/// Whether `QuantizeVec4` takes a tensor of `layout` and `input` (for a scheme `QuantizeBlocks`
/// takes): blocks of whole 16-byte loads (4 f32 or 8 f16/bf16), at most [`VEC4_BLOCK_MAX`]
/// elements, that tile every row exactly.
pub fn quantize_vec4_applies(layout: &crate::layout::Layout, input: DType) -> bool {
    let b = layout.block_cols;
    layout.block_rows == 1
        && b.is_multiple_of(16 / input.bytes())
        && b <= VEC4_BLOCK_MAX
        && layout.cols.is_multiple_of(b)
}

/// Whether the one-pass `QuantizeBlocks` kernel handles `scheme` with MinMax: 1-D blocks of
/// whole code words in the U32 store, one scale per block (not NVFP4).
pub fn quantize_blocks_applies(scheme: &QuantScheme) -> bool {
    let QuantLevel::Block(b) = scheme.level else {
        return false;
    };
    let (rows, cols) = b.rows_cols();
    rows == 1 && cols % scheme.codes_per_word() == 0 && scheme.store == QuantStore::U32
}

/// Whether a Tensor-level MinMax quantize of `layout` encodes in the one-pass kernels after its
/// whole-tensor reduction (`TENSOR_SCALE`): the U32 store with rows of whole words, so that a
/// chunk's codes are one flat run (NVFP4's two-level scales excepted).
pub fn quantize_flat_applies(scheme: &QuantScheme, layout: &crate::layout::Layout) -> bool {
    scheme.level == QuantLevel::Tensor
        && scheme.store == QuantStore::U32
        && scheme.param != QuantParam::E4M3
        && layout.cols.is_multiple_of(scheme.codes_per_word())
}

/// The run lengths `QuantizeVec4` takes a flat chunk in at Tensor level, longest first: at most
/// 32 elements (64-element runs took 27% more instructions on lavapipe, and more registers
/// anywhere).
pub const FLAT_VEC4_RUNS: [usize; 4] = [32, 16, 8, 4];

/// The runs of a flat chunk of `n` elements that the one-pass kernels take as blocks at Tensor
/// level, and whether `QuantizeVec4` takes them: the longest of [`FLAT_VEC4_RUNS`] of whole words
/// and whole 16-byte loads that divides `n` (rows of whole loads, so every chunk starts on one),
/// else runs of at least 32 whole words' elements for `QuantizeBlocks`.
pub fn flat_block(n: usize, cols: usize, cpw: usize, input: DType) -> (usize, bool) {
    let load = 16 / input.bytes();
    let vec4 = FLAT_VEC4_RUNS.into_iter().find(|&b| {
        b.is_multiple_of(cpw)
            && b.is_multiple_of(load)
            && n.is_multiple_of(b)
            && cols.is_multiple_of(load)
    });
    match vec4 {
        Some(b) => (b, true),
        None => (cpw * 32usize.div_ceil(cpw), false),
    }
}

/// Constants of the calibrate kernel for `calibration` (Percentile or Mse).
pub fn calibrate_constants(
    scheme: &QuantScheme,
    input: DType,
    calibration: Calibration,
) -> Constants {
    let mut c = scheme_constants(scheme);
    let (method, pct) = match calibration {
        Calibration::Percentile(p) => (
            CalibrateMethod::Percentile,
            Calibration::percentile_millionths(p) as f64,
        ),
        _ => (CalibrateMethod::Mse, 0.0),
    };
    c.extend([
        ("INPUT", input.code()),
        ("METHOD", method.code()),
        ("PCT_MILLIONTHS", pct),
    ]);
    c
}

/// One dispatch of the vec4 GEMV (`shaders/gemv_vec4.wgsl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GemvShape {
    /// Rows of x (WGSL `MR`).
    pub m: u32,
    /// vec4 units of a W row each lane takes per pass over K (`UPL`).
    pub units_per_lane: u32,
    /// Lanes along K, the workgroup size (`LK`).
    pub lanes: u32,
    /// Output columns per workgroup (`RPL`), each reusing the lanes' x.
    pub columns: u32,
    /// Lanes take every `lanes`-th unit (coalesced, for GPUs) instead of consecutive ones.
    pub interleaved: bool,
    /// Units per block where each lane's blocks are whole aligned quads of scales, loaded as
    /// vec4 (`UPB`); 0 for one scale load per unit.
    pub units_per_block: u32,
    /// x is f32 with K a multiple of 4, so each vec4 of it is one load (`X_VEC4`).
    pub x_vec4: bool,
    /// One pass covers K (`ONE_PASS`).
    pub one_pass: bool,
}

impl GemvShape {
    /// The shape for up to `m` rows of x and `units` vec4 units per W row, each meeting
    /// `x_vec4s` (at most GEMV_X_VEC4S) vec4 of x. Its `m` is the rows whose x fits a lane's
    /// registers; the caller dispatches the rest of x separately. CPU adapters get 64 columns
    /// per workgroup (x's loads are their cost); GPUs get 8, for more workgroups. None for m = 0.
    pub fn choose(m: u32, units: u32, x_vec4s: u32, cpu: bool) -> Option<Self> {
        let m = m.min(GEMV_X_VEC4S / x_vec4s.max(1));
        if m == 0 {
            return None;
        }
        let held = GEMV_X_VEC4S / (m * x_vec4s);
        let units_per_lane = units.div_ceil(32).clamp(1, held);
        let columns = if cpu { 64 } else { 8 };
        let fit = (GEMV_PART / (columns * m)).max(1);
        let lanes = units
            .div_ceil(units_per_lane)
            .next_power_of_two()
            .min(64)
            .min(1 << fit.ilog2());
        let columns = columns.min(GEMV_PART / (lanes * m));
        Some(GemvShape {
            m,
            units_per_lane,
            lanes,
            columns,
            interleaved: !cpu,
            units_per_block: 0,
            x_vec4: false,
            one_pass: units <= lanes * units_per_lane,
        })
    }

    /// Loads the scales as vec4 where a row of `units` units has blocks of `units_per_block`
    /// units whose quads each lane takes whole: consecutive units per lane (a GPU's interleaved
    /// lanes load adjacent scales together anyway), whole quads per lane, rows of whole quads.
    pub fn with_scale_quads(mut self, units: u32, units_per_block: u32) -> Self {
        let upb = units_per_block;
        if !self.interleaved
            && upb > 0
            && units.is_multiple_of(4 * upb)
            && self.units_per_lane.is_multiple_of(4 * upb)
        {
            self.units_per_block = upb;
        }
        self
    }

    /// Loads each vec4 of x as one, where x is f32 with K a multiple of 4.
    pub fn with_x_vec4(mut self, x_vec4: bool) -> Self {
        self.x_vec4 = x_vec4;
        self
    }

    pub fn constants(&self) -> Constants {
        vec![
            ("MR", self.m as f64),
            ("UPL", self.units_per_lane as f64),
            ("LK", self.lanes as f64),
            ("RPL", self.columns as f64),
            ("INTERLEAVED", self.interleaved as u8 as f64),
            ("UPB", self.units_per_block as f64),
            ("X_VEC4", self.x_vec4 as u8 as f64),
            ("ONE_PASS", self.one_pass as u8 as f64),
        ]
    }
}

/// Constants of the roofline copy: interleaved (coalesced) walks on GPUs, consecutive runs per
/// invocation on CPU adapters.
pub fn copy_constants(interleaved: bool) -> Constants {
    vec![("INTERLEAVED", interleaved as u8 as f64)]
}

/// Constants of the histogram kernel.
pub fn histogram_constants(input: DType) -> Constants {
    vec![("INPUT", input.code())]
}

/// Constants of the fake quantization kernel.
pub fn fake_quantize_constants(scheme: &QuantScheme, input: DType) -> Constants {
    let mut c = scheme_constants(scheme);
    c.push(("INPUT", input.code()));
    c
}

/// Whether `DequantizeVec4` takes a tensor of `layout`: the U32 store, words of a multiple of 4
/// codes, rows of whole words, each word inside one block.
pub fn dequantize_vec4_applies(layout: &crate::layout::Layout) -> bool {
    layout.store == QuantStore::U32
        && layout.codes_per_word.is_multiple_of(4)
        && layout.cols.is_multiple_of(layout.codes_per_word)
        && layout.block_cols.is_multiple_of(layout.codes_per_word)
}

/// Constants of the dequantize kernel.
pub fn dequantize_constants(scheme: &QuantScheme) -> Constants {
    scheme_constants(scheme)
}

/// How `DequantizeVec4` takes `layout` (one of [`dequantize_vec4_applies`]): code words per
/// invocation (a vec4 of them where rows are whole vec4 of words, else one) and whether they
/// share one scale.
pub fn dequantize_vec4_shape(layout: &crate::layout::Layout) -> (usize, bool) {
    let words = match layout.cols.is_multiple_of(4 * layout.codes_per_word) {
        true => 4,
        false => 1,
    };
    let one_scale = layout
        .block_cols
        .is_multiple_of(words * layout.codes_per_word);
    (words, one_scale)
}

/// Constants of `DequantizeVec4`: `words` per invocation, sharing one scale or not.
pub fn dequantize_vec4_constants(scheme: &QuantScheme, words: usize, one_scale: bool) -> Constants {
    let mut c = scheme_constants(scheme);
    c.extend([
        ("WORDS", words as f64),
        ("ONE_SCALE", one_scale as u8 as f64),
    ]);
    c
}

/// Constants of the matmul, GEMV and integer kernels for a coded W of `scheme`.
pub fn weight_constants(scheme: &QuantScheme) -> Constants {
    scheme_constants(scheme)
}

/// Constants of both GGUF kernels for `ty` reading `input`.
pub fn gguf_constants(ty: GgufType, input: DType) -> Constants {
    vec![
        ("GGUF_TYPE", ty.code()),
        ("BLOCK_BYTES", ty.block_bytes() as f64),
        ("BLOCK_ELEMS", ty.block_elements() as f64),
        ("SUB_BLOCKS", ty.sub_blocks() as f64),
        ("GROUP", ty.blocks_per_group() as f64),
        ("INPUT", input.code()),
    ]
}
