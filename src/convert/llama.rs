//! llama-quantize's decisions, as llama.cpp build 11434 makes them (`src/llama-quant.cpp`,
//! `llama_tensor_get_type` and the checks around it): the file types by name, which tensors are
//! quantized and to what, the order tensors are written in, and the metadata keys it sets.

use std::cmp::Ordering;

use crate::error::{Error, Result};
use crate::format::GgufType;
use crate::io::gguf::{GgmlType, GgufTensorInfo, MetaValue};

const fn block(t: GgufType) -> GgmlType {
    GgmlType::Block(t)
}

// The types llama-quantize's rules name.
const Q4_0: GgmlType = block(GgufType::Q4_0);
const Q5_0: GgmlType = block(GgufType::Q5_0);
const Q5_1: GgmlType = block(GgufType::Q5_1);
const Q8_0: GgmlType = block(GgufType::Q8_0);
const Q2_K: GgmlType = block(GgufType::Q2K);
const Q3_K: GgmlType = block(GgufType::Q3K);
const Q4_K: GgmlType = block(GgufType::Q4K);
const Q5_K: GgmlType = block(GgufType::Q5K);
const Q6_K: GgmlType = block(GgufType::Q6K);

fn is_quantized(t: GgmlType) -> bool {
    !matches!(t, GgmlType::F32 | GgmlType::F16 | GgmlType::BF16)
}

/// A ggml type name (`ggml_type_name`, any case) that wgquant writes, as
/// `--output-tensor-type` takes it.
pub fn parse_type(text: &str) -> Result<GgmlType> {
    let t = text.trim();
    let plain = [GgmlType::F32, GgmlType::F16, GgmlType::BF16];
    plain
        .into_iter()
        .chain(GgufType::ALL.map(GgmlType::Block))
        .find(|p| p.name().eq_ignore_ascii_case(t))
        .ok_or_else(|| {
            let names: Vec<&str> = GgufType::ALL.iter().map(|t| t.name()).collect();
            Error::Usage(format!(
                "`{text}` is not a tensor type wgquant writes (F32, F16, BF16, {})",
                names.join(", ")
            ))
        })
}

/// A llama.cpp file type (`llama_ftype`): its name on llama-quantize's command line, its
/// `general.file_type` value and the type of its quantized tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileType {
    pub name: &'static str,
    pub id: u32,
    pub default: GgmlType,
}

/// `llama_ftype` values the rules single out.
mod ftype {
    pub const Q2_K: u32 = 10;
    pub const Q3_K_S: u32 = 11;
    pub const Q3_K_M: u32 = 12;
    pub const Q3_K_L: u32 = 13;
    pub const Q4_K_S: u32 = 14;
    pub const Q4_K_M: u32 = 15;
    pub const Q5_K_M: u32 = 17;
    pub const MXFP4_MOE: u32 = 38;
}

const fn file_type(name: &'static str, id: u32, default: GgmlType) -> FileType {
    FileType { name, id, default }
}

/// The file types of llama-quantize's `QUANT_OPTIONS` that wgquant takes (`Q3_K`, `Q4_K` and
/// `Q5_K` are its aliases of the `_M` mixes).
pub const FILE_TYPES: [FileType; 21] = [
    file_type("Q4_0", 2, Q4_0),
    file_type("Q4_1", 3, block(GgufType::Q4_1)),
    file_type("MXFP4_MOE", ftype::MXFP4_MOE, block(GgufType::Mxfp4)),
    file_type("Q5_0", 8, Q5_0),
    file_type("Q5_1", 9, Q5_1),
    file_type("Q2_K", ftype::Q2_K, Q2_K),
    file_type("Q3_K", ftype::Q3_K_M, Q3_K),
    file_type("Q3_K_S", ftype::Q3_K_S, Q3_K),
    file_type("Q3_K_M", ftype::Q3_K_M, Q3_K),
    file_type("Q3_K_L", ftype::Q3_K_L, Q3_K),
    file_type("Q4_K", ftype::Q4_K_M, Q4_K),
    file_type("Q4_K_S", ftype::Q4_K_S, Q4_K),
    file_type("Q4_K_M", ftype::Q4_K_M, Q4_K),
    file_type("Q5_K", ftype::Q5_K_M, Q5_K),
    file_type("Q5_K_S", 16, Q5_K),
    file_type("Q5_K_M", ftype::Q5_K_M, Q5_K),
    file_type("Q6_K", 18, Q6_K),
    file_type("Q8_0", 7, Q8_0),
    file_type("F16", 1, GgmlType::F16),
    file_type("BF16", 32, GgmlType::BF16),
    file_type("F32", 0, GgmlType::F32),
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
}

