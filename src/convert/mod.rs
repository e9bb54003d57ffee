//! Quantizing a whole checkpoint: pick what to quantize (`plan`), stream tensors one at a time
//! through the GPU into a wgquant or GGUF file, and report what each tensor cost in size and
//! accuracy (`report`). The output goes to a temporary file beside the target and is renamed
//! into place only when complete (`output`); `restore` turns a wgquant file back into plain
//! safetensors.

mod floats;
mod from_gguf;
pub mod llama;
mod output;
mod plan;
mod report;
mod restore;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Instant;

use half::{bf16, f16};

use crate::calibration::Calibration;
use crate::error::{Error, Result};
use crate::format::GgufType;
use crate::gpu::context::GpuContext;
use crate::io::gguf::{GgufWriter, MetaValue};
use crate::io::model::{dtype_key, open_checkpoint, scheme_key, shape_key, FORMAT_VERSION};
use crate::io::safetensors::{io_error, Dtype, SafetensorsWriter, TensorEntry};
use crate::metrics::sqnr_db;
use crate::scheme::{Format, QuantMode};
pub use from_gguf::convert_gguf;
pub use output::{remove_partial_outputs, TempOutput};
use plan::{gguf_info, plan, wgquant_entries, Plan};
pub use report::{report_table, Report, TensorReport};
pub use restore::restore;

/// Output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// safetensors in NUMERICS section 6's layout.
    Wgquant,
    /// GGUF v3.
    Gguf,
}

/// What a tensor becomes: a quantized format, or plain F16 or F32 (GGUF output only).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    Format(Format),
    Float(Dtype),
}

impl Target {
    /// Parses `--scheme` text for `format`: a scheme for wgquant files; a GGUF type, `f16` or
    /// `f32` for GGUF files.
    pub fn parse(text: &str, format: OutputFormat) -> Result<Self> {
        let t = text.trim().to_ascii_lowercase();
        match (format, t.as_str()) {
            (OutputFormat::Gguf, "f16") => Ok(Target::Float(Dtype::F16)),
            (OutputFormat::Gguf, "f32") => Ok(Target::Float(Dtype::F32)),
            (OutputFormat::Gguf, _) => match GgufType::from_name(&t) {
                Some(ty) => Ok(Target::Format(Format::Gguf(ty))),
                None => {
                    let names: Vec<String> = GgufType::ALL.iter().map(|t| t.to_string()).collect();
                    Err(Error::Usage(format!(
                        "--format gguf takes --scheme {}, f16 or f32, not `{text}`",
                        names.join(", ")
                    )))
                }
            },
            (OutputFormat::Wgquant, _) => match t.parse::<Format>()? {
                Format::Gguf(_) => Err(Error::Usage(format!(
                    "`{text}` is a GGUF type: use --format gguf"
                ))),
                Format::Scheme(scheme) => {
                    scheme.validate()?;
                    Ok(Target::Format(Format::Scheme(scheme)))
                }
            },
        }
    }

    fn label(&self) -> String {
        match self {
            Target::Format(f) => f.to_string(),
            Target::Float(d) => d.name().to_ascii_lowercase(),
        }
    }
}

/// Options of one conversion.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    pub format: OutputFormat,
    /// For every tensor that is quantized and matches no rule.
    pub target: Target,
    /// `(pattern, target)`: the first matching pattern picks the tensor's target.
    pub rules: Vec<(glob::Pattern, Target)>,
    /// Only tensors matching one of these are candidates (all when empty).
    pub include: Vec<glob::Pattern>,
    /// Tensors matching one of these pass through.
    pub exclude: Vec<glob::Pattern>,
    /// Replace an existing output.
    pub force: bool,
    /// How scales are calibrated (wgquant format; GGUF types follow llama.cpp).
    pub calibration: crate::calibration::Calibration,
}

impl ConvertOptions {
    /// Options quantizing every weight matrix with `target`.
    pub fn new(format: OutputFormat, target: Target) -> Self {
        ConvertOptions {
            format,
            target,
            rules: Vec::new(),
            include: Vec::new(),
            exclude: Vec::new(),
            force: false,
            calibration: crate::calibration::Calibration::MinMax,
        }
    }
}

/// Progress after each tensor.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    pub done: usize,
    pub total: usize,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub tensor: &'a TensorReport,
}

/// Sink for the converted tensors.
enum Sink {
    Wgquant(SafetensorsWriter<BufWriter<File>>),
    Gguf(GgufWriter<BufWriter<File>>),
}

