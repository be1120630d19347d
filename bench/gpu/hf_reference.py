#!/usr/bin/env python3
"""HF transformers' own figures on the GPU machine, for the shapes bench_model --7b and bench_train --gpu use, so the
engine is compared with transformers on one card (the issues' anchors came from an H200). Random weights from a
Qwen2-VL-7B-shaped config (nothing is downloaded), bf16, one 448x448 image (256 merged image tokens).
  decode: batch 1, 1024-token prompt, 128 new tokens, greedy (anchor: 51 tokens/s on H200)
  sft:    LoRA r=16 (alpha 32) on q/k/v/o/gate/up/down, fp32 LoRA weights, bf16 autocast, sequence 2048, AdamW
          (anchor: 7,971 tokens/s on H200), only when peft is installed
  dpo:    the same LoRA; policy forward+backward on chosen and rejected, reference forwards with the adapter off,
          sigmoid loss (anchor: 1.70 pairs/s)
Prints one line per figure ("HF ...") and writes them as JSON to --out. Each part has its own time limit."""
import argparse
import json
import os
import sys
import tempfile
import time

import torch

CONFIG_7B = {  # Qwen2-VL-7B-Instruct's published config.json (flat layout), vision hidden = LM hidden
    "architectures": ["Qwen2VLForConditionalGeneration"], "model_type": "qwen2_vl",
    "bos_token_id": 151643, "eos_token_id": 151645, "vision_start_token_id": 151652, "vision_end_token_id": 151653,
    "vision_token_id": 151654, "image_token_id": 151655, "video_token_id": 151656, "hidden_act": "silu",
    "hidden_size": 3584, "initializer_range": 0.02, "intermediate_size": 18944, "max_position_embeddings": 32768,
    "max_window_layers": 28, "num_attention_heads": 28, "num_hidden_layers": 28, "num_key_value_heads": 4,
    "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": False,
    "torch_dtype": "bfloat16", "use_cache": True, "use_sliding_window": False, "vocab_size": 152064,
    "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
    "vision_config": {"depth": 32, "embed_dim": 1280, "mlp_ratio": 4, "num_heads": 16, "in_chans": 3,
                      "hidden_size": 3584, "patch_size": 14, "spatial_merge_size": 2, "spatial_patch_size": 14,
                      "temporal_patch_size": 2},
}
IMAGE_TOKENS = 256  # 448x448: grid 1x32x32 patches, 2x2 merge


def log(*a):
    print(time.strftime("[%H:%M:%S]"), *a, flush=True)


def make_ids(length, seed, cfg):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 1500, (1, length), generator=g)
    ids[0, 10] = cfg["vision_start_token_id"]
    ids[0, 11:11 + IMAGE_TOKENS] = cfg["image_token_id"]
    ids[0, 11 + IMAGE_TOKENS] = cfg["vision_end_token_id"]
    return ids.cuda()


def modality_kwargs(ids):
    """The image-token mask as Qwen2-VL's processor returns it (1 = image token, 0 = text). transformers 5.x
    refuses image_grid_thw without it ("Multimodal data was passed ... but `mm_token_type_ids` is missing");
    4.x takes the positions from input_ids alone and gets nothing extra."""
    import transformers
    if int(transformers.__version__.split(".")[0]) < 5:
        return {}
    return {"mm_token_type_ids": (ids == CONFIG_7B["image_token_id"]).to(torch.int32)}


def build_model():
    from transformers import AutoConfig, Qwen2VLForConditionalGeneration
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(CONFIG_7B, f)
        cfg = AutoConfig.from_pretrained(d)
    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = Qwen2VLForConditionalGeneration(cfg)
    torch.set_default_dtype(torch.float32)
    model.eval()
    return model


def sync_time(fn):
    torch.cuda.synchronize()
    t = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    return time.perf_counter() - t


