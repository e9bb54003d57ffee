//! Quantizing a GGUF file as llama-quantize does: the same tensors to the same types, in its
//! order, with its metadata, so that the output is llama-quantize's file byte for byte; the
//! quantizing runs on the GPU, one tensor at a time.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Instant;

use super::llama::{
    output_metadata, tensor_order, tensor_type, Counters, LlamaOptions, ModelFacts,
};
use super::plan::Plan;
use super::{convert_tensor, floats, Progress, Report, Sink, Target, TempOutput, TensorReport};
use crate::calibration::Calibration;
use crate::error::{Error, Result};
use crate::gguf::GgufTensor;
use crate::gpu::context::GpuContext;
use crate::io::gguf::{GgmlType, GgufFile, GgufTensorInfo, GgufWriter, StoredTensor};
use crate::io::safetensors::{io_error, Dtype, TensorEntry};
use crate::scheme::Format;

/// The safetensors dtype of a float GGUF type.
fn float_dtype(ty: GgmlType) -> Option<Dtype> {
    match ty {
        GgmlType::F32 => Some(Dtype::F32),
        GgmlType::F16 => Some(Dtype::F16),
        GgmlType::BF16 => Some(Dtype::BF16),
        _ => None,
    }
}

/// What one tensor becomes, checked before anything is written.
fn plan_tensor(
    t: &GgufTensorInfo,
    ty: GgmlType,
    opts: &LlamaOptions,
) -> std::result::Result<(Plan, GgmlType), String> {
    if ty == t.ty {
        return Ok((Plan::Pass(None), t.ty));
    }
    match t.ty {
        GgmlType::Block(from) if !opts.allow_requantize => {
            return Err(format!(
                "is {from:?} already: requantizing is disabled; pass --allow-requantize"
            ))
        }
        GgmlType::Block(_) | GgmlType::F32 | GgmlType::F16 | GgmlType::BF16 => {}
        other => {
            return Err(format!(
                "{} cannot be converted to {}",
                other.name(),
                ty.name()
            ))
        }
    }
    // A type given by --output-tensor-type or --token-embedding-type has no fallback.
    if let Some(&cols) = t
        .shape
        .last()
        .filter(|c| !c.is_multiple_of(ty.block_elements()))
    {
        return Err(format!(
            "its rows of {cols} are not a multiple of {}'s block of {}",
            ty.name(),
            ty.block_elements()
        ));
    }
    let target = match ty {
        GgmlType::Block(g) => Target::Format(Format::Gguf(g)),
        other => Target::Float(
            float_dtype(other)
                .ok_or_else(|| format!("{} is not a type wgquant converts to", other.name()))?,
        ),
    };
    Ok((Plan::Quantize(target), ty))
}

