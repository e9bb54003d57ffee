"""Oracle for wgquant's minifloat encodings: ml_dtypes' own casts.

usage: minifloat.py INPUT CODES DECODED
  INPUT   little-endian f32 values
  CODES   written: for e4m3, e5m2, e2m1 in turn, one byte per input (ml_dtypes' bits after
          clamping to +-max, since ml_dtypes does not saturate)
  DECODED written: for each format, the f32 value of every code 0..255 (0..15 for e2m1)
Exits 3 when numpy or ml_dtypes is missing, so the caller can report a skip.
"""
import sys

try:
    import numpy as np
    import ml_dtypes
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(3)

FORMATS = [
    (ml_dtypes.float8_e4m3fn, 256),
    (ml_dtypes.float8_e5m2, 256),
    (ml_dtypes.float4_e2m1fn, 16),
]

x = np.fromfile(sys.argv[1], dtype="<f4")
codes, decoded = [], []
for dtype, n in FORMATS:
    top = np.float32(ml_dtypes.finfo(dtype).max)
    codes.append(np.clip(x, -top, top).astype(dtype).view(np.uint8))
    decoded.append(np.arange(n, dtype=np.uint8).view(dtype).astype(np.float32))
np.concatenate(codes).tofile(sys.argv[2])
np.concatenate(decoded).astype("<f4").tofile(sys.argv[3])
print(f"ml_dtypes {ml_dtypes.__version__}: {len(x)} values")
