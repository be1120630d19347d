#!/usr/bin/env python3
"""Pure-Python (no torch, no numpy) safetensors helpers for the GPU script's CLI check of `matrix forward`:
  fixture_io.py inputs REFERENCE.safetensors OUT.safetensors   case-1 inputs under the names `matrix forward` reads
  fixture_io.py compare OUT.safetensors REFERENCE.safetensors  max |logits - case1.logits|, position ids equal?
Exit status of compare: 0 when logits are within --tol (default 1e-3) and position ids are equal."""
import argparse
import array
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    return header, data


def values(header, data, name):
    info = header[name]
    a, b = info["data_offsets"]
    code = {"F32": "f", "F64": "d", "I64": "q", "I32": "i"}[info["dtype"]]
    arr = array.array(code)
    arr.frombytes(data[a:b])
    if sys.byteorder != "little":
        arr.byteswap()
    return info["shape"], arr


def write(path, tensors):  # tensors: name -> (dtype, shape, bytes)
    header, offset, blobs = {}, 0, []
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["inputs", "compare"])
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--tol", type=float, default=1e-3)
    args = p.parse_args()
    if args.cmd == "inputs":
        header, data = read(args.a)
        out = {}
        for src, dst in [("case1.input_ids", "input_ids"), ("case1.pixel_values", "pixel_values"),
                         ("case1.grid_thw", "image_grid_thw")]:
            info = header[src]
            lo, hi = info["data_offsets"]
            out[dst] = (info["dtype"], info["shape"], data[lo:hi])
        write(args.b, out)
        print("wrote", args.b, {k: (v[0], v[1]) for k, v in out.items()})
        return 0
    oh, od = read(args.a)
    rh, rd = read(args.b)
    shape, got = values(oh, od, "logits")
    rshape, want = values(rh, rd, "case1.logits")
    if shape != rshape:
        print("logits shape", shape, "!= reference", rshape)
        return 1
    d = max(abs(x - y) for x, y in zip(got, want))
    _, pos = values(oh, od, "position_ids")
    _, rpos = values(rh, rd, "case1.position_ids")
    same = list(pos) == [int(x) for x in rpos]
    ok = d < args.tol and same
    print(f"matrix forward case1: max |logits diff| {d:.3g} (tol {args.tol:g}), position ids "
          f"{'equal' if same else 'DIFFER'}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
