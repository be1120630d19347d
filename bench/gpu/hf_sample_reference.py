#!/usr/bin/env python3
"""HF transformers' figure for one Pref-X sampling step on the GPU machine (the anchor bench_sample compares with: 248 tokens/s in total
on an H200): a Qwen2-VL-7B-shaped model with random weights (bf16, the config of hf_reference.py), a prompt of
--prompt tokens with one 448x448 image (256 merged tokens), K candidates of --new tokens each with
num_return_sequences=K (transformers copies the prompt K times), top_p 0.8, top_k 100, T 1.2. The total is K x new
tokens over the wall time of the generate() call. Prints one "HF sample ..." line and writes JSON to --out."""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_reference import CONFIG_7B, IMAGE_TOKENS, build_model, log, make_ids, sync_time  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="hf_sample_reference.json")
    ap.add_argument("--prompt", type=int, default=3072)
    ap.add_argument("--new", type=int, default=256)
    ap.add_argument("--k", type=int, default=5)
    a = ap.parse_args()
    res = {"prompt": a.prompt, "new": a.new, "k": a.k}
    model = build_model()
    ids = make_ids(a.prompt, 1, CONFIG_7B)
    px = torch.randn(4 * IMAGE_TOKENS, 1176, device="cuda", dtype=torch.bfloat16)
    grid = torch.tensor([[1, 32, 32]], device="cuda")
    mask = torch.ones_like(ids)

    def gen(n):
        with torch.no_grad():
            model.generate(input_ids=ids, attention_mask=mask, pixel_values=px, image_grid_thw=grid, max_new_tokens=n,
                           min_new_tokens=n, do_sample=True, temperature=1.2, top_p=0.8, top_k=100,
                           num_return_sequences=a.k)
    sync_time(lambda: gen(4))  # warm-up
    t = min(sync_time(lambda: gen(a.new)) for _ in range(2))
    res["total_tokens_per_s"] = a.k * a.new / t
    res["seconds"] = t
    log(f"HF sample: {res['total_tokens_per_s']:.1f} tok/s in total (K {a.k}, prompt {a.prompt}, {a.new} new each, "
        f"{t:.2f} s, num_return_sequences)")
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
