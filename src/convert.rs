//! Quantizing a whole checkpoint: pick what to quantize, stream tensors one at a time through
//! the GPU into a wgquant or GGUF file, and report what each tensor cost in size and accuracy.
//! The output goes to a temporary file beside the target and is renamed into place only when
//! complete.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use half::{bf16, f16};
use serde::Serialize;

use crate::calibration::Calibration;
use crate::error::{Error, Result};
use crate::format::GgufType;
use crate::gpu::buffers::HostElement;
use crate::gpu::context::GpuContext;
use crate::io::gguf::{GgmlType, GgufTensorInfo, GgufWriter, MetaValue};
use crate::io::model::{
    code_dtype, dtype_key, open_checkpoint, scale_dtype, scheme_key, shape_key, FORMAT_VERSION,
};
use crate::io::safetensors::{io_error, Dtype, OutEntry, SafetensorsWriter, TensorEntry};
use crate::layout::Layout;
use crate::quantized::QuantizedTensor;
use crate::scheme::{Format, QuantLevel, QuantMode, QuantParam, QuantScheme};
use crate::synth::sqnr_db;

/// Output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// safetensors in NUMERICS section 6's layout.
    Wgquant,
    /// GGUF v3.
    Gguf,
}

/// What a tensor becomes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    Scheme(QuantScheme),
    Gguf(GgufType),
    /// Plain F16 or F32 (GGUF output only).
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
                Some(ty) => Ok(Target::Gguf(ty)),
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
                    Ok(Target::Scheme(scheme))
                }
            },
        }
    }

    fn label(&self) -> String {
        match self {
            Target::Scheme(s) => s.to_string(),
            Target::Gguf(t) => t.to_string(),
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

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct TensorReport {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: String,
    /// The scheme, or `passthrough`.
    pub scheme: String,
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub sqnr_db: Option<f64>,
    pub gpu_ms: Option<f64>,
    pub note: Option<String>,
}

/// What a conversion did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub input: String,
    pub output: String,
    pub adapter: String,
    pub tensors: Vec<TensorReport>,
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub seconds: f64,
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

/// Temporary outputs to delete if the process is interrupted.
static PARTIAL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Deletes every output still being written; call from a Ctrl-C handler.
pub fn remove_partial_outputs() {
    if let Ok(mut list) = PARTIAL.lock() {
        for p in list.drain(..) {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A temporary file beside the target, renamed into place by `commit` and deleted otherwise.
pub struct TempOutput {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl TempOutput {
    /// Checks the target (its directory exists; it does not, unless `force`) and creates the
    /// temporary file.
    pub fn create(target: &Path, force: bool) -> Result<(Self, File)> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(Error::Io {
                path: target.display().to_string(),
                message: format!("directory {} does not exist", dir.display()),
            });
        }
        if target.exists() && !force {
            return Err(Error::Usage(format!(
                "{} exists; pass --force to replace it",
                target.display()
            )));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let temp = dir.join(format!(".{name}.wgquant-partial-{}", std::process::id()));
        let file = File::create(&temp).map_err(|e| io_error(&temp, e))?;
        if let Ok(mut list) = PARTIAL.lock() {
            list.push(temp.clone());
        }
        Ok((
            TempOutput {
                temp,
                target: target.to_path_buf(),
                committed: false,
            },
            file,
        ))
    }

    /// Flushes `file` to disk and renames the temporary file onto the target.
    pub fn commit(mut self, file: File) -> Result<()> {
        file.sync_all().map_err(|e| io_error(&self.temp, e))?;
        drop(file);
        std::fs::rename(&self.temp, &self.target).map_err(|e| io_error(&self.target, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
        if let Ok(mut list) = PARTIAL.lock() {
            list.retain(|p| p != &self.temp);
        }
    }
}

/// What happens to one input tensor.
#[derive(Debug, Clone)]
enum Plan {
    Quantize(Target),
    Pass(Option<String>),
}

fn is_float(d: Dtype) -> bool {
    matches!(d, Dtype::F32 | Dtype::F16 | Dtype::BF16)
}

fn plan(entry: &TensorEntry, opts: &ConvertOptions) -> Plan {
    let matches = |ps: &[glob::Pattern]| ps.iter().any(|p| p.matches(&entry.name));
    if matches(&opts.exclude) || (!opts.include.is_empty() && !matches(&opts.include)) {
        return Plan::Pass(None);
    }
    let named = matches(&opts.include) || opts.rules.iter().any(|(p, _)| p.matches(&entry.name));
    if !is_float(entry.dtype) {
        let note =
            named.then(|| format!("{} cannot be quantized; passed through", entry.dtype.name()));
        return Plan::Pass(note);
    }
    let target = opts
        .rules
        .iter()
        .find(|(p, _)| p.matches(&entry.name))
        .map_or(opts.target, |r| r.1);
    let shape = &entry.shape;
    let last = shape.last().copied().unwrap_or(0);
    let fits = match target {
        Target::Scheme(s) => {
            let block_ok = match s.level {
                QuantLevel::Tensor => true,
                QuantLevel::Block(b) => b.dims().last().is_some_and(|&c| c > 0 && last % c == 0),
            };
            block_ok && Layout::new(&s, shape).is_ok()
        }
        Target::Gguf(_) => last % 32 == 0,
        Target::Float(_) => true,
    };
    if shape.len() < 2 || !fits || entry.elements() == 0 {
        let note = named.then(|| {
            format!(
                "shape {shape:?} does not fit {}; passed through",
                target.label()
            )
        });
        return Plan::Pass(note);
    }
    Plan::Quantize(target)
}

/// Host copy of a float tensor in its own dtype.
enum Floats {
    F32(Vec<f32>),
    F16(Vec<f16>),
    BF16(Vec<bf16>),
}

impl Floats {
    fn from_bytes(dtype: Dtype, bytes: &[u8]) -> Self {
        match dtype {
            Dtype::F16 => Floats::F16(bytemuck::pod_collect_to_vec(bytes)),
            Dtype::BF16 => Floats::BF16(bytemuck::pod_collect_to_vec(bytes)),
            _ => Floats::F32(bytemuck::pod_collect_to_vec(bytes)),
        }
    }

    fn to_f32(&self) -> Vec<f32> {
        fn conv<T: HostElement>(v: &[T]) -> Vec<f32> {
            v.iter().map(|x| x.to_f32()).collect()
        }
        match self {
            Floats::F32(v) => v.clone(),
            Floats::F16(v) => conv(v),
            Floats::BF16(v) => conv(v),
        }
    }

    fn quantize(
        &self,
        ctx: &GpuContext,
        shape: &[usize],
        s: &QuantScheme,
        c: Calibration,
    ) -> Result<QuantizedTensor> {
        match self {
            Floats::F32(v) => ctx.quantize_calibrated(v, shape, s, c),
            Floats::F16(v) => ctx.quantize_calibrated(v, shape, s, c),
            Floats::BF16(v) => ctx.quantize_calibrated(v, shape, s, c),
        }
    }

    fn quantize_gguf(
        &self,
        ctx: &GpuContext,
        shape: &[usize],
        ty: GgufType,
    ) -> Result<crate::gguf::GgufTensor> {
        match self {
            Floats::F32(v) => ctx.quantize_gguf(v, shape, ty),
            Floats::F16(v) => ctx.quantize_gguf(v, shape, ty),
            Floats::BF16(v) => ctx.quantize_gguf(v, shape, ty),
        }
    }
}

/// The file entries a planned tensor becomes in a wgquant file.
fn wgquant_entries(entry: &TensorEntry, plan: &Plan) -> Result<Vec<OutEntry>> {
    let Plan::Quantize(Target::Scheme(s)) = plan else {
        return Ok(vec![OutEntry::new(
            &entry.name,
            entry.dtype,
            entry.shape.clone(),
        )]);
    };
    let layout = Layout::new(s, &entry.shape)?;
    let mut code_shape = entry.shape.clone();
    if let (Some(last), crate::scheme::QuantStore::U32) = (code_shape.last_mut(), s.store) {
        *last = layout.words_per_row();
    }
    let mut out = vec![
        OutEntry::new(format!("{}.qweight", entry.name), code_dtype(s), code_shape),
        OutEntry::new(
            format!("{}.scales", entry.name),
            scale_dtype(s.param),
            layout.scale_shape.clone(),
        ),
    ];
    if s.mode == QuantMode::Affine {
        out.push(OutEntry::new(
            format!("{}.zeros", entry.name),
            Dtype::U8,
            layout.scale_shape.clone(),
        ));
    }
    if s.param == QuantParam::E4M3 {
        out.push(OutEntry::new(
            format!("{}.global_scale", entry.name),
            Dtype::F32,
            vec![1],
        ));
    }
    Ok(out)
}

/// The GGUF tensor a planned tensor becomes.
fn gguf_info(entry: &TensorEntry, plan: &Plan, file: &Path) -> Result<GgufTensorInfo> {
    let ty = match plan {
        Plan::Quantize(Target::Gguf(t)) => GgmlType::Block(*t),
        Plan::Quantize(Target::Float(Dtype::F16)) => GgmlType::F16,
        Plan::Quantize(_) => GgmlType::F32,
        Plan::Pass(_) => match entry.dtype {
            Dtype::F32 => GgmlType::F32,
            Dtype::F16 => GgmlType::F16,
            Dtype::BF16 => GgmlType::BF16,
            Dtype::F64 => GgmlType::F64,
            Dtype::I8 => GgmlType::I8,
            Dtype::I16 => GgmlType::I16,
            Dtype::I32 => GgmlType::I32,
            Dtype::I64 => GgmlType::I64,
            other => {
                return Err(Error::Format {
                    file: file.display().to_string(),
                    tensor: Some(entry.name.clone()),
                    message: format!(
                        "dtype {} has no GGUF equivalent; --exclude it or use --format wgquant",
                        other.name()
                    ),
                })
            }
        },
    };
    Ok(GgufTensorInfo {
        name: entry.name.clone(),
        shape: entry.shape.clone(),
        ty,
    })
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
    if opts.format == OutputFormat::Gguf && matches!(opts.target, Target::Scheme(_)) {
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
            if let Plan::Quantize(Target::Scheme(s)) = &p {
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
            opts.format,
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
    Ok(Report {
        input: input.display().to_string(),
        output: output.display().to_string(),
        adapter: ctx.describe(),
        bytes_before: reports.iter().map(|r| r.bytes_before).sum(),
        bytes_after: reports.iter().map(|r| r.bytes_after).sum(),
        tensors: reports,
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[allow(clippy::too_many_arguments)]
fn convert_tensor(
    ctx: &GpuContext,
    entry: &TensorEntry,
    plan: &Plan,
    bytes: &[u8],
    format: OutputFormat,
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
    let floats = Floats::from_bytes(entry.dtype, bytes);
    let original = floats.to_f32();
    let t0 = Instant::now();
    let (parts, restored): (Vec<Vec<u8>>, Vec<f32>) = match (target, format) {
        (Target::Scheme(s), _) => {
            let q = floats.quantize(ctx, &entry.shape, &s, calibration)?;
            report.gpu_ms = Some(t0.elapsed().as_secs_f64() * 1e3);
            let mut parts = vec![q.code_bytes(), q.scale_bytes()];
            if s.mode == QuantMode::Affine {
                parts.push(q.zeros.clone());
            }
            if let Some(g) = q.global_scale {
                parts.push(g.to_le_bytes().to_vec());
            }
            (parts, ctx.dequantize(&q)?)
        }
        (Target::Gguf(ty), _) => {
            let t = floats.quantize_gguf(ctx, &entry.shape, ty)?;
            report.gpu_ms = Some(t0.elapsed().as_secs_f64() * 1e3);
            let restored = ctx.dequantize_gguf(&t)?;
            (vec![t.data], restored)
        }
        (Target::Float(Dtype::F16), _) => {
            let h: Vec<f16> = original.iter().map(|&x| f16::from_f32(x)).collect();
            let restored = h.iter().map(|x| x.to_f32()).collect();
            (vec![bytemuck::cast_slice(&h).to_vec()], restored)
        }
        (Target::Float(_), _) => (
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

/// The report as a table with totals.
pub fn report_table(r: &Report) -> String {
    let mut s = format!(
        "{:<52} {:>14} {:<18} {:>11} {:>11} {:>8} {:>8}\n",
        "tensor", "shape", "scheme", "bytes in", "bytes out", "SQNR dB", "GPU ms"
    );
    for t in &r.tensors {
        let shape = format!("{:?}", t.shape).replace(' ', "");
        s += &format!(
            "{:<52} {:>14} {:<18} {:>11} {:>11} {:>8} {:>8}{}\n",
            t.name,
            shape,
            t.scheme,
            t.bytes_before,
            t.bytes_after,
            t.sqnr_db.map_or("-".into(), |d| if d.is_finite() {
                format!("{d:.2}")
            } else {
                "inf".into()
            }),
            t.gpu_ms.map_or("-".into(), |m| format!("{m:.1}")),
            t.note
                .as_ref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default()
        );
    }
    let quantized = r.tensors.iter().filter(|t| t.sqnr_db.is_some()).count();
    s += &format!(
        "total: {} tensors ({} quantized), {} -> {} bytes ({:.2}x smaller), {:.1} s on {}\n",
        r.tensors.len(),
        quantized,
        r.bytes_before,
        r.bytes_after,
        r.bytes_before as f64 / r.bytes_after.max(1) as f64,
        r.seconds,
        r.adapter
    );
    s
}

/// Restores a wgquant file to a plain safetensors file: each quantized tensor dequantized on the
/// GPU to its original dtype and shape, everything else copied.
pub fn restore(ctx: &GpuContext, input: &Path, output: &Path, force: bool) -> Result<()> {
    use crate::io::model::{quantized_index, read_quantized, stored_parts};
    let mut file = crate::io::safetensors::SafetensorsFile::open(input)?;
    let index = quantized_index(&file)?;
    if index.is_empty() {
        return Err(Error::Format {
            file: input.display().to_string(),
            tensor: None,
            message: "not a wgquant model (no quantized tensors in __metadata__)".into(),
        });
    }
    let mut parts = BTreeMap::new();
    let mut owner = BTreeMap::new();
    for (name, info) in &index {
        let p = stored_parts(&file, name, &info.scheme)?;
        for part in p.names() {
            owner.insert(part.to_string(), name.clone());
        }
        parts.insert(name.clone(), p);
    }
    // Output order: file order, each quantized tensor where its qweight was.
    let (mut entries, mut order) = (Vec::new(), Vec::new());
    for e in &file.tensors {
        match owner.get(&e.name) {
            Some(name) if parts[name].qweight.name == e.name => {
                entries.push(OutEntry::new(
                    name,
                    index[name].dtype,
                    index[name].shape.clone(),
                ));
                order.push((name.clone(), None));
            }
            Some(_) => {}
            None => {
                entries.push(OutEntry::new(&e.name, e.dtype, e.shape.clone()));
                order.push((e.name.clone(), Some(e.clone())));
            }
        }
    }
    let metadata: BTreeMap<String, String> = file
        .metadata
        .iter()
        .filter(|(k, _)| !k.starts_with("wgquant."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let (temp, out) = TempOutput::create(output, force)?;
    let buffered = BufWriter::with_capacity(1 << 20, out);
    let mut writer =
        SafetensorsWriter::new(buffered, entries, &metadata).map_err(|e| io_error(output, e))?;
    for (name, plain) in order {
        let bytes = match plain {
            Some(entry) => file.read(&entry)?,
            None => {
                let q = read_quantized(&mut file, &name, &parts[&name], &index[&name])?;
                let values = ctx.dequantize(&q)?;
                match index[&name].dtype {
                    Dtype::F16 => to_bytes(values.iter().map(|&x| f16::from_f32(x))),
                    Dtype::BF16 => to_bytes(values.iter().map(|&x| bf16::from_f32(x))),
                    _ => bytemuck::cast_slice(&values).to_vec(),
                }
            }
        };
        writer.write_next(&bytes).map_err(|e| io_error(output, e))?;
    }
    let out = writer.finish().map_err(|e| io_error(output, e))?;
    temp.commit(
        out.into_inner()
            .map_err(|e| io_error(output, e.into_error()))?,
    )
}

fn to_bytes<T: bytemuck::Pod>(values: impl Iterator<Item = T>) -> Vec<u8> {
    bytemuck::cast_slice(&values.collect::<Vec<T>>()).to_vec()
}
