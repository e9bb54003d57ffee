// Signed dot product of four packed int8 pairs, for adapters without the
// packed_4x8_integer_dot_product language feature.
fn dot4(a: u32, b: u32) -> i32 {
    var s = 0i;
    for (var i = 0u; i < 4u; i++) {
        s += (bitcast<i32>(a << (24u - 8u * i)) >> 24u) * (bitcast<i32>(b << (24u - 8u * i)) >> 24u);
    }
    return s;
}