/// llama-quantize's options that change what each tensor becomes.
#[derive(Debug, Clone)]
pub struct LlamaOptions {
    pub file_type: FileType,
    /// One type for every quantizable tensor (`--pure`).
    pub pure: bool,
    /// Quantize tensors that are quantized already (`--allow-requantize`).
    pub allow_requantize: bool,
    pub output_tensor_type: Option<GgmlType>,
    pub token_embedding_type: Option<GgmlType>,
    /// `--tensor-type PATTERN=TYPE` in command-line order: the first pattern found anywhere in a
    /// tensor's name picks its type.
    pub tensor_types: Vec<(regex::Regex, GgmlType)>,
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
        self.tensor_types.push((re, parse_type(ty)?));
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
    /// Tensors named as attention values (`attn_v`, `attn_qkv`, `attn_kv_b`).
    pub n_attention_wv: i64,
    /// Layer 0's query heads per key/value head (llama.cpp's `n_gqa()`).
    pub n_gqa: u64,
    /// llama.cpp's `LLM_TYPE_70B` (80 layers of llama with grouped queries, and a few others).
    pub is_70b: bool,
}

impl ModelFacts {
    pub fn of(metadata: &[(String, MetaValue)], tensors: &[GgufTensorInfo]) -> Self {
        let get = |key: &str| metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let arch = get("general.architecture")
            .and_then(MetaValue::as_str)
            .unwrap_or_default()
            .to_string();
        let value = |key: &str| get(&format!("{arch}.{key}"));
        // A per-layer array counts by its first layer.
        let first = |v: &MetaValue| match v {
            MetaValue::Array(a) => a.items().next().and_then(|i| i.as_u64()),
            other => other.as_u64(),
        };
        let number = |key: &str| value(key).and_then(first);
        let n_expert = number("expert_count").unwrap_or(0);
        let n_layer = number("block_count").unwrap_or(0);
        let n_head = number("attention.head_count").unwrap_or(0);
        let n_head_kv = number("attention.head_count_kv").unwrap_or(n_head);
        let layers = n_layer.saturating_sub(number("nextn_predict_layers").unwrap_or(0));
        let is_70b = match arch.as_str() {
            "llama" | "llama-embed" => n_expert != 8 && layers == 80 && n_head != n_head_kv,
            "qwen2" | "deci" | "olmo" => layers == 80,
            "jais2" => layers == 68,
            _ => false,
        };
        ModelFacts {
            n_expert,
            n_layer,
            tied_embeddings: !tensors.iter().any(|t| t.name == "output.weight"),
            n_attention_wv: tensors
                .iter()
                .filter(|t| category(&t.name) == Category::AttentionV)
                .count() as i64,
            n_gqa: n_head.checked_div(n_head_kv).unwrap_or(0),
            is_70b,
            arch,
        }
    }
}

/// llama-quantize's running counts, in its tensor order, of the attention-value and
/// feed-forward-down tensors its mix rules have typed: the rules give some layers more bits.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    attention_wv: i64,
    ffn_down: i64,
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
    AttentionQ,
    AttentionOutput,
    FfnUp,
    FfnGate,
    FfnDown,
    Other,
}

