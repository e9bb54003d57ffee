"""The README's table of llama-quantize file types on a real model: bits per weight and SQNR of
each wgquant output, from `wgquant quantize --report` JSON files and the F32 source.

usage: gguf_mix_table.py SOURCE.gguf REPORT.json...
  bits/w: all tensor bytes of the output x 8 / all elements (llama-quantize's BPW)
  SQNR:   10 log10(sum of x^2 / sum of (x - x')^2) over every tensor of the model, from each
          tensor's reported SQNR and its energy in SOURCE (copied tensors add no error)
Needs numpy and gguf (gguf-py).
"""
import json
import sys

import numpy as np
from gguf import GGUFReader

source = GGUFReader(sys.argv[1])
energy = {t.name: float(np.sum(np.asarray(t.data, dtype=np.float64) ** 2)) for t in source.tensors}
elements = sum(int(np.prod(t.shape)) for t in source.tensors)
print("| file type | bits/w | SQNR dB |")
print("| --- | --- | --- |")
for path in sys.argv[2:]:
    report = json.load(open(path))
    noise = sum(
        energy[t["name"]] / 10 ** (t["sqnr_db"] / 10)
        for t in report["tensors"]
        if t["sqnr_db"] is not None and np.isfinite(t["sqnr_db"])
    )
    name = path.rsplit("/", 1)[-1].removesuffix(".json")
    bpw = report["bytes_after"] * 8 / elements
    sqnr = f"{10 * np.log10(sum(energy.values()) / noise):.2f}" if noise > 0 else "lossless"
    print(f"| {name} | {bpw:.2f} | {sqnr} |")
