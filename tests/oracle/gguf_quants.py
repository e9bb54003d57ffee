"""Oracle for wgquant's GGUF block types: gguf-py's own quantize and dequantize.

usage: gguf_quants.py INPUT ROWS COLS OUTDIR TYPE...
  INPUT   little-endian f32, ROWS x COLS
  OUTDIR  written: <TYPE>.bin (gguf.quants.quantize bytes) and <TYPE>.f32 (gguf.quants.dequantize
          of those bytes) for each TYPE, a GGMLQuantizationType name such as Q4_0
Exits 3 when numpy or gguf is missing, so the caller can report a skip.
"""
import os
import sys

try:
    import numpy as np
    import gguf
    from gguf.quants import quantize, dequantize
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(3)

rows, cols = int(sys.argv[2]), int(sys.argv[3])
x = np.fromfile(sys.argv[1], dtype="<f4").reshape(rows, cols)
for name in sys.argv[5:]:
    qtype = gguf.GGMLQuantizationType[name]
    q = quantize(x, qtype)
    q.tofile(os.path.join(sys.argv[4], f"{name}.bin"))
    dequantize(q, qtype).astype("<f4").tofile(os.path.join(sys.argv[4], f"{name}.f32"))
print(f"gguf-py {getattr(gguf, '__version__', '0.19.0')}: {rows} rows of {cols}")
