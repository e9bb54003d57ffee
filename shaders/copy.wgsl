// The device roofline: copy `count` vec4<u32> (16 bytes each) with vec4 loads and stores, one
// invocation per vec4. Benchmarks divide each kernel's bytes by this copy's bytes per second.
// Standalone (no prelude); binding 0 mirrors `CopyDims` in src/gpu/bindings.rs.

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
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i < g.count) {
        copy_dst[i] = copy_src[i];
    }
}
