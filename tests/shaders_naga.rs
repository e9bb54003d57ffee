//! naga parses and validates every shader specialization the host can request, after the
//! override constants are applied (as wgpu does at pipeline creation).

use naga::valid::{Capabilities, ValidationFlags, Validator};
use wgquant::gpu::shaders::{all_specializations, Kernel};

/// A validator with the capabilities the kernel asks the adapter for (subgroups for the
/// subgroup GEMV; nothing beyond core WebGPU for the rest).
fn validator(kernel: Kernel) -> Validator {
    if kernel.needs_subgroups() {
        let mut v = Validator::new(ValidationFlags::all(), Capabilities::SUBGROUP);
        v.subgroup_stages(naga::valid::ShaderStages::COMPUTE)
            .subgroup_operations(naga::valid::SubgroupOperationSet::all());
        v
    } else {
        Validator::new(ValidationFlags::all(), Capabilities::empty())
    }
}

fn validate(kernel: Kernel) -> (naga::Module, naga::valid::ModuleInfo) {
    let source = kernel.source();
    let module = naga::front::wgsl::parse_str(&source)
        .unwrap_or_else(|e| panic!("{}", e.emit_to_string(&source)));
    let info = validator(kernel)
        .validate(&module)
        .unwrap_or_else(|e| panic!("{kernel:?}: {}", e.emit_to_string(&source)));
    (module, info)
}

#[test]
fn every_kernel_parses_and_validates() {
    for kernel in Kernel::ALL {
        validate(kernel);
    }
}

#[test]
fn every_specialization_validates() {
    let specs = all_specializations();
    assert!(specs.len() > 100, "only {} specializations", specs.len());
    for (kernel, constants) in &specs {
        let (module, info) = validate(*kernel);
        let mut map = naga::back::PipelineConstants::default();
        for (name, value) in constants {
            map.insert(name.to_string(), *value);
        }
        let (module, _) = naga::back::pipeline_constants::process_overrides(
            &module,
            &info,
            Some((naga::ShaderStage::Compute, kernel.entry_point())),
            &map,
        )
        .unwrap_or_else(|e| panic!("{kernel:?} {constants:?}: {e}"));
        validator(*kernel)
            .validate(&module)
            .unwrap_or_else(|e| panic!("{kernel:?} {constants:?}: {e}"));
    }
    eprintln!("{} specializations validated", specs.len());
}

/// The enumerated overrides are compared only with the named values generated from the Rust
/// tables (`KIND == KIND_MINIFLOAT`), never with a number that would have to match Rust by hand.
#[test]
fn enumerated_overrides_use_generated_names() {
    let overrides = [
        "KIND",
        "PARAM",
        "INPUT",
        "X_DTYPE",
        "GGUF_TYPE",
        "OUT",
        "METHOD",
    ];
    for kernel in Kernel::ALL {
        let source = kernel.source();
        for name in overrides {
            for op in ["==", "!="] {
                let pattern = format!("{name} {op} ");
                for (at, _) in source.match_indices(&pattern) {
                    let before = source[..at].chars().next_back().unwrap_or(' ');
                    let next = source[at + pattern.len()..].chars().next().unwrap_or(' ');
                    assert!(
                        before.is_alphanumeric() || before == '_' || !next.is_ascii_digit(),
                        "{kernel:?}: `{name} {op}` compared with a number; use its generated name"
                    );
                }
            }
        }
    }
}