/// Quantizes the GGUF file `input` into `output` with llama-quantize's choices.
pub fn convert_gguf(
    ctx: &GpuContext,
    input: &Path,
    output: &Path,
    opts: &LlamaOptions,
    force: bool,
    progress: &mut dyn FnMut(&Progress<'_>),
) -> Result<Report> {
    let start = Instant::now();
    let mut file = GgufFile::open(input)?;
    if let (Ok(a), Ok(b)) = (output.canonicalize(), input.canonicalize()) {
        if a == b {
            return Err(Error::Usage(format!(
                "output {} would overwrite the input",
                output.display()
            )));
        }
    }
    let name = input.display().to_string();
    let bad = |tensor: &str, message: String| Error::Format {
        file: name.clone(),
        tensor: Some(tensor.to_string()),
        message,
    };
    let mut tensors: Vec<StoredTensor> = file.header.tensors.clone();
    tensors.sort_by(|a, b| tensor_order(&a.info.name, &b.info.name));
    let infos: Vec<GgufTensorInfo> = tensors.iter().map(|t| t.info.clone()).collect();
    let model = ModelFacts::of(&file.header.metadata, &infos);
    let mut plans = Vec::new();
    let mut out_infos = Vec::new();
    let mut counters = Counters::default();
    for t in &infos {
        let pick =
            tensor_type(t, &model, opts, &mut counters).map_err(|e| bad(&t.name, e.to_string()))?;
        let (plan, ty) = plan_tensor(t, pick, opts).map_err(|m| bad(&t.name, m))?;
        plans.push(plan);
        // ggml writes the dims up to the last one above 1.
        let keep = t
            .shape
            .iter()
            .position(|&d| d != 1)
            .unwrap_or(t.shape.len() - 1);
        out_infos.push(GgufTensorInfo {
            name: t.name.clone(),
            shape: t.shape[keep..].to_vec(),
            ty,
        });
    }
    let metadata = output_metadata(&file.header.metadata, opts.file_type);
    let (temp, out) = TempOutput::create(output, force)?;
    let mut sink = Sink::Gguf(
        GgufWriter::new(BufWriter::with_capacity(1 << 20, out), &metadata, out_infos)
            .map_err(|e| io_error(output, e))?,
    );
    let bytes_total: u64 = infos.iter().map(|t| t.bytes() as u64).sum();
    let (mut reports, mut bytes_done) = (Vec::new(), 0u64);
    for (i, (t, plan)) in tensors.iter().zip(&plans).enumerate() {
        let info = &t.info;
        let bytes = file.read(t)?;
        let report =
            convert_one(ctx, info, plan, bytes, &mut sink, output).map_err(|e| match e {
                Error::Io { .. } | Error::Format { .. } => e,
                other => bad(&info.name, other.to_string()),
            })?;
        bytes_done += info.bytes() as u64;
        reports.push(report);
        progress(&Progress {
            done: i + 1,
            total: tensors.len(),
            bytes_done,
            bytes_total,
            tensor: &reports[i],
        });
    }
    let file_out: File = sink.finish(output)?;
    temp.commit(file_out)?;
    Ok(Report::new(input, output, ctx.describe(), reports, start))
}

/// Writes one tensor: copied as stored, or widened to f32 (dequantized if need be) and
/// converted by the GPU.
fn convert_one(
    ctx: &GpuContext,
    info: &GgufTensorInfo,
    plan: &Plan,
    bytes: Vec<u8>,
    sink: &mut Sink,
    output: &Path,
) -> Result<TensorReport> {
    // llama.cpp's loader refuses NaN and infinity in every float tensor it reads.
    if let Some(i) = float_dtype(info.ty).and_then(|d| floats::first_non_finite(d, &bytes)) {
        return Err(Error::Usage(format!(
            "has a NaN or infinity at element {i}"
        )));
    }
    let (dtype, bytes) = match (info.ty, plan) {
        (GgmlType::Block(ty), Plan::Quantize(_)) => {
            let blocks = GgufTensor::new(ty, info.shape.clone(), bytes)?;
            let values = ctx.dequantize_gguf(&blocks)?;
            (Dtype::F32, bytemuck::cast_slice(&values).to_vec())
        }
        (ty, Plan::Quantize(_)) => (float_dtype(ty).unwrap_or(Dtype::F32), bytes),
        (_, Plan::Pass(_)) => {
            sink.write(&bytes, output)?;
            let n = bytes.len() as u64;
            return Ok(TensorReport {
                name: info.name.clone(),
                shape: info.shape.clone(),
                dtype: info.ty.name().into(),
                scheme: "passthrough".into(),
                bytes_before: n,
                bytes_after: n,
                sqnr_db: None,
                gpu_ms: None,
                note: None,
            });
        }
    };
    let entry = TensorEntry {
        name: info.name.clone(),
        dtype,
        shape: info.shape.clone(),
        offset: 0,
        len: bytes.len() as u64,
    };
    let mut report = convert_tensor(ctx, &entry, plan, &bytes, Calibration::MinMax, sink, output)?;
    report.dtype = info.ty.name().into();
    report.bytes_before = info.bytes() as u64;
    Ok(report)
}
