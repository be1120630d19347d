#!/usr/bin/env python3
"""HF transformers' `generate`, one request at a time, on the shapes bench_serve --7b serves: Qwen2-VL-7B-shaped
random weights (hf_reference.py's config), bf16, text prompts of --prompt tokens, --new greedy tokens each (EOS
ignored), --requests requests back to back. Prints tokens/s over the whole run and the time to first token (a
generate call with max_new_tokens=1, i.e. the prefill) so bench/results/serve.md can set `matrix serve` beside it."""
import argparse
import json
import time

import torch

from hf_reference import build_model, log


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompt", type=int, default=250)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--requests", type=int, default=8)
    ap.add_argument("--out", default="hf_serve_reference.json")
    a = ap.parse_args()
    model = build_model()
    g = torch.Generator().manual_seed(0)
    prompts = [torch.randint(0, 1500, (1, a.prompt), generator=g).cuda() for _ in range(a.requests)]
    kw = dict(do_sample=False, min_new_tokens=a.new, max_new_tokens=a.new, pad_token_id=0)
    with torch.inference_mode():
        model.generate(prompts[0], **{**kw, "min_new_tokens": 4, "max_new_tokens": 4})  # warm-up
        torch.cuda.synchronize()
        ttft = []
        for p in prompts[:3]:
            t = time.perf_counter()
            model.generate(p, attention_mask=torch.ones_like(p), **{**kw, "min_new_tokens": 1, "max_new_tokens": 1})
            torch.cuda.synchronize()
            ttft.append(time.perf_counter() - t)
        t0 = time.perf_counter()
        tokens = 0
        for p in prompts:
            out = model.generate(p, attention_mask=torch.ones_like(p), **kw)
            tokens += out.shape[1] - p.shape[1]
        torch.cuda.synchronize()
        wall = time.perf_counter() - t0
    res = {"requests": a.requests, "tokens": tokens, "wall_s": wall, "tokens_per_s": tokens / wall,
           "ttft_ms": 1000 * sum(ttft) / len(ttft), "prompt": a.prompt, "new": a.new,
           "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__}
    log(f"HF generate one request at a time: {a.requests} requests x {a.new} tokens, {wall:.2f} s, "
        f"{tokens / wall:.1f} tokens/s, TTFT {res['ttft_ms']:.1f} ms")
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
