//! llama-quantize's decisions, as llama.cpp build 11434 makes them (`src/llama-quant.cpp`,
//! `llama_tensor_get_type` and the checks around it): the file types by name, which tensors are
//! quantized and to what, the order tensors are written in, and the metadata keys it sets.

use std::cmp::Ordering;

use crate::error::{Error, Result};
use crate::format::GgufType;
use crate::io::gguf::{GgmlType, GgufTensorInfo, MetaValue};

/// A tensor type llama-quantize may pick: one wgquant writes, or Q6_K, which its rules give
/// `output.weight` and which wgquant does not write yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Ggml(GgmlType),
    Q6K,
}

impl Pick {
    const Q8_0: Pick = Pick::Ggml(GgmlType::Block(GgufType::Q8_0));

    fn block(self) -> usize {
        match self {
            Pick::Ggml(t) => t.block_elements(),
            Pick::Q6K => 256,
        }
    }

    fn is_quantized(self) -> bool {
        !matches!(
            self,
            Pick::Ggml(GgmlType::F32 | GgmlType::F16 | GgmlType::BF16)
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Pick::Ggml(t) => t.name(),
            Pick::Q6K => "Q6_K",
        }
    }

    /// A ggml type name (`ggml_type_name`, any case), as `--output-tensor-type` takes it.
    pub fn parse(text: &str) -> Result<Pick> {
        let t = text.trim();
        let plain = [GgmlType::F32, GgmlType::F16, GgmlType::BF16];
        plain
            .into_iter()
            .chain(GgufType::ALL.map(GgmlType::Block))
            .map(Pick::Ggml)
            .chain([Pick::Q6K])
            .find(|p| p.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "`{text}` is not a tensor type wgquant writes (f32, f16, bf16, q4_0, q4_1, \
                     q5_0, q5_1, q8_0, mxfp4)"
                ))
            })
    }
}

/// A llama.cpp file type (`llama_ftype`): its name on llama-quantize's command line, its
/// `general.file_type` value and the type of its quantized tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileType {
    pub name: &'static str,
    pub id: u32,
    pub default: Pick,
}

const fn block(t: GgufType) -> Pick {
    Pick::Ggml(GgmlType::Block(t))
}

/// The file types wgquant writes (llama-quantize's `QUANT_OPTIONS` and `llama_ftype`).
pub const FILE_TYPES: [FileType; 9] = [
    FileType {
        name: "Q4_0",
        id: 2,
        default: block(GgufType::Q4_0),
    },
    FileType {
        name: "Q4_1",
        id: 3,
        default: block(GgufType::Q4_1),
    },
    FileType {
        name: "MXFP4_MOE",
        id: 38,
        default: block(GgufType::Mxfp4),
    },
    FileType {
        name: "Q5_0",
        id: 8,
        default: block(GgufType::Q5_0),
    },
    FileType {
        name: "Q5_1",
        id: 9,
        default: block(GgufType::Q5_1),
    },
    FileType {
        name: "Q8_0",
        id: 7,
        default: block(GgufType::Q8_0),
    },
    FileType {
        name: "F16",
        id: 1,
        default: Pick::Ggml(GgmlType::F16),
    },
    FileType {
        name: "BF16",
        id: 32,
        default: Pick::Ggml(GgmlType::BF16),
    },
    FileType {
        name: "F32",
        id: 0,
        default: Pick::Ggml(GgmlType::F32),
    },
];

impl FileType {
    /// A file type by its llama-quantize name, in any case.
    pub fn parse(text: &str) -> Result<FileType> {
        FILE_TYPES
            .into_iter()
            .find(|f| f.name.eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = FILE_TYPES.iter().map(|f| f.name).collect();
                Error::Usage(format!(
                    "a GGUF input takes a llama-quantize type ({}), not `{text}`",
                    names.join(", ")
                ))
            })
    }

    fn is(&self, name: &str) -> bool {
        self.name == name
    }
}

