// The device roofline: copy `count` vec4<u32> (16 bytes each) with vec4 loads and stores,
// COPY_VEC4S of them per invocation, so the per-invocation overhead is paid once per 8 vec4.
// INTERLEAVED: a workgroup's invocations take consecutive vec4 at each step (coalesced, for
// GPUs); otherwise each invocation takes COPY_VEC4S consecutive vec4 (for CPU adapters such as
// lavapipe, where the interleaved walk measured 2.5x slower). Benchmarks divide each kernel's
// bytes by this copy's bytes per second.
// Standalone (no prelude); binding 0 mirrors `CopyDims` in src/gpu/bindings.rs.

override INTERLEAVED: bool = true;

struct CopyDims {
    count: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> g: CopyDims;
@group(0) @binding(1) var<storage, read> copy_src: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> copy_dst: array<vec4<u32>>;

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let group = wid.x + wid.y * nwg.x;
    var first = (group * WG + lid) * COPY_VEC4S;
    var step = 1u;
    if (INTERLEAVED) {
        first = group * WG * COPY_VEC4S + lid;
        step = WG;
    }
    for (var j = 0u; j < COPY_VEC4S; j++) {
        let i = first + j * step;
        if (i < g.count) {
            copy_dst[i] = copy_src[i];
        }
    }
}
