//! naga parses and validates every shader specialization the host can request, after the
//! override constants are applied (as wgpu does at pipeline creation).

use naga::valid::{Capabilities, ValidationFlags, Validator};
use wgquant::gpu::shaders::{all_specializations, Kernel};

fn validate(source: &str) -> (naga::Module, naga::valid::ModuleInfo) {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
    let info = Validator::new(ValidationFlags::all(), Capabilities::empty())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
    (module, info)
}

#[test]
fn every_kernel_parses_and_validates() {
    for kernel in Kernel::ALL {
        validate(&kernel.source());
    }
}

#[test]
fn every_specialization_validates() {
    let specs = all_specializations();
    assert!(specs.len() > 100, "only {} specializations", specs.len());
    for (kernel, constants) in &specs {
        let source = kernel.source();
        let (module, info) = validate(&source);
        let mut map = naga::back::PipelineConstants::default();
        for (name, value) in constants {
            map.insert(name.to_string(), *value);
        }
        let (module, _) = naga::back::pipeline_constants::process_overrides(
            &module,
            &info,
            Some((naga::ShaderStage::Compute, "main")),
            &map,
        )
        .unwrap_or_else(|e| panic!("{kernel:?} {constants:?}: {e}"));
        Validator::new(ValidationFlags::all(), Capabilities::empty())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{kernel:?} {constants:?}: {e}"));
    }
    eprintln!("{} specializations validated", specs.len());
}
