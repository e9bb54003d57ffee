//! The one error type of wgquant. Every message says what was wrong and, where there is one,
//! what to do about it.

use thiserror::Error;

/// Result alias used by every public function.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in wgquant.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// The scheme combines parts that do not go together (NUMERICS section 1).
    #[error("invalid scheme `{scheme}`: {reason}")]
    InvalidScheme { scheme: String, reason: String },

    /// The scheme text could not be parsed.
    #[error("cannot parse scheme `{text}`: {reason} (expected e.g. `q4s:block32:f16`, `q8f:tensor:f32`, `q8s:block2x16:bf16:native`)")]
    ParseScheme { text: String, reason: String },

    /// A part of the scheme that a later version implements.
    #[error("{what} is not implemented yet")]
    Unsupported { what: String },

    /// The data does not fit the shape, or the shape does not fit the scheme.
    #[error("shape error: {0}")]
    Shape(String),

    /// An input element is NaN or infinite (NUMERICS section 2).
    #[error(
        "input element {index} (flat, row-major) is not finite; quantization needs finite inputs"
    )]
    NonFinite { index: u64 },

    /// A block's scale does not fit the scale type (e.g. F16 scales above 65504).
    #[error("block {block}: its scale overflows {param}; use F32 scales or scale the input down")]
    ScaleOverflow { block: u64, param: String },

    /// No GPU adapter could be found.
    #[error("no GPU adapter found ({detail}); install a GPU driver, or on a headless Linux box `apt-get install -y mesa-vulkan-drivers` (or set WGPU_BACKEND=gl to use Mesa's GL driver)")]
    NoAdapter { detail: String },

    /// The device could not be created or was lost.
    #[error("GPU device error: {0}")]
    Device(String),

    /// wgpu reported a validation error (a bug in wgquant or a limit of this adapter).
    #[error("GPU validation error in {context}: {message}")]
    Validation { context: String, message: String },

    /// The device ran out of memory.
    #[error("GPU out of memory in {context}; use smaller tensors or a GPU with more memory")]
    OutOfMemory { context: String },

    /// A file is malformed: its path, the tensor concerned (if one is), and what is wrong.
    #[error("{file}{}: {message}", tensor.as_ref().map(|t| format!(", tensor `{t}`")).unwrap_or_default())]
    Format {
        file: String,
        tensor: Option<String>,
        message: String,
    },

    /// Reading or writing a file failed.
    #[error("{path}: {message}")]
    Io { path: String, message: String },

    /// Bad command-line or job options.
    #[error("{0}")]
    Usage(String),

    /// A GPU result disagrees with the CPU reference beyond NUMERICS section 8's allowances.
    #[error("GPU result disagrees with the CPU reference: {0}")]
    ReferenceMismatch(String),

    /// Something is too large for this adapter even after chunking.
    #[error("too large for this adapter: {0}")]
    TooLarge(String),
}