impl Sink {
    fn write(&mut self, bytes: &[u8], output: &Path) -> Result<()> {
        match self {
            Sink::Wgquant(w) => w.write_next(bytes),
            Sink::Gguf(w) => w.write_next(bytes),
        }
        .map_err(|e| io_error(output, e))
    }

    fn finish(self, output: &Path) -> Result<File> {
        let buffered = match self {
            Sink::Wgquant(w) => w.finish(),
            Sink::Gguf(w) => w.finish(),
        }
        .map_err(|e| io_error(output, e))?;
        buffered
            .into_inner()
            .map_err(|e| io_error(output, e.into_error()))
    }
}

/// Converts the checkpoint at `input` (a file, or a directory of shards) into `output`.
pub fn convert(
    ctx: &GpuContext,
    input: &Path,
    output: &Path,
    opts: &ConvertOptions,
    progress: &mut dyn FnMut(&Progress<'_>),
) -> Result<Report> {
    let start = Instant::now();
    if opts.format == OutputFormat::Gguf && matches!(opts.target, Target::Format(Format::Scheme(_)))
    {
        return Err(Error::Usage(
            "--format gguf needs a GGUF type, f16 or f32".into(),
        ));
    }
    let mut files = open_checkpoint(input)?;
    if let (Ok(a), Ok(b)) = (output.canonicalize(), input.canonicalize()) {
        if a == b
            || files
                .iter()
                .any(|f| f.path.canonicalize().ok() == Some(a.clone()))
        {
            return Err(Error::Usage(format!(
                "output {} would overwrite the input",
                output.display()
            )));
        }
    }
    let mut plans = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        for e in &f.tensors {
            if plans
                .iter()
                .any(|(_, other, _): &(usize, TensorEntry, Plan)| other.name == e.name)
            {
                return Err(Error::Format {
                    file: f.path.display().to_string(),
                    tensor: Some(e.name.clone()),
                    message: "appears in more than one shard".into(),
                });
            }
            let p = plan(e, opts);
            if let Plan::Quantize(Target::Format(Format::Scheme(s))) = &p {
                opts.calibration.check(s).map_err(|err| Error::Format {
                    file: f.path.display().to_string(),
                    tensor: Some(e.name.clone()),
                    message: err.to_string(),
                })?;
            }
            plans.push((fi, e.clone(), p));
        }
    }
    let mut metadata: BTreeMap<String, String> = BTreeMap::new();
    for f in &files {
        metadata.extend(f.metadata.clone());
    }
    let (temp, file) = TempOutput::create(output, opts.force)?;
    let buffered = BufWriter::with_capacity(1 << 20, file);
    let mut sink = match opts.format {
        OutputFormat::Wgquant => {
            let mut entries = Vec::new();
            metadata.insert("wgquant.format".into(), FORMAT_VERSION.into());
            for (_, e, p) in &plans {
                entries.extend(wgquant_entries(e, p)?);
                if let Plan::Quantize(t) = p {
                    metadata.insert(scheme_key(&e.name), t.label());
                    metadata.insert(
                        shape_key(&e.name),
                        serde_json::to_string(&e.shape).unwrap_or_default(),
                    );
                    metadata.insert(dtype_key(&e.name), e.dtype.name().into());
                }
            }
            Sink::Wgquant(
                SafetensorsWriter::new(buffered, entries, &metadata)
                    .map_err(|e| io_error(output, e))?,
            )
        }
        OutputFormat::Gguf => {
            let infos = plans
                .iter()
                .map(|(fi, e, p)| gguf_info(e, p, &files[*fi].path))
                .collect::<Result<Vec<_>>>()?;
            let stem = input
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            let mut meta = vec![
                ("general.name".to_string(), MetaValue::String(stem)),
                (
                    "general.alignment".to_string(),
                    MetaValue::U32(crate::io::gguf::ALIGNMENT as u32),
                ),
                (
                    "general.quantization_version".to_string(),
                    MetaValue::U32(2),
                ),
            ];
            meta.extend(
                metadata
                    .iter()
                    .map(|(k, v)| (format!("safetensors.{k}"), MetaValue::String(v.clone()))),
            );
            Sink::Gguf(GgufWriter::new(buffered, &meta, infos).map_err(|e| io_error(output, e))?)
        }
    };
    let bytes_total: u64 = plans.iter().map(|(_, e, _)| e.len).sum();
    let (mut reports, mut bytes_done) = (Vec::new(), 0u64);
    for (i, (fi, entry, plan)) in plans.iter().enumerate() {
        let bytes = files[*fi].read(entry)?;
        let report = convert_tensor(
            ctx,
            entry,
            plan,
            &bytes,
            opts.calibration,
            &mut sink,
            output,
        )
        .map_err(|e| match e {
            Error::Format { .. } | Error::Io { .. } => e,
            other => Error::Format {
                file: files[*fi].path.display().to_string(),
                tensor: Some(entry.name.clone()),
                message: other.to_string(),
            },
        })?;
        bytes_done += entry.len;
        reports.push(report);
        progress(&Progress {
            done: i + 1,
            total: plans.len(),
            bytes_done,
            bytes_total,
            tensor: &reports[i],
        });
    }
    let file = sink.finish(output)?;
    temp.commit(file)?;
    Ok(Report::new(input, output, ctx.describe(), reports, start))
}

