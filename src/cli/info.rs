//! `wgquant info`: adapters, backend, features and limits.

use crate::error::Result;
use crate::gpu::context::GpuContext;

/// Prints every adapter wgpu sees and the details of the one wgquant selects.
pub fn info() -> Result<()> {
    let desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    let backends = desc.backends;
    let instance = wgpu::Instance::new(desc);
    println!("adapters ({backends:?}):");
    for a in pollster::block_on(instance.enumerate_adapters(backends)) {
        let i = a.get_info();
        println!(
            "  {} ({:?}, {:?}, {} {})",
            i.name, i.backend, i.device_type, i.driver, i.driver_info
        );
    }
    let ctx = GpuContext::new()?;
    let f = ctx.features();
    let l = ctx.device().limits();
    println!("selected: {}", ctx.describe());
    println!(
        "features: subgroup={} shader_f16={} timestamp_query={}",
        f.subgroup, f.shader_f16, f.timestamp_query
    );
    println!(
        "limits: max_storage_buffer_binding_size={} max_buffer_size={} max_compute_workgroups_per_dimension={} min_storage_buffer_offset_alignment={} subgroup_size={}..{}",
        l.max_storage_buffer_binding_size,
        l.max_buffer_size,
        l.max_compute_workgroups_per_dimension,
        l.min_storage_buffer_offset_alignment,
        ctx.adapter_info().subgroup_min_size,
        ctx.adapter_info().subgroup_max_size,
    );
    Ok(())
}
