// Binding 1 as u32 words, and the kernels' input element through it; prepended after
// common.wgsl to every kernel but those that read binding 1 as vec4 (quantize_vec4.wgsl).

@group(0) @binding(1) var<storage, read> src: array<u32>;

// Input element `i` of the bound window as f32.
fn load_x(i: u32) -> f32 {
    return widen(src[word_of(i, INPUT)], i, INPUT);
}
