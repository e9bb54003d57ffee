"""Oracle for wgquant's whole minifloat quantize path (NUMERICS section 3): scales computed here
with numpy's f32 arithmetic, element codes by ml_dtypes' own casts.

usage: minifloat_quantize.py INPUT OUT SCHEME...
  INPUT   little-endian f32 values, a whole number of blocks
  OUT     written: for each SCHEME in turn, one code byte per element, then one f32 scale per
          block (NVFP4: the decoded E4M3 block scale, then the f32 global scale)
  SCHEME  wgquant's text `VALUE:blockN:PARAM`, VALUE e4m3, e5m2 or e2m1, PARAM f32, f16, bf16,
          e8m0 or e4m3 (NVFP4)
Inputs below 2^-126 in magnitude are zeros of the same sign (NUMERICS section 8).
Exits 3 when numpy or ml_dtypes is missing, so the caller can report a skip.
"""
import sys

try:
    import numpy as np
    import ml_dtypes
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(3)

F32 = np.float32
FORMATS = {
    "e4m3": (ml_dtypes.float8_e4m3fn, 8),
    "e5m2": (ml_dtypes.float8_e5m2, 15),
    "e2m1": (ml_dtypes.float4_e2m1fn, 2),
}


def cast(v, dtype):
    """ml_dtypes' round-to-nearest-even cast, saturated to +-max first (NUMERICS section 3: saturating)."""
    top = F32(ml_dtypes.finfo(dtype).max)
    return np.clip(v, -top, top).astype(dtype)


def round_up(s, dtype, bits_dtype):
    """s >= 0 rounded toward +infinity to f16 or bf16, as an f32."""
    r = s.astype(dtype)
    low = r.astype(F32) < s
    b = r.view(bits_dtype).copy()
    b[low] += 1
    return b.view(dtype).astype(F32)


def quantize(x, value, block, param):
    dtype, emax = FORMATS[value]
    top = F32(ml_dtypes.finfo(dtype).max)
    blocks = x.reshape(-1, block)
    amax = np.abs(blocks).max(axis=1).astype(F32)
    out_scales = []
    if param == "e8m0":
        # 2^(floor(log2(amax)) - emax), exponent clamped to [-127, 127]; amax 0 gives 2^-127,
        # a real scale, so a -0.0 element keeps its sign there too.
        _, e = np.frexp(amax)
        k = np.where(amax == 0, -127, np.clip(e - 1 - emax, -127, 127))
        sp = np.ldexp(F32(1), k).astype(F32)
        v = blocks / sp[:, None]
        codes = cast(v, dtype).view(np.uint8)
        out_scales = [sp]
    elif param == "e4m3":
        glob = F32(amax.max()) / F32(448 * 6)
        if glob == 0:
            bs = np.zeros_like(amax)
            codes = np.zeros(blocks.shape, np.uint8)
        else:
            raw = (amax / F32(6)) / glob
            lo, hi = F32(2.0**-9), F32(448)
            bs = np.clip(cast(raw, ml_dtypes.float8_e4m3fn).astype(F32), lo, hi)
            v = blocks / (bs * glob)[:, None]
            codes = cast(v, dtype).view(np.uint8)
        out_scales = [bs, np.array([glob], F32)]
    else:
        s = amax / top
        if param == "f16":
            sp = round_up(s, np.float16, np.uint16)
        elif param == "bf16":
            sp = round_up(s, ml_dtypes.bfloat16, np.uint16)
        else:
            sp = s
        safe = np.where(sp == 0, F32(1), sp)
        codes = cast(blocks / safe[:, None], dtype).view(np.uint8)
        codes = np.where(sp[:, None] == 0, 0, codes)
        out_scales = [sp]
    return codes.reshape(-1).astype(np.uint8), out_scales


x = np.fromfile(sys.argv[1], dtype="<f4")
schemes = sys.argv[3:]
tiny = F32(np.finfo(F32).tiny)
x = np.where(np.abs(x) < tiny, np.copysign(F32(0), x), x).astype(F32)
with open(sys.argv[2], "wb") as out:
    for text in schemes:
        value, level, param = text.split(":")
        codes, scales = quantize(x, value, int(level.removeprefix("block")), param)
        out.write(codes.tobytes())
        for s in scales:
            out.write(s.astype("<f4").tobytes())
print(f"ml_dtypes {ml_dtypes.__version__}: {len(x)} values, {len(schemes)} schemes")
