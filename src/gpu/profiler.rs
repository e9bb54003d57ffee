//! Timestamp slots for the compute passes of running measurements (adapters with
//! TIMESTAMP_QUERY). Each thread that runs [`crate::GpuContext::gpu_time`] has its own query set,
//! so that several threads can time their own work on one context at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::thread::ThreadId;

use crate::error::{Error, Result};

/// Timestamps one measurement can hold: two per pass, so 2048 passes.
pub(crate) const CAPACITY: u32 = 4096;

/// One running measurement: its query set and the next free index.
struct Measurement {
    query_set: wgpu::QuerySet,
    next: u32,
}

/// The running measurements, by the thread that runs each.
#[derive(Default)]
pub(crate) struct Profiler {
    running: Mutex<HashMap<ThreadId, Measurement>>,
}

impl Profiler {
    /// Starts the calling thread's measurement into `query_set` (replacing one already running
    /// on this thread).
    pub(crate) fn start(&self, query_set: wgpu::QuerySet) -> Result<()> {
        let m = Measurement { query_set, next: 0 };
        self.lock()?.insert(std::thread::current().id(), m);
        Ok(())
    }

    /// Ends the calling thread's measurement; returns how many timestamps it used.
    pub(crate) fn stop(&self) -> Result<u32> {
        let m = self.lock()?.remove(&std::thread::current().id());
        Ok(m.map_or(0, |m| m.next))
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<ThreadId, Measurement>>> {
        self.running
            .lock()
            .map_err(|_| Error::Device("profiler lock poisoned by an earlier panic".into()))
    }

    /// Timestamp writes for the calling thread's next compute pass, while it measures.
    pub(crate) fn pass_timestamps(&self) -> Option<(wgpu::QuerySet, u32)> {
        let mut running = self.running.lock().ok()?;
        let m = running.get_mut(&std::thread::current().id())?;
        if m.next + 2 > CAPACITY {
            return None;
        }
        m.next += 2;
        Some((m.query_set.clone(), m.next - 2))
    }
}
