#!/usr/bin/env python3
"""Hugging Face transformers generate() as the end-to-end baseline, on a
random-weight fp16 checkpoint from make_random_model.py (bench/gpu/README.md).

  transformers_decode.py --model DIR --out hf.json [--dtype bf16|fp16] [--attn eager|sdpa]
      [--prompt-lens 32,2048] [--batch 1] [--new-tokens 64] [--repeats 3]

Greedy decoding of random prompt ids (uniform in 3 .. --max-token-id - 1,
the same for every engine given the same seed), with min_new_tokens =
max_new_tokens so that an end-of-sequence token cannot cut a run short.

Per batch and prompt length:
- ttft_ms: generate() with max_new_tokens=1 (prefill plus the first token),
  median of --repeats runs; prefill_tokens_per_s = batch * prompt / ttft;
- decode_tokens_per_s: batch * (N - 1) / (t(N) - t(1)), t(n) the median
  time of generate() with max_new_tokens=n, so prefill and setup cancel;
- prefill_forward_ms: one plain forward pass over the prompt (no sampling).
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
import transformers

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def load(a):
    kwargs = {"dtype": DTYPES[a.dtype], "attn_implementation": a.attn}
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(a.model, device_map="cuda", **kwargs)
    except (ImportError, ValueError) as e:  # no accelerate: load on the CPU, then move
        print(f"device_map='cuda' failed ({type(e).__name__}: {e}); loading on the CPU first", flush=True)
        model = transformers.AutoModelForCausalLM.from_pretrained(a.model, **kwargs).to("cuda")
    return model.eval()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="checkpoint directory (fp16 format)")
    p.add_argument("--out", required=True, help="JSON results")
    p.add_argument("--name", help="model label in the results (default: the directory's name)")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="bf16")
    p.add_argument("--attn", choices=["eager", "sdpa"], default="eager")
    p.add_argument("--prompt-lens", default="32,2048", help="comma-separated prompt lengths")
    p.add_argument("--batch", default="1", help="comma-separated batch sizes")
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-token-id", type=int, default=8192,
                   help="prompt ids are below this (and the vocabulary); 8192: the tinydoc tokenizer's")
    p.add_argument("--cache-implementation", help="passed to generate() (e.g. static); default: transformers'")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if not torch.cuda.is_available():
        sys.exit("no CUDA device")
    if a.new_tokens < 2:
        sys.exit("--new-tokens must be at least 2")
    prompt_lens = [int(v) for v in a.prompt_lens.split(",") if v.strip()]
    batches = [int(v) for v in a.batch.split(",") if v.strip()]
    name = a.name or os.path.basename(os.path.normpath(a.model))
    started = time.time()

    def log(text):
        print(f"[{time.time() - started:6.1f} s] {text}", flush=True)

    t0 = time.time()
    model = load(a)
    torch.cuda.synchronize()
    load_s = time.time() - t0
    config = model.config
    weight_bytes = sum(t.numel() * t.element_size() for t in model.parameters())
    gen_config = model.generation_config
    eos = gen_config.eos_token_id if gen_config.eos_token_id is not None else config.eos_token_id
    pad = (eos[0] if isinstance(eos, (list, tuple)) else eos) if eos is not None else 0
    extra = {"cache_implementation": a.cache_implementation} if a.cache_implementation else {}
    log(f"loaded {a.model} as {a.dtype}, attention {a.attn}, in {load_s:.1f} s: "
        f"{config.num_hidden_layers} layers, {weight_bytes / 1e9:.2f} GB of weights")

    g = torch.Generator().manual_seed(a.seed)
    high = min(a.max_token_id, config.vocab_size)

    def generate(ids, new):
        torch.cuda.synchronize()
        t = time.perf_counter()
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=new,
                             min_new_tokens=new, do_sample=False, pad_token_id=pad, use_cache=True, **extra)
        torch.cuda.synchronize()
        seconds = time.perf_counter() - t
        made = out.shape[1] - ids.shape[1]
        if made != new:
            raise RuntimeError(f"asked for {new} new tokens, got {made}")
        return seconds

    rows = []
    finite = None
    with torch.no_grad():
        for batch in batches:
            for length in prompt_lens:
                ids = torch.randint(3, high, (batch, length), generator=g).to("cuda")
                if finite is None:
                    logits = model(input_ids=ids[:, :16]).logits
                    finite = bool(torch.isfinite(logits).all().item())
                    log(f"logits of a 16-token forward pass finite: {finite}")
                generate(ids, 2)  # warm-up
                forward = []
                for _ in range(a.repeats):
                    torch.cuda.synchronize()
                    t = time.perf_counter()
                    model(input_ids=ids, use_cache=True)
                    torch.cuda.synchronize()
                    forward.append(time.perf_counter() - t)
                first = [generate(ids, 1) for _ in range(a.repeats)]
                full = [generate(ids, a.new_tokens) for _ in range(a.repeats)]
                ttft, total = statistics.median(first), statistics.median(full)
                decode = batch * (a.new_tokens - 1) / (total - ttft) if total > ttft else float("nan")
                row = {"engine": "transformers " + transformers.__version__, "model": name,
                       "format": f"{a.dtype} {a.attn}", "batch": batch, "prompt_len": length,
                       "new_tokens": a.new_tokens, "decode_tokens_per_s": decode,
                       "prefill_tokens_per_s": batch * length / ttft, "ttft_ms": ttft * 1e3,
                       "prefill_forward_ms": statistics.median(forward) * 1e3, "generate_s": total,
                       "ttft_runs_s": first, "generate_runs_s": full, "forward_runs_s": forward}
                rows.append(row)
                log(f"batch {batch}, prompt {length}: ttft {row['ttft_ms']:.1f} ms, "
                    f"decode {decode:.2f} tokens/s, prefill forward {row['prefill_forward_ms']:.1f} ms")

    env = {"torch": torch.__version__, "transformers": transformers.__version__, "python": platform.python_version(),
           "gpu": torch.cuda.get_device_name(), "cuda": torch.version.cuda}
    result = {"tool": "bench/gpu/transformers_decode.py", "env": env, "model_dir": os.path.abspath(a.model),
              "settings": {k: v for k, v in vars(a).items() if k != "out"}, "load_s": load_s,
              "weight_bytes": weight_bytes, "layers": config.num_hidden_layers, "finite_logits": finite,
              "seconds": time.time() - started, "rows": rows}
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
    print("\n| model | format | batch | prompt | new | decode tokens/s | prefill tokens/s | TTFT ms | prefill forward ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['format']} | {r['batch']} | {r['prompt_len']} | {r['new_tokens']} | "
              f"{r['decode_tokens_per_s']:.2f} | {r['prefill_tokens_per_s']:.0f} | {r['ttft_ms']:.1f} | "
              f"{r['prefill_forward_ms']:.1f} |")
    log(f"wrote {a.out}")


if __name__ == "__main__":
    main()