def bench_decode(model, res, prompt, new):
    ids = make_ids(prompt, 1, CONFIG_7B)
    px = torch.randn(4 * IMAGE_TOKENS, 1176, device="cuda", dtype=torch.bfloat16)
    grid = torch.tensor([[1, 32, 32]], device="cuda")
    mask = torch.ones_like(ids)

    def gen(n):
        with torch.no_grad():
            model.generate(input_ids=ids, attention_mask=mask, pixel_values=px, image_grid_thw=grid,
                           max_new_tokens=n, min_new_tokens=n, do_sample=False)
    sync_time(lambda: gen(4))  # warm-up
    t1 = min(sync_time(lambda: gen(1)) for _ in range(2))
    tn = min(sync_time(lambda: gen(new)) for _ in range(2))
    res["decode_tokens_per_s"] = (new - 1) / (tn - t1)
    res["prefill_tokens_per_s"] = prompt / t1
    res["attn_implementation"] = getattr(model.config, "_attn_implementation", "?")
    log(f"HF decode: {res['decode_tokens_per_s']:.1f} tok/s (prompt {prompt}, {new} new, batch 1, "
        f"{res['attn_implementation']}); prefill {res['prefill_tokens_per_s']:.0f} tok/s ({t1:.3f} s)")


def bench_train(model, res, seq, steps, deadline):
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        log("HF training: peft is not installed, skipped")
        return
    lc = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0,
                    target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    model = get_peft_model(model, lc)
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.data = p.data.float()
    model.train()
    opt = torch.optim.AdamW(params, lr=1e-5)
    px = torch.randn(4 * IMAGE_TOKENS, 1176, device="cuda", dtype=torch.bfloat16)
    grid = torch.tensor([[1, 32, 32]], device="cuda")

    def forward(ids, labels):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return model(input_ids=ids, pixel_values=px, image_grid_thw=grid, labels=labels,
                         **modality_kwargs(ids))

    ids = make_ids(seq, 2, CONFIG_7B)
    labels = ids.clone()
    labels[:, : seq // 2] = -100

    def sft_step():
        forward(ids, labels).loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    torch.cuda.reset_peak_memory_stats()
    sft_step()
    dt = sync_time(lambda: [sft_step() for _ in range(steps)])
    res["sft_tokens_per_s"] = seq * steps / dt
    res["sft_peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    log(f"HF SFT: {res['sft_tokens_per_s']:.0f} tokens/s ({dt / steps:.3f} s/step, peak {res['sft_peak_gib']:.1f} GiB)")
    if time.time() > deadline:
        log("HF DPO: skipped (time)")
        return
    response = 64
    chosen, rejected = make_ids(seq, 3, CONFIG_7B), make_ids(seq, 4, CONFIG_7B)
    rejected[:, : seq - response] = chosen[:, : seq - response]

    def logps(ids):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(input_ids=ids, pixel_values=px, image_grid_thw=grid,
                           **modality_kwargs(ids)).logits[:, -response - 1:-1].float()
        return torch.log_softmax(logits, -1).gather(-1, ids[:, -response:].unsqueeze(-1)).squeeze(-1).sum(-1)

    def dpo_step():
        with torch.no_grad(), model.disable_adapter():
            rc, rr = logps(chosen), logps(rejected)
        pc, pr = logps(chosen), logps(rejected)
        loss = -torch.nn.functional.logsigmoid(0.1 * ((pc - rc) - (pr - rr))).mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    dpo_step()
    dt = sync_time(lambda: [dpo_step() for _ in range(steps)])
    res["dpo_pairs_per_s"] = steps / dt
    log(f"HF DPO (policy c, policy r, ref c, ref r): {res['dpo_pairs_per_s']:.3f} pairs/s ({dt / steps:.3f} s/step)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="hf_reference.json")
    ap.add_argument("--prompt", type=int, default=1024)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--seq", type=int, default=2048)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--train-seconds", type=float, default=120)
    args = ap.parse_args()
    import transformers
    res = {"torch": torch.__version__, "transformers": transformers.__version__,
           "device": torch.cuda.get_device_name(0)}
    log("HF reference on", res["device"], "torch", res["torch"], "transformers", res["transformers"])
    t = time.time()
    model = build_model()
    log(f"model built in {time.time() - t:.1f} s")
    try:
        bench_decode(model, res, args.prompt, args.new)
    except Exception as e:  # keep going: training figures are independent
        log("HF decode failed:", repr(e))
        res["decode_error"] = repr(e)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
    try:
        bench_train(model, res, args.seq, args.steps, time.time() + args.train_seconds)
    except Exception as e:
        log("HF training failed:", repr(e))
        res["train_error"] = repr(e)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
