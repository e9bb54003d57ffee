"""Oracle for wgquant's GGUF writer: gguf-py's GGUFReader and dequantize.

usage: gguf_read.py FILE DUMP
  writes DUMP (every tensor dequantized to little-endian f32, in file order; integer tensors
  as their values) and DUMP with extension .json: [[name, type, shape (row-major), count], ...]
Exits 3 when numpy or gguf is missing, so the caller can report a skip.
"""
import json
import os
import sys

try:
    import numpy as np
    from gguf import GGUFReader
    from gguf.quants import dequantize
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(3)

reader = GGUFReader(sys.argv[1])
listing, chunks = [], []
for t in reader.tensors:
    if t.tensor_type.name in ("I8", "I16", "I32", "I64"):
        values = np.asarray(t.data).astype("<f4").ravel()
    else:
        values = dequantize(t.data, t.tensor_type).astype("<f4").ravel()
    shape = [int(d) for d in reversed(t.shape.tolist())]
    listing.append([t.name, t.tensor_type.name, shape, int(values.size)])
    chunks.append(values)
np.concatenate(chunks).tofile(sys.argv[2])
with open(os.path.splitext(sys.argv[2])[0] + ".json", "w") as f:
    json.dump(listing, f)
print(f"GGUFReader: {len(listing)} tensors")
