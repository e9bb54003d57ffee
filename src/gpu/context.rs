//! Headless adapter and device selection, feature detection, and error scopes that turn wgpu's
//! validation and out-of-memory errors into `Err` instead of a panic.

use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::pipelines::PipelineCache;
use crate::gpu::profiler::{Profiler, CAPACITY};

/// Optional adapter features wgquant uses when present and works without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuFeatures {
    pub subgroup: bool,
    pub shader_f16: bool,
    pub timestamp_query: bool,
}

/// One adapter, device and queue, with the pipelines compiled for them.
///
/// ```no_run
/// let ctx = wgquant::GpuContext::new()?;
/// println!("{}", ctx.describe());
/// # Ok::<(), wgquant::Error>(())
/// ```
pub struct GpuContext {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    features: GpuFeatures,
    pub(crate) limits: wgpu::Limits,
    pub(crate) pipelines: PipelineCache,
    /// Errors that escaped every error scope (reported instead of wgpu's panicking default).
    uncaptured: Arc<Mutex<Vec<String>>>,
    /// Largest window of one buffer bound to a kernel; below the adapter's binding limit.
    pub(crate) chunk_bytes: u64,
    /// WGSL's packed_4x8_integer_dot_product (`dot4I8Packed`) is available.
    packed_dot: bool,
    /// Set while `gpu_time` measures.
    pub(crate) profiler: Profiler,
    /// Kernels with a CPU and a GPU layout take the CPU one (see [`GpuContext::set_cpu_walks`]).
    cpu_walks: bool,
}

impl GpuContext {
    /// Picks an adapter honouring `WGPU_BACKEND`, `WGPU_ADAPTER_NAME` and `WGPU_POWER_PREF`.
    /// Native wgpu resolves these requests at once, so blocking on them does not wait.
    pub fn new() -> Result<Self> {
        let desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        let backends = desc.backends;
        let instance = wgpu::Instance::new(desc);
        let packed_dot = instance
            .wgsl_language_features()
            .contains(wgpu::WgslLanguageFeatures::Packed4x8IntegerDotProduct);
        let adapter = select_adapter(&instance, backends)?;
        let info = adapter.get_info();
        let wanted =
            wgpu::Features::SUBGROUP | wgpu::Features::SHADER_F16 | wgpu::Features::TIMESTAMP_QUERY;
        let present = adapter.features() & wanted;
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("wgquant"),
            required_features: present,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| Error::Device(format!("cannot open a device on {}: {e}", info.name)))?;
        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        let sink = uncaptured.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        let chunk_bytes = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size)
            & !255;
        Ok(GpuContext {
            pipelines: PipelineCache::default(),
            device,
            queue,
            features: GpuFeatures {
                subgroup: present.contains(wgpu::Features::SUBGROUP),
                shader_f16: present.contains(wgpu::Features::SHADER_F16),
                timestamp_query: present.contains(wgpu::Features::TIMESTAMP_QUERY),
            },
            limits,
            uncaptured,
            chunk_bytes,
            packed_dot,
            profiler: Default::default(),
            cpu_walks: info.device_type == wgpu::DeviceType::Cpu,
            info,
        })
    }

    /// The adapter in use.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// Optional features found on the adapter.
    pub fn features(&self) -> GpuFeatures {
        self.features
    }

    /// Whether the integer matmul path uses WGSL's `dot4I8Packed` (else a manual fallback).
    pub fn packed_dot_builtin(&self) -> bool {
        self.packed_dot
    }

    /// Turns the `dot4I8Packed` builtin off, so the manual fallback runs (tests and comparisons).
    pub fn disable_packed_dot_builtin(&mut self) {
        self.packed_dot = false;
    }

    /// Whether kernels with two layouts take the CPU adapter's: consecutive runs per lane and
    /// per-lane partial sums, where a GPU's lanes interleave (coalesced) and add over subgroups.
    pub fn cpu_walks(&self) -> bool {
        self.cpu_walks
    }

    /// Chooses the layout of [`GpuContext::cpu_walks`] whatever the adapter, so that tests on
    /// one adapter run both.
    pub fn set_cpu_walks(&mut self, cpu: bool) {
        self.cpu_walks = cpu;
    }

    /// The device, for creating buffers that [`crate::GpuTensor::from_buffer`] can take.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue of [`GpuContext::device`].
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// One line naming the adapter, backend and driver.
    pub fn describe(&self) -> String {
        let i = &self.info;
        format!(
            "{} ({:?}, {:?}, driver {} {})",
            i.name, i.backend, i.device_type, i.driver, i.driver_info
        )
    }

    /// Number of pipelines compiled so far (each kernel specialization compiles once).
    pub fn pipelines_compiled(&self) -> usize {
        self.pipelines.compiled()
    }

    /// Lowers the largest buffer window bound to one dispatch, forcing big-tensor chunking on
    /// small tensors (tests and tuning). Rounded down to 256 bytes; at least 256.
    pub fn set_chunk_bytes(&mut self, bytes: u64) {
        let cap = self
            .limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size);
        self.chunk_bytes = bytes.clamp(256, cap) & !255;
    }

    /// Runs `f` and returns its result with the GPU time of the compute passes it records on
    /// this thread, in seconds (the sum of each pass's end minus start), or `None` where the
    /// adapter has no timestamps. Other threads may time their own work meanwhile; measurements
    /// do not nest on one thread.
    pub fn gpu_time<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<(T, Option<f64>)> {
        if !self.features().timestamp_query {
            return Ok((f()?, None));
        }
        let query_set = self.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("wgquant timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: CAPACITY,
        });
        self.profiler.start(query_set.clone())?;
        let out = f();
        let used = self.profiler.stop()?;
        let out = out?;
        if used == 0 {
            return Ok((out, Some(0.0)));
        }
        let resolve = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("wgquant timestamps resolve"),
            size: used as u64 * 8,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.resolve_query_set(&query_set, 0..used, &resolve, 0);
        self.queue.submit([encoder.finish()]);
        let ticks: Vec<u64> =
            bytemuck::pod_collect_to_vec(&self.read_bytes(&resolve, used as u64 * 8)?);
        let period = self.queue.get_timestamp_period() as f64 * 1e-9;
        let total: u64 = ticks
            .chunks_exact(2)
            .map(|p| p[1].saturating_sub(p[0]))
            .sum();
        Ok((out, Some(total as f64 * period)))
    }

    /// Starts capturing validation and out-of-memory errors of the work that follows.
    pub(crate) fn scope(&self) -> ErrorScope {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        ErrorScope { validation, oom }
    }

    /// Blocks until all submitted work is done.
    pub(crate) fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| Error::Device(format!("waiting for the GPU failed: {e}")))?;
        // Report (and clear) every error that escaped the scopes, so none leaks into a later call.
        let escaped = self
            .uncaptured
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        match escaped.into_iter().next() {
            Some(message) => Err(Error::Validation {
                context: "an earlier GPU call".into(),
                message,
            }),
            None => Ok(()),
        }
    }
}

