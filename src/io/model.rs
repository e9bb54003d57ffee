//! Whole models: single or sharded safetensors checkpoints in, and the wgquant safetensors layout
//! (NUMERICS section 6) both ways.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::io::safetensors::{io_error, Dtype, SafetensorsFile, TensorEntry};
use crate::quantized::QuantizedTensor;
use crate::scheme::{QuantMode, QuantParam, QuantScheme, QuantStore};

/// Version written to `__metadata__["wgquant.format"]`.
pub const FORMAT_VERSION: &str = "1";
const KEY_FORMAT: &str = "wgquant.format";

/// The `__metadata__` keys describing quantized tensor `name`.
pub fn scheme_key(name: &str) -> String {
    format!("wgquant.scheme.{name}")
}
pub fn shape_key(name: &str) -> String {
    format!("wgquant.shape.{name}")
}
pub fn dtype_key(name: &str) -> String {
    format!("wgquant.dtype.{name}")
}

/// The safetensors files of a checkpoint: one file, or a directory with a
/// `*.safetensors.index.json` naming its shards (or else every `*.safetensors` in it).
pub fn open_checkpoint(path: &Path) -> Result<Vec<SafetensorsFile>> {
    if !path.is_dir() {
        return Ok(vec![SafetensorsFile::open(path)?]);
    }
    let entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| io_error(path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let shards: Vec<PathBuf> = match entries
        .iter()
        .find(|p| p.to_string_lossy().ends_with(".safetensors.index.json"))
    {
        Some(index) => {
            let text = std::fs::read_to_string(index).map_err(|e| io_error(index, e))?;
            let json: Value = serde_json::from_str(&text).map_err(|e| Error::Format {
                file: index.display().to_string(),
                tensor: None,
                message: format!("not JSON: {e}"),
            })?;
            let map = json["weight_map"]
                .as_object()
                .ok_or_else(|| Error::Format {
                    file: index.display().to_string(),
                    tensor: None,
                    message: "no `weight_map` object".into(),
                })?;
            let mut names: Vec<String> = map
                .values()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            names.sort();
            names.dedup();
            let shards: Vec<PathBuf> = names.iter().map(|n| path.join(n)).collect();
            if let Some(missing) = shards.iter().find(|s| !s.exists()) {
                return Err(Error::Format {
                    file: index.display().to_string(),
                    tensor: None,
                    message: format!("shard {} is listed but missing", missing.display()),
                });
            }
            shards
        }
        None => {
            let mut files: Vec<PathBuf> = entries
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
                .collect();
            files.sort();
            files
        }
    };
    if shards.is_empty() {
        return Err(Error::Format {
            file: path.display().to_string(),
            tensor: None,
            message: "directory holds no .safetensors files".into(),
        });
    }
    shards.iter().map(|s| SafetensorsFile::open(s)).collect()
}

/// File dtype of a scheme's codes: U32 words, or one I8/U8 per code (Native).
pub fn code_dtype(scheme: &QuantScheme) -> Dtype {
    match scheme.store {
        QuantStore::U32 => Dtype::U32,
        QuantStore::Native
            if scheme.mode == QuantMode::Symmetric && scheme.value.int_range().is_some() =>
        {
            Dtype::I8
        }
        QuantStore::Native => Dtype::U8,
    }
}

/// File dtype of a scheme's scales.
pub fn scale_dtype(param: QuantParam) -> Dtype {
    match param {
        QuantParam::F32 => Dtype::F32,
        QuantParam::F16 => Dtype::F16,
        QuantParam::BF16 => Dtype::BF16,
        QuantParam::E8M0 | QuantParam::E4M3 => Dtype::U8,
    }
}

/// A tensor of a wgquant model file.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelTensor {
    /// Quantized, with the dtype it had before.
    Quantized { q: QuantizedTensor, dtype: Dtype },
    /// Passed through unchanged.
    Plain {
        dtype: Dtype,
        shape: Vec<usize>,
        data: Vec<u8>,
    },
}

/// A model in the wgquant safetensors layout, loaded into memory.
///
/// ```no_run
/// let model = wgquant::QuantizedModel::load(std::path::Path::new("model.wgquant.safetensors"))?;
/// for (name, t) in &model.tensors {
///     println!("{name}: {}", matches!(t, wgquant::io::model::ModelTensor::Quantized { .. }));
/// }
/// # Ok::<(), wgquant::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedModel {
    pub tensors: BTreeMap<String, ModelTensor>,
    /// The file's `__metadata__` without wgquant's own keys.
    pub metadata: BTreeMap<String, String>,
}

/// What `__metadata__` says about one quantized tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedInfo {
    pub scheme: QuantScheme,
    /// Shape and dtype before quantization.
    pub shape: Vec<usize>,
    pub dtype: Dtype,
}

/// The stored parts of one quantized tensor.
#[derive(Debug, Clone)]
pub struct StoredParts {
    pub qweight: TensorEntry,
    pub scales: TensorEntry,
    pub zeros: Option<TensorEntry>,
    pub global: Option<TensorEntry>,
}

