//! Timing one piece of work: timestamps around its compute passes where the adapter has them,
//! else wall clock; and the roofline kernel every figure is divided by.

use std::time::Instant;

use crate::error::Result;
use crate::gpu::bindings::{CopyBindings, CopyDims};
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::workgroups;
use crate::gpu::shaders::{copy_constants, Kernel, COPY_VEC4S};

/// (median, min, max) seconds of `reps` runs of `f(i)` after one warm-up, and which clock:
/// GPU timestamps around the work's compute passes where the adapter has them, else wall clock.
pub(super) fn time(
    ctx: &GpuContext,
    reps: usize,
    mut f: impl FnMut(usize) -> Result<()>,
) -> Result<Timing> {
    f(0)?;
    let (mut gpu, mut wall) = (Vec::new(), Vec::new());
    for i in 0..reps.max(1) {
        let s = Instant::now();
        let ((), t) = ctx.gpu_time(|| f(i))?;
        wall.push(s.elapsed().as_secs_f64());
        gpu.extend(t);
    }
    let (t, clock) = if gpu.len() == wall.len() && gpu.iter().all(|&t| t > 0.0) {
        (gpu, "timestamp")
    } else {
        (wall, "wall")
    };
    Ok(Timing::of(t, clock))
}

/// Wall-clock timing for host-side work (end-to-end runs and the CPU reference).
pub(super) fn time_wall(reps: usize, mut f: impl FnMut(usize) -> Result<()>) -> Result<Timing> {
    f(0)?;
    let mut t = Vec::new();
    for i in 0..reps.max(1) {
        let s = Instant::now();
        f(i)?;
        t.push(s.elapsed().as_secs_f64());
    }
    Ok(Timing::of(t, "wall"))
}

/// Median, min and max seconds, and the clock that measured them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timing {
    pub(super) median: f64,
    pub(super) min: f64,
    pub(super) max: f64,
    pub(super) clock: &'static str,
}

impl Timing {
    fn of(mut t: Vec<f64>, clock: &'static str) -> Self {
        t.sort_by(f64::total_cmp);
        Timing {
            median: t[t.len() / 2],
            min: t[0],
            max: t[t.len() - 1],
            clock,
        }
    }
}

impl GpuContext {
    /// Copies `vec4s` 16-byte words from `a` to `b` with the roofline kernel and waits.
    pub(super) fn copy_vec4(&self, a: &wgpu::Buffer, b: &wgpu::Buffer, vec4s: usize) -> Result<()> {
        let interleaved = !self.cpu_walks();
        let pipeline =
            self.pipelines
                .get(&self.device, Kernel::Copy, &copy_constants(interleaved))?;
        let scope = self.scope();
        let mut encoder = self.device.create_command_encoder(&Default::default());
        let dims = CopyDims {
            count: vec4s as u32,
            ..Default::default()
        };
        let bindings = CopyBindings {
            copy_src: (a, self.window(a, 0, vec4s * 4, 4)),
            copy_dst: (b, self.window(b, 0, vec4s * 4, 4)),
        };
        self.dispatch(
            &mut encoder,
            &pipeline,
            &dims,
            &bindings,
            workgroups((vec4s as u32).div_ceil(COPY_VEC4S)),
        );
        self.queue.submit([encoder.finish()]);
        self.wait()?;
        scope.finish("copy")
    }
}
