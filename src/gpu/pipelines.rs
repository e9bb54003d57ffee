//! Pipeline cache: each (kernel, override constants) pair is compiled once per context.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::bindings::Access;
use crate::gpu::shaders::{Constants, Kernel};

/// A compiled pipeline and the layout of its one bind group.
pub(crate) struct Pipeline {
    pub kernel: Kernel,
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
}

type Key = (Kernel, Vec<(&'static str, u64)>);

#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: Mutex<
        HashMap<
            Kernel,
            (
                wgpu::ShaderModule,
                wgpu::BindGroupLayout,
                wgpu::PipelineLayout,
            ),
        >,
    >,
    pipelines: Mutex<HashMap<Key, Arc<Pipeline>>>,
    compiled: AtomicUsize,
}

impl PipelineCache {
    pub fn compiled(&self) -> usize {
        self.compiled.load(Ordering::Relaxed)
    }

    /// The pipeline for `kernel` specialized with `constants`, compiling it on first use.
    /// Compilation errors come back as `Err` through error scopes.
    pub fn get(
        &self,
        device: &wgpu::Device,
        kernel: Kernel,
        constants: &Constants,
    ) -> Result<Arc<Pipeline>> {
        let key: Key = (
            kernel,
            constants.iter().map(|(n, v)| (*n, v.to_bits())).collect(),
        );
        let mut pipelines = self.pipelines.lock().map_err(|_| poisoned())?;
        if let Some(p) = pipelines.get(&key) {
            return Ok(p.clone());
        }
        let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let (module, layout, pipeline_layout) = {
            let mut modules = self.modules.lock().map_err(|_| poisoned())?;
            modules
                .entry(kernel)
                .or_insert_with(|| {
                    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(&format!("{kernel:?}")),
                        source: wgpu::ShaderSource::Wgsl(kernel.source().into()),
                    });
                    let layout = bind_group_layout(device, kernel);
                    let pipeline_layout =
                        device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                            label: None,
                            bind_group_layouts: &[Some(&layout)],
                            immediate_size: 0,
                        });
                    (module, layout, pipeline_layout)
                })
                .clone()
        };
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&format!("{kernel:?}")),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(kernel.entry_point()),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants,
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
        if let Some(e) = pollster::block_on(validation.pop()) {
            return Err(Error::Validation {
                context: format!("compiling {kernel:?} with {constants:?}"),
                message: e.to_string(),
            });
        }
        let p = Arc::new(Pipeline {
            kernel,
            pipeline,
            layout,
        });
        self.compiled.fetch_add(1, Ordering::Relaxed);
        pipelines.insert(key, p.clone());
        Ok(p)
    }
}

/// The kernel's one bind group, explicit so that a specialization that leaves a binding unused
/// still takes the same bind group.
fn bind_group_layout(device: &wgpu::Device, kernel: Kernel) -> wgpu::BindGroupLayout {
    let entries: Vec<wgpu::BindGroupLayoutEntry> = kernel
        .slots()
        .iter()
        .map(|slot| wgpu::BindGroupLayoutEntry {
            binding: slot.binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: match slot.access {
                    Access::Uniform => wgpu::BufferBindingType::Uniform,
                    Access::Read => wgpu::BufferBindingType::Storage { read_only: true },
                    Access::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
                },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        })
        .collect();
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("wgquant kernel"),
        entries: &entries,
    })
}

fn poisoned() -> Error {
    Error::Device("pipeline cache lock poisoned by an earlier panic".into())
}