impl StoredParts {
    /// Names of all parts.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        [
            Some(&self.qweight),
            Some(&self.scales),
            self.zeros.as_ref(),
            self.global.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(|e| e.name.as_str())
    }
}

/// For a wgquant file: each quantized tensor's scheme, original shape and dtype, by name.
pub fn quantized_index(file: &SafetensorsFile) -> Result<BTreeMap<String, QuantizedInfo>> {
    let err = |t: &str, m: String| Error::Format {
        file: file.path.display().to_string(),
        tensor: Some(t.to_string()),
        message: m,
    };
    if file.metadata.get(KEY_FORMAT).map(String::as_str) != Some(FORMAT_VERSION) {
        return Ok(BTreeMap::new());
    }
    let mut out = BTreeMap::new();
    for (key, text) in &file.metadata {
        let Some(name) = key.strip_prefix("wgquant.scheme.") else {
            continue;
        };
        let scheme: QuantScheme = text.parse().map_err(|e: Error| err(name, e.to_string()))?;
        let shape: Vec<usize> = file
            .metadata
            .get(&shape_key(name))
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| err(name, "no original shape in __metadata__".into()))?;
        let dtype = file
            .metadata
            .get(&dtype_key(name))
            .and_then(|d| Dtype::from_name(d))
            .ok_or_else(|| err(name, "no original dtype in __metadata__".into()))?;
        out.insert(
            name.to_string(),
            QuantizedInfo {
                scheme,
                shape,
                dtype,
            },
        );
    }
    Ok(out)
}

/// Finds the stored parts of quantized tensor `name`.
pub fn stored_parts(
    file: &SafetensorsFile,
    name: &str,
    scheme: &QuantScheme,
) -> Result<StoredParts> {
    let find = |suffix: &str| {
        file.tensors
            .iter()
            .find(|t| t.name == format!("{name}.{suffix}"))
            .cloned()
    };
    let need = |suffix: &str| {
        find(suffix).ok_or_else(|| Error::Format {
            file: file.path.display().to_string(),
            tensor: Some(name.to_string()),
            message: format!("`{name}.{suffix}` is missing"),
        })
    };
    Ok(StoredParts {
        qweight: need("qweight")?,
        scales: need("scales")?,
        zeros: if scheme.mode == QuantMode::Affine {
            Some(need("zeros")?)
        } else {
            None
        },
        global: if scheme.param == QuantParam::E4M3 {
            Some(need("global_scale")?)
        } else {
            None
        },
    })
}

/// Reads quantized tensor `name` from its stored parts.
pub fn read_quantized(
    file: &mut SafetensorsFile,
    name: &str,
    parts: &StoredParts,
    info: &QuantizedInfo,
) -> Result<QuantizedTensor> {
    let codes = file.read(&parts.qweight)?;
    let scale_bytes = file.read(&parts.scales)?;
    let zeros = match &parts.zeros {
        Some(z) => file.read(z)?,
        None => Vec::new(),
    };
    let global = match &parts.global {
        Some(g) => file
            .read(g)?
            .get(..4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        None => None,
    };
    QuantizedTensor::from_stored(
        info.scheme,
        info.shape.clone(),
        &codes,
        &scale_bytes,
        zeros,
        global,
    )
    .map_err(|e| Error::Format {
        file: file.path.display().to_string(),
        tensor: Some(name.to_string()),
        message: e.to_string(),
    })
}

impl QuantizedModel {
    /// Loads a file written by `wgquant quantize --format wgquant`.
    pub fn load(path: &Path) -> Result<Self> {
        let mut file = SafetensorsFile::open(path)?;
        if !file.metadata.contains_key(KEY_FORMAT) {
            return Err(Error::Format {
                file: path.display().to_string(),
                tensor: None,
                message: "not a wgquant model (no `wgquant.format` in __metadata__)".into(),
            });
        }
        let mut tensors = BTreeMap::new();
        let mut part_names = std::collections::BTreeSet::new();
        for (name, info) in quantized_index(&file)? {
            let parts = stored_parts(&file, &name, &info.scheme)?;
            part_names.extend(parts.names().map(str::to_string));
            let q = read_quantized(&mut file, &name, &parts, &info)?;
            tensors.insert(
                name,
                ModelTensor::Quantized {
                    q,
                    dtype: info.dtype,
                },
            );
        }
        for entry in file.tensors.clone() {
            if !part_names.contains(&entry.name) {
                let data = file.read(&entry)?;
                tensors.insert(
                    entry.name,
                    ModelTensor::Plain {
                        dtype: entry.dtype,
                        shape: entry.shape,
                        data,
                    },
                );
            }
        }
        let metadata = file
            .metadata
            .iter()
            .filter(|(k, _)| !k.starts_with("wgquant."))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(QuantizedModel { tensors, metadata })
    }
}
