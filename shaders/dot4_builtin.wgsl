// Signed dot product of four packed int8 pairs: the packed_4x8_integer_dot_product builtin.
fn dot4(a: u32, b: u32) -> i32 {
    return dot4I8Packed(a, b);
}
