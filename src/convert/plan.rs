//! What each input tensor becomes: the rules (include, exclude, per-pattern targets, shapes that
//! fit), and the entries a planned tensor takes in a wgquant or GGUF file.

use std::path::Path;

use super::{ConvertOptions, Target};
use crate::error::{Error, Result};
use crate::io::gguf::{GgmlType, GgufTensorInfo};
use crate::io::model::{code_dtype, scale_dtype};
use crate::io::safetensors::{Dtype, OutEntry, TensorEntry};
use crate::layout::Layout;
use crate::scheme::{Format, QuantLevel, QuantMode, QuantParam};

/// What happens to one input tensor.
#[derive(Debug, Clone)]
pub(super) enum Plan {
    Quantize(Target),
    Pass(Option<String>),
}

fn is_float(d: Dtype) -> bool {
    matches!(d, Dtype::F32 | Dtype::F16 | Dtype::BF16)
}

pub(super) fn plan(entry: &TensorEntry, opts: &ConvertOptions) -> Plan {
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
        Target::Format(Format::Scheme(s)) => {
            let block_ok = match s.level {
                QuantLevel::Tensor => true,
                QuantLevel::Block(b) => b.dims().last().is_some_and(|&c| c > 0 && last % c == 0),
            };
            block_ok && Layout::new(&s, shape).is_ok()
        }
        Target::Format(Format::Gguf(t)) => last.is_multiple_of(t.block_elements()),
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

/// The file entries a planned tensor becomes in a wgquant file.
pub(super) fn wgquant_entries(entry: &TensorEntry, plan: &Plan) -> Result<Vec<OutEntry>> {
    let Plan::Quantize(Target::Format(Format::Scheme(s))) = plan else {
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
pub(super) fn gguf_info(entry: &TensorEntry, plan: &Plan, file: &Path) -> Result<GgufTensorInfo> {
    let ty = match plan {
        Plan::Quantize(Target::Format(Format::Gguf(t))) => GgmlType::Block(*t),
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
