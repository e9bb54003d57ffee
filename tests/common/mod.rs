//! Shared test helpers: one GPU context per test binary.
#![allow(dead_code)]

use std::sync::OnceLock;

use wgquant::GpuContext;

/// The context shared by the tests of one binary; prints the adapter once.
pub fn ctx() -> &'static GpuContext {
    static CTX: OnceLock<GpuContext> = OnceLock::new();
    CTX.get_or_init(|| {
        let ctx = GpuContext::new()
            .expect("tests need a GPU adapter (lavapipe: apt-get install mesa-vulkan-drivers)");
        eprintln!("adapter: {}", ctx.describe());
        ctx
    })
}