/// Validation and out-of-memory scopes pushed by [`GpuContext::scope`].
/// Fields in reverse push order: if the scope is dropped on an early return, the guards pop in
/// the order wgpu requires.
pub(crate) struct ErrorScope {
    validation: wgpu::ErrorScopeGuard,
    oom: wgpu::ErrorScopeGuard,
}

impl ErrorScope {
    /// Pops both scopes and returns the first error they caught. Native wgpu checks errors as
    /// the work is recorded and submitted, so the popped futures are ready at once.
    pub(crate) fn finish(self, context: &str) -> Result<()> {
        let validation = self.validation.pop();
        let oom = self.oom.pop();
        if let Some(e) = pollster::block_on(validation) {
            return Err(Error::Validation {
                context: context.to_string(),
                message: e.to_string(),
            });
        }
        if pollster::block_on(oom).is_some() {
            return Err(Error::OutOfMemory {
                context: context.to_string(),
            });
        }
        Ok(())
    }
}

fn select_adapter(instance: &wgpu::Instance, backends: wgpu::Backends) -> Result<wgpu::Adapter> {
    if let Ok(name) = std::env::var("WGPU_ADAPTER_NAME") {
        let wanted = name.to_lowercase();
        let adapters = pollster::block_on(instance.enumerate_adapters(backends));
        let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
        return adapters
            .into_iter()
            .find(|a| a.get_info().name.to_lowercase().contains(&wanted))
            .ok_or_else(|| Error::NoAdapter {
                detail: format!("WGPU_ADAPTER_NAME={name} matches none of {names:?}"),
            });
    }
    pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::from_env().unwrap_or_default(),
        ..Default::default()
    }))
    .map_err(|e| Error::NoAdapter {
        detail: format!("backends {backends:?}: {e}"),
    })
}