/// llama-quantize's options that change what each tensor becomes.
#[derive(Debug, Clone)]
pub struct LlamaOptions {
    pub file_type: FileType,
    /// One type for every quantizable tensor (`--pure`).
    pub pure: bool,
    /// Quantize tensors that are quantized already (`--allow-requantize`).
    pub allow_requantize: bool,
    pub output_tensor_type: Option<Pick>,
    pub token_embedding_type: Option<Pick>,
    /// `--tensor-type PATTERN=TYPE` in command-line order: the first pattern found anywhere in a
    /// tensor's name picks its type.
    pub tensor_types: Vec<(regex::Regex, Pick)>,
}

impl LlamaOptions {
    pub fn new(file_type: FileType) -> Self {
        LlamaOptions {
            file_type,
            pure: false,
            allow_requantize: false,
            output_tensor_type: None,
            token_embedding_type: None,
            tensor_types: Vec::new(),
        }
    }

    /// Adds a `--tensor-type PATTERN=TYPE` rule; llama-quantize lower-cases the pattern.
    pub fn add_tensor_type(&mut self, rule: &str) -> Result<()> {
        let (pattern, ty) = rule.split_once('=').ok_or_else(|| {
            Error::Usage(format!("--tensor-type `{rule}`: expected PATTERN=TYPE"))
        })?;
        if pattern.is_empty() || ty.is_empty() {
            return Err(Error::Usage(format!(
                "--tensor-type `{rule}`: the pattern and the type must not be empty"
            )));
        }
        let re = regex::Regex::new(&pattern.to_lowercase())
            .map_err(|e| Error::Usage(format!("--tensor-type `{rule}`: {e}")))?;
        self.tensor_types.push((re, Pick::parse(ty)?));
        Ok(())
    }
}

/// The facts about the model that the rules read.
#[derive(Debug, Clone)]
pub struct ModelFacts {
    pub arch: String,
    /// `{arch}.expert_count`, 0 when absent.
    pub n_expert: u64,
    /// `{arch}.block_count`.
    pub n_layer: u64,
    /// No tensor is named `output.weight`: the token embedding is also the output.
    pub tied_embeddings: bool,
}

impl ModelFacts {
    pub fn of(metadata: &[(String, MetaValue)], tensors: &[GgufTensorInfo]) -> Self {
        let get = |key: &str| metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let arch = get("general.architecture")
            .and_then(MetaValue::as_str)
            .unwrap_or_default()
            .to_string();
        let number = |key: &str| get(&format!("{arch}.{key}")).and_then(MetaValue::as_u64);
        ModelFacts {
            n_expert: number("expert_count").unwrap_or(0),
            n_layer: number("block_count").unwrap_or(0),
            tied_embeddings: !tensors.iter().any(|t| t.name == "output.weight"),
            arch,
        }
    }
}

