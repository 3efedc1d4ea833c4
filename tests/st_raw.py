"""st_raw.py - the shell tests' safetensors writer: tensors written byte by
byte with the standard library alone, so the command-line tests need
neither numpy nor the built library to make their fixtures.  (Deliberately
malformed files are written by the tests themselves; the project's helper
for real use is python/lionmuon.)"""
import json
import struct


FORMATS = {"F64": "<d", "F32": "<f", "I64": "<q"}


def write_tensors(path, tensors, meta=None):
    """tensors: name -> (shape, values) for F64, or (dtype, shape, values)
    with dtype F64, F32 or I64; meta: the __metadata__ dict or None.
    Layout: 8-byte little-endian header length, the JSON header padded with
    spaces to a multiple of 8, then the data in order."""
    h, blobs, off = {}, [], 0
    if meta is not None:
        h["__metadata__"] = meta
    for key, t in tensors.items():
        dt, shape, vals = t if len(t) == 3 else ("F64",) + tuple(t)
        b = b"".join(struct.pack(FORMATS[dt], v) for v in vals)
        h[key] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hb = json.dumps(h).encode()
    hb += b" " * (-len(hb) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + b"".join(blobs))