fn convert_tensor(
    ctx: &GpuContext,
    entry: &TensorEntry,
    plan: &Plan,
    bytes: &[u8],
    calibration: Calibration,
    sink: &mut Sink,
    output: &Path,
) -> Result<TensorReport> {
    let mut report = TensorReport {
        name: entry.name.clone(),
        shape: entry.shape.clone(),
        dtype: entry.dtype.name().into(),
        scheme: "passthrough".into(),
        bytes_before: entry.len,
        bytes_after: entry.len,
        sqnr_db: None,
        gpu_ms: None,
        note: None,
    };
    let target = match plan {
        Plan::Pass(note) => {
            report.note = note.clone();
            sink.write(bytes, output)?;
            return Ok(report);
        }
        Plan::Quantize(t) => *t,
    };
    report.scheme = target.label();
    let original = floats::to_f32(entry.dtype, bytes);
    let t0 = Instant::now();
    // A scheme's quantized tensor stays on the device for the dequantize that the SQNR needs.
    let (parts, restored): (Vec<Vec<u8>>, Vec<f32>) = match target {
        Target::Format(Format::Scheme(s)) => {
            let x = floats::upload(ctx, entry.dtype, &entry.shape, bytes)?;
            let gq = ctx.quantize_tensor_calibrated(&x, &s, calibration)?;
            let q = ctx.download_quantized(&gq)?;
            report.gpu_ms = Some(t0.elapsed().as_secs_f64() * 1e3);
            let mut parts = vec![q.code_bytes(), q.scale_bytes()];
            if s.mode == QuantMode::Affine {
                parts.push(q.zeros.clone());
            }
            if let Some(g) = q.global_scale {
                parts.push(g.to_le_bytes().to_vec());
            }
            (parts, ctx.download(&ctx.dequantize_tensor(&gq)?)?)
        }
        Target::Format(Format::Gguf(ty)) => {
            let x = floats::upload(ctx, entry.dtype, &entry.shape, bytes)?;
            let t = ctx.download_gguf(&ctx.quantize_gguf_tensor(&x, ty)?)?;
            report.gpu_ms = Some(t0.elapsed().as_secs_f64() * 1e3);
            // The SQNR decodes the bytes as llama.cpp does, on the host: cheaper than a device
            // dequantize and a readback of 4 bytes per element.
            let restored = crate::reference::gguf::dequantize(&t)?;
            (vec![t.data], restored)
        }
        Target::Float(Dtype::F16) => {
            let h: Vec<f16> = original.iter().map(|&x| f16::from_f32(x)).collect();
            let restored = h.iter().map(|x| x.to_f32()).collect();
            (vec![bytemuck::cast_slice(&h).to_vec()], restored)
        }
        Target::Float(Dtype::BF16) => {
            let h: Vec<bf16> = original.iter().map(|&x| bf16::from_f32(x)).collect();
            let restored = h.iter().map(|x| x.to_f32()).collect();
            (vec![bytemuck::cast_slice(&h).to_vec()], restored)
        }
        Target::Float(_) => (
            vec![bytemuck::cast_slice(&original).to_vec()],
            original.clone(),
        ),
    };
    report.bytes_after = 0;
    for p in &parts {
        sink.write(p, output)?;
        report.bytes_after += p.len() as u64;
    }
    report.sqnr_db = Some(sqnr_db(&original, &restored));
    Ok(report)
}