fn category(name: &str) -> Category {
    if name == "output.weight" {
        return Category::Output;
    }
    if name == "token_embd.weight" || name == "per_layer_token_embd.weight" {
        return Category::TokenEmbd;
    }
    let by_name = [
        ("attn_qkv.weight", Category::AttentionV),
        ("attn_kv_b.weight", Category::AttentionV),
        ("attn_v.weight", Category::AttentionV),
        ("attn_k.weight", Category::AttentionK),
        ("attn_q.weight", Category::AttentionQ),
        ("attn_output.weight", Category::AttentionOutput),
        ("ffn_up", Category::FfnUp),
        ("ffn_gate", Category::FfnGate),
        ("ffn_down", Category::FfnDown),
    ];
    by_name
        .iter()
        .find(|(s, _)| name.contains(s))
        .map_or(Category::Other, |&(_, c)| c)
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
/// stays as it is. Call it for every tensor in [`tensor_order`], with one `counters`.
pub fn tensor_type(
    t: &GgufTensorInfo,
    model: &ModelFacts,
    opts: &LlamaOptions,
    counters: &mut Counters,
) -> Result<GgmlType> {
    if !allows_quantization(t, model) {
        return Ok(t.ty);
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
    if is_quantized(ty) {
        let manual = opts
            .tensor_types
            .iter()
            .find(|(re, _)| re.is_match(&t.name));
        match manual {
            Some((_, m)) => ty = *m,
            None if !opts.pure => ty = mix(t, cat, ty, model, opts, counters)?,
            None => {}
        }
        ty = fallback(t, ty);
    }
    Ok(ty)
}

/// llama.cpp's `use_more_bits`: the first and last eighth of the layers and every third one
/// between (C's truncating `/` and `%`).
fn use_more_bits(i: i64, n: i64) -> bool {
    i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2
}

/// `llama_tensor_get_type_impl` for the file types wgquant takes, without an importance matrix.
fn mix(
    t: &GgufTensorInfo,
    cat: Category,
    ty: GgmlType,
    model: &ModelFacts,
    opts: &LlamaOptions,
    counters: &mut Counters,
) -> Result<GgmlType> {
    let ft = opts.file_type.id;
    let name = t.name.as_str();
    let falcon = model.arch == "falcon";
    if model.arch == "glm5-next"
        && ["attn_q_a", "attn_q_b", "nextn.eh_proj"]
            .iter()
            .any(|s| name.contains(s))
    {
        return Ok(Q8_0);
    }
    if cat == Category::Output || (model.tied_embeddings && cat == Category::TokenEmbd) {
        return Ok(if let Some(o) = opts.output_tensor_type {
            o
        } else if ft == ftype::MXFP4_MOE
            || falcon
            || !ne(&t.shape, 0).is_multiple_of(ty.block_elements())
        {
            Q8_0
        } else if ty != Q8_0 {
            Q6_K
        } else {
            ty
        });
    }
    if ft == ftype::MXFP4_MOE {
        let ffn = matches!(cat, Category::FfnUp | Category::FfnGate | Category::FfnDown);
        let experts = ne(&t.shape, 2) > 1 && (model.arch != "bailingmoe3" || ffn);
        return Ok(if experts { ty } else { Q8_0 });
    }
    // Expert models take a feed-forward tensor's layer from its name, dense ones count.
    let layer = |count: i64| -> Result<i64> {
        if model.n_expert <= 1 {
            return Ok(count);
        }
        match layer_of(name) {
            Some(l) if l >= 0 && (l as u64) < model.n_layer => Ok(l),
            _ => Err(Error::Usage(format!(
                "tensor `{name}`: no layer in [0, {}) in its name, which an expert model's \
                 feed-forward tensors need",
                model.n_layer
            ))),
        }
    };
    let n_layer = model.n_layer as i64;
    Ok(match cat {
        Category::AttentionV => {
            let (i, n) = (counters.attention_wv, model.n_attention_wv);
            let mut t = match ft {
                ftype::Q2_K if model.n_gqa >= 4 => Q4_K,
                ftype::Q2_K => Q3_K,
                ftype::Q3_K_M if i < 2 => Q5_K,
                ftype::Q3_K_M => Q4_K,
                ftype::Q3_K_L => Q5_K,
                ftype::Q4_K_M | ftype::Q5_K_M if use_more_bits(i, n) => Q6_K,
                ftype::Q4_K_S if i < 4 => Q5_K,
                _ => ty,
            };
            if model.is_70b && (t == Q3_K || t == Q4_K) {
                t = Q5_K;
            }
            if model.n_expert == 8 {
                t = Q8_0;
            }
            counters.attention_wv += 1;
            t
        }
        Category::AttentionK if model.n_expert == 8 => Q8_0,
        Category::FfnDown => {
            let i = layer(counters.ffn_down)?;
            let n = n_layer;
            let t = match ft {
                ftype::Q2_K => Q3_K,
                ftype::Q3_K_M if i < n / 16 => Q5_K,
                ftype::Q3_K_M if !falcon || use_more_bits(i, n) => Q4_K,
                ftype::Q3_K_M => Q3_K,
                ftype::Q3_K_L if falcon => Q4_K,
                ftype::Q3_K_L => Q5_K,
                ftype::Q4_K_M if falcon && i < n / 16 => Q6_K,
                ftype::Q4_K_M if falcon && use_more_bits(i, n) => Q5_K,
                ftype::Q4_K_M if !falcon && use_more_bits(i, n) => Q6_K,
                ftype::Q5_K_M if use_more_bits(i, n) => Q6_K,
                ftype::Q4_K_S if !falcon && i < n / 8 => Q5_K,
                _ => ty,
            };
            counters.ffn_down += 1;
            t
        }
        Category::AttentionOutput if falcon => match ft {
            ftype::Q3_K_L => Q4_K,
            _ => ty,
        },
        Category::AttentionOutput if model.n_expert == 8 => match ft {
            ftype::Q2_K | ftype::Q3_K_S | ftype::Q3_K_M | ftype::Q4_K_S | ftype::Q4_K_M => Q5_K,
            _ => ty,
        },
        Category::AttentionOutput => match ft {
            ftype::Q2_K => Q3_K,
            ftype::Q3_K_M => Q4_K,
            ftype::Q3_K_L => Q5_K,
            _ => ty,
        },
        Category::FfnGate | Category::FfnUp => {
            layer(0)?;
            ty
        }
        _ => ty,
    })
}

/// `tensor_type_fallback`: a type whose block does not divide the rows gives way to one that
/// does, or to F16.
fn fallback(t: &GgufTensorInfo, ty: GgmlType) -> GgmlType {
    let cols = ne(&t.shape, 0);
    if cols.is_multiple_of(ty.block_elements()) {
        return ty;
    }
    let next = match ty {
        Q2_K | Q3_K => Q4_0,
        Q4_K => Q5_0,
        Q5_K => Q5_1,
        Q6_K => Q8_0,
        other => other,
    };
    if !cols.is_multiple_of(next.block_elements()) {
        GgmlType::F16
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
