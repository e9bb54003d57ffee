//! naga parses and validates every shader specialization the host can request, after the
//! override constants are applied (as wgpu does at pipeline creation).

use naga::valid::{Capabilities, ValidationFlags, Validator};
use wgquant::gpu::bindings::{uniform_layouts, Access};
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
    for kernel in Kernel::ALL {
        assert!(
            specs.iter().any(|(k, _)| *k == kernel),
            "no specialization of {kernel:?}"
        );
    }
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

/// Each entry point statically uses exactly the bindings of the host's bindings struct for it
/// (same numbers, names and access; nothing bound only to fill a shared layout), and every
/// uniform it reads has the host struct's field names, offsets and size.
#[test]
fn host_bindings_and_uniforms_match_the_shaders() {
    let uniforms = uniform_layouts();
    let mut checked_uniforms = std::collections::BTreeSet::new();
    for kernel in Kernel::ALL {
        let (module, info) = validate(kernel);
        let index = module
            .entry_points
            .iter()
            .position(|e| e.name == kernel.entry_point())
            .unwrap_or_else(|| panic!("{kernel:?}: no entry point {}", kernel.entry_point()));
        let uses = info.get_entry_point(index);
        let mut found = Vec::new();
        for (handle, var) in module.global_variables.iter() {
            let Some(binding) = &var.binding else {
                continue;
            };
            if uses[handle].is_empty() {
                continue;
            }
            assert_eq!(binding.group, 0, "{kernel:?}: {:?}", var.name);
            let access = match var.space {
                naga::AddressSpace::Uniform => Access::Uniform,
                naga::AddressSpace::Storage { access } => {
                    if access.contains(naga::StorageAccess::STORE) {
                        Access::ReadWrite
                    } else {
                        Access::Read
                    }
                }
                other => panic!("{kernel:?}: binding in {other:?}"),
            };
            let name = var.name.clone().unwrap_or_default();
            if access == Access::Uniform {
                let ty = &module.types[var.ty];
                let naga::TypeInner::Struct { members, span } = &ty.inner else {
                    panic!("{kernel:?}: uniform {name} is not a struct");
                };
                let struct_name = ty.name.clone().unwrap_or_default();
                if binding.binding == 0 {
                    assert_eq!(struct_name, kernel.uniform_struct(), "{kernel:?}");
                }
                let host = uniforms
                    .iter()
                    .find(|u| u.name == struct_name)
                    .unwrap_or_else(|| panic!("{kernel:?}: no host mirror of {struct_name}"));
                let wgsl: Vec<(String, usize)> = members
                    .iter()
                    .map(|m| (m.name.clone().unwrap_or_default(), m.offset as usize))
                    .collect();
                let rust: Vec<(String, usize)> = host
                    .fields
                    .iter()
                    .map(|&(n, o)| (n.to_string(), o))
                    .collect();
                assert_eq!(wgsl, rust, "{kernel:?}: fields of {struct_name}");
                assert_eq!(
                    *span as usize, host.size,
                    "{kernel:?}: size of {struct_name}"
                );
                checked_uniforms.insert(struct_name);
            }
            found.push((binding.binding, name, access));
        }
        found.sort_by_key(|f| f.0);
        let host: Vec<(u32, String, Access)> = kernel
            .slots()
            .iter()
            .map(|s| (s.binding, s.name.to_string(), s.access))
            .collect();
        assert_eq!(found, host, "{kernel:?}: WGSL bindings vs the host's");
    }
    let all: std::collections::BTreeSet<String> =
        uniforms.iter().map(|u| u.name.to_string()).collect();
    assert_eq!(
        checked_uniforms, all,
        "host uniform structs no kernel reads"
    );
}