/// The layer of a `blk.N.` name as C's `sscanf(name, "blk.%d.")` reads it.
fn layer_of(name: &str) -> Option<i64> {
    let rest = name.strip_prefix("blk.")?.trim_start();
    let digits_at = usize::from(rest.starts_with(['+', '-']));
    let end = rest[digits_at..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(rest.len(), |i| i + digits_at);
    rest[..end].parse().ok()
}

/// llama-quantize's tensor order (its loader's `weight_name_comparer`): tensors outside the
/// `blk.N.` layers first, then layer by layer, by name (bytes) within each.
pub fn tensor_order(a: &str, b: &str) -> Ordering {
    let layer = |n: &str| layer_of(n).unwrap_or(-1);
    layer(a)
        .cmp(&layer(b))
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// Keys llama-quantize drops from the input (the first two it then sets again, at the end).
const DROPPED_KEYS: [&str; 5] = [
    "general.quantization_version",
    "general.file_type",
    "split.no",
    "split.count",
    "split.tensors.count",
];

/// The output's metadata: the input's keys in order, less those llama-quantize drops, then
/// `general.quantization_version` (ggml's `GGML_QNT_VERSION`) and `general.file_type`.
pub fn output_metadata(input: &[(String, MetaValue)], ft: FileType) -> Vec<(String, MetaValue)> {
    let mut out: Vec<(String, MetaValue)> = input
        .iter()
        .filter(|(k, _)| !DROPPED_KEYS.contains(&k.as_str()))
        .cloned()
        .collect();
    out.push(("general.quantization_version".into(), MetaValue::U32(2)));
    out.push(("general.file_type".into(), MetaValue::U32(ft.id)));
    out
}

/// What a tensor is for, as `tensor_get_category` sees it from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Output,
    TokenEmbd,
    /// `attn_v`, `attn_qkv` and `attn_kv_b`.
    AttentionV,
    AttentionK,
    Ffn,
    Other,
}

fn category(name: &str) -> Category {
    if name == "output.weight" {
        return Category::Output;
    }
    if name == "token_embd.weight" || name == "per_layer_token_embd.weight" {
        return Category::TokenEmbd;
    }
    let has = |s: &str| name.contains(s);
    if has("attn_qkv.weight") || has("attn_kv_b.weight") || has("attn_v.weight") {
        Category::AttentionV
    } else if has("attn_k.weight") {
        Category::AttentionK
    } else if has("attn_q.weight") || has("attn_output.weight") {
        Category::Other
    } else if has("ffn_up") || has("ffn_gate") || has("ffn_down") {
        Category::Ffn
    } else {
        Category::Other
    }
}

/// Names llama-quantize never quantizes (substrings), in `tensor_allows_quantization`.
const NEVER_QUANTIZED: [&str; 34] = [
    "ffn_gate_inp.weight",
    "ffn_gate_tid2eid.weight",
    "altup",
    "laurel",
    "per_layer_model_proj",
    "ssm_conv1d",
    "shortconv.conv.weight",
    "indexer.k_proj.weight",
    "indexer.q_proj.weight",
    "time_mix_first.weight",
    "time_mix_w0.weight",
    "time_mix_w1.weight",
    "time_mix_w2.weight",
    "time_mix_v0.weight",
    "time_mix_v1.weight",
    "time_mix_v2.weight",
    "time_mix_a0.weight",
    "time_mix_a1.weight",
    "time_mix_a2.weight",
    "time_mix_g1.weight",
    "time_mix_g2.weight",
    "time_mix_decay_w1.weight",
    "time_mix_decay_w2.weight",
    "time_mix_lerp_fused.weight",
    "attn_rel_b.weight",
    ".position_embd",
    "sam.pos_embd",
    "sam.neck.",
    "sam.net_",
    ".rel_pos",
    ".patch_embd",
    ".patch_merger",
    "a.rvq.codebook",
    "mm.a.code_embd",
];

/// More names kept as they are in `glm5-next` models.
const NEVER_QUANTIZED_GLM5_NEXT: [&str; 14] = [
    "hc_",
    "indexer.attn_q_b",
    "indexer.attn_k",
    "indexer.proj",
    "indexer_compressor_gate",
    "indexer_compressor_ape",
    "ssm_f_a.weight",
    "ssm_f_b.weight",
    "ssm_g_a.weight",
    "ssm_g_b.weight",
    "ssm_beta.weight",
    "attn_kv_a_mqa.weight",
    "attn_k_b.weight",
    "attn_v_b.weight",
];

/// ggml's `ne[i]` of a row-major shape (1 past its dims).
fn ne(shape: &[usize], i: usize) -> usize {
    shape.len().checked_sub(i + 1).map_or(1, |j| shape[j])
}

/// `ggml_n_dims`: dims up to the last `ne[i]` above 1, at least 1.
fn n_dims(shape: &[usize]) -> usize {
    (1..4)
        .rev()
        .find(|&i| ne(shape, i) > 1)
        .map_or(1, |i| i + 1)
}

fn allows_quantization(t: &GgufTensorInfo, model: &ModelFacts) -> bool {
    let name = t.name.as_str();
    if n_dims(&t.shape) < 2 {
        return false;
    }
    // llama.cpp tests `rfind("weight") == size() - 6`, which also holds for 5-byte names.
    let ends_with_weight = name.ends_with("weight") || name.len() == 5;
    ends_with_weight
        && !name.contains("_norm.weight")
        && name != "position_embd.weight"
        && name != "token_types.weight"
        && !NEVER_QUANTIZED.iter().any(|s| name.contains(s))
        && (model.arch != "glm5-next"
            || !NEVER_QUANTIZED_GLM5_NEXT.iter().any(|s| name.contains(s)))
}

/// The type llama-quantize gives tensor `t` (`llama_tensor_get_type`), or its own type when it
/// stays as it is.
pub fn tensor_type(t: &GgufTensorInfo, model: &ModelFacts, opts: &LlamaOptions) -> Result<Pick> {
    if !allows_quantization(t, model) {
        return Ok(Pick::Ggml(t.ty));
    }
    let cat = category(&t.name);
    if let (Some(ty), Category::TokenEmbd) = (opts.token_embedding_type, cat) {
        let named = t.name == "per_layer_token_embd.weight"
            && opts.tensor_types.iter().any(|(re, _)| re.is_match(&t.name));
        if !named {
            return Ok(ty);
        }
    }
    if let (Some(ty), Category::Output) = (opts.output_tensor_type, cat) {
        return Ok(ty);
    }
    let mut ty = opts.file_type.default;
    if ty.is_quantized() {
        let manual = opts
            .tensor_types
            .iter()
            .find(|(re, _)| re.is_match(&t.name));
        match manual {
            Some((_, m)) => ty = *m,
            None if !opts.pure => ty = mix(t, cat, ty, model, opts)?,
            None => {}
        }
        ty = fallback(t, ty);
    }
    Ok(ty)
}

/// `llama_tensor_get_type_impl` for the file types wgquant writes.
fn mix(
    t: &GgufTensorInfo,
    cat: Category,
    ty: Pick,
    model: &ModelFacts,
    opts: &LlamaOptions,
) -> Result<Pick> {
    let ft = opts.file_type;
    let name = t.name.as_str();
    if model.arch == "glm5-next"
        && ["attn_q_a", "attn_q_b", "nextn.eh_proj"]
            .iter()
            .any(|s| name.contains(s))
    {
        return Ok(Pick::Q8_0);
    }
    if cat == Category::Output || (model.tied_embeddings && cat == Category::TokenEmbd) {
        return Ok(if let Some(o) = opts.output_tensor_type {
            o
        } else if ft.is("MXFP4_MOE")
            || model.arch == "falcon"
            || !ne(&t.shape, 0).is_multiple_of(ty.block())
        {
            Pick::Q8_0
        } else if ty != Pick::Q8_0 {
            Pick::Q6K
        } else {
            ty
        });
    }
    if ft.is("MXFP4_MOE") {
        let experts = ne(&t.shape, 2) > 1 && (model.arch != "bailingmoe3" || cat == Category::Ffn);
        return Ok(if experts { ty } else { Pick::Q8_0 });
    }
    match cat {
        Category::AttentionV | Category::AttentionK if model.n_expert == 8 => Ok(Pick::Q8_0),
        Category::Ffn if model.n_expert > 1 => {
            // Expert models take the layer from the name, and llama.cpp fails without one.
            match layer_of(name) {
                Some(l) if l >= 0 && (l as u64) < model.n_layer => Ok(ty),
                _ => Err(Error::Usage(format!(
                    "tensor `{name}`: no layer in [0, {}) in its name, which an expert model's \
                     feed-forward tensors need",
                    model.n_layer
                ))),
            }
        }
        _ => Ok(ty),
    }
}

/// `tensor_type_fallback`: a type whose block does not divide the rows gives way to one that
/// does, or to F16.
fn fallback(t: &GgufTensorInfo, ty: Pick) -> Pick {
    let cols = ne(&t.shape, 0);
    if cols.is_multiple_of(ty.block()) {
        return ty;
    }
    let next = match ty {
        Pick::Q6K => Pick::Q8_0,
        other => other,
    };
    if !cols.is_multiple_of(next.block()) {
        Pick::Ggml(GgmlType::F16)
    } else {
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_llama_cpp_s() {
        let mut names = vec![
            "blk.10.attn_q.weight",
            "token_embd.weight",
            "blk.2.ffn_up.weight",
            "blk.2.attn_k.weight",
            "output_norm.weight",
            "blk.x.weight",
        ];
        names.sort_by(|a, b| tensor_order(a, b));
        assert_eq!(
            names,
            [
                "blk.x.weight",
                "output_norm.weight",
                "token_embd.weight",
                "blk.2.attn_k.weight",
                "blk.2.ffn_up.weight",
                "blk.10.attn_q.weight",
            ]
        );
        assert_eq!(layer_of("blk.-3.x"), Some(-3));
        assert_eq!(layer_of("blk.07y"), Some(7));
    }
}
