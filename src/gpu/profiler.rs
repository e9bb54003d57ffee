//! GPU time of a piece of work, from timestamps written at the start and end of every compute
//! pass it records (adapters with TIMESTAMP_QUERY). The benchmarks use it so that their kernel
//! figures exclude host overhead and readbacks.

use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::gpu::context::GpuContext;

/// Timestamps one measurement can hold: two per pass, so 2048 passes.
const CAPACITY: u32 = 4096;

/// While a measurement runs: the query set and the next free index.
pub(crate) struct Profiler {
    query_set: wgpu::QuerySet,
    next: u32,
}

pub(crate) type ProfilerSlot = Mutex<Option<Profiler>>;

impl GpuContext {
    /// Timestamp writes for the next compute pass, while a measurement runs.
    pub(crate) fn pass_timestamps(&self) -> Option<(wgpu::QuerySet, u32)> {
        let mut slot = self.profiler.lock().ok()?;
        let p = slot.as_mut()?;
        if p.next + 2 > CAPACITY {
            return None;
        }
        p.next += 2;
        Some((p.query_set.clone(), p.next - 2))
    }

    /// Runs `f` and returns its result with the GPU time of its compute passes in seconds (the
    /// sum of each pass's end minus start), or `None` where the adapter has no timestamps.
    pub fn gpu_time<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<(T, Option<f64>)> {
        if !self.features().timestamp_query {
            return Ok((f()?, None));
        }
        let query_set = self.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("wgquant timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: CAPACITY,
        });
        *self.profiler.lock().map_err(|_| poisoned())? = Some(Profiler {
            query_set: query_set.clone(),
            next: 0,
        });
        let out = f();
        let used = self
            .profiler
            .lock()
            .map_err(|_| poisoned())?
            .take()
            .map_or(0, |p| p.next);
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
}

fn poisoned() -> Error {
    Error::Device("profiler lock poisoned by an earlier panic".into())
}
