#!/usr/bin/env python3
"""GPTQ as AutoGPTQ runs it, in PyTorch on a transformers model: the yardstick
libgptq's quantizer is compared against (bench/autogptq_reference/README.md).

AutoGPTQ itself cannot be installed where this runs, so this re-states its
algorithm from the paper and AutoGPTQ's documented behaviour: the same
Hessian accumulation, damping (percent of mean diag H), upper Cholesky
factor of H^-1, 128-column lazy batches, group ranges read from the weights
as earlier blocks left them, act-order, static groups, true-sequential
module order, and layer i+1 fed by the quantized layer i.

It samples the calibration windows itself (GPTQ paper: random.seed(seed);
randint(0, n - seqlen - 1)) and writes them as JSON lines with "input_ids",
so that libgptq can be run on exactly the same samples.
"""
import argparse
import json
import math
import random
import time

import sentencepiece
import torch
import transformers

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

SEQUENTIAL_LLAMA = [
    ["self_attn.k_proj", "self_attn.v_proj", "self_attn.q_proj"],
    ["self_attn.o_proj"],
    ["mlp.up_proj", "mlp.gate_proj"],
    ["mlp.down_proj"],
]


class GroupRange:
    """Scale and zero point per output row for one slice of columns."""

    def __init__(self, w, bits, sym):
        maxq = 2**bits - 1
        zeros = torch.zeros(w.shape[0], device=w.device)
        lo = torch.minimum(w.min(dim=1).values, zeros)
        hi = torch.maximum(w.max(dim=1).values, zeros)
        if sym:
            hi = torch.maximum(lo.abs(), hi)
            lo = torch.where(lo < 0, -hi, lo)
        flat = (lo == 0) & (hi == 0)
        lo = torch.where(flat, -torch.ones_like(lo), lo)
        hi = torch.where(flat, torch.ones_like(hi), hi)
        self.maxq = maxq
        # AutoGPTQ divides by maxq held as a device tensor: a true division.
        # Dividing by a Python number makes PyTorch multiply by its
        # reciprocal instead, which moves a scale by one ulp now and then and
        # flips how each group's extreme weight (exactly -7.5 steps) rounds.
        self.scale = ((hi - lo) / torch.tensor(float(maxq), device=w.device)).unsqueeze(1)
        if sym:
            self.zero = torch.full_like(self.scale, (maxq + 1) / 2)
        else:
            self.zero = torch.round(-lo / self.scale.squeeze(1)).unsqueeze(1)

    def fake_quant(self, column):
        q = torch.clamp(torch.round(column.unsqueeze(1) / self.scale) + self.zero, 0, self.maxq)
        return (self.scale * (q - self.zero)).flatten()


class HessianLayer:
    """Accumulates H = 2/n sum x x^T over a linear layer's inputs."""

    def __init__(self, linear):
        self.linear = linear
        cols = linear.weight.shape[1]
        self.h = torch.zeros((cols, cols), device=linear.weight.device, dtype=torch.float32)
        self.n = 0

    def add(self, x):
        x = x.reshape(-1, x.shape[-1]).t().float()
        batch = 1  # one calibration sample per call, as AutoGPTQ feeds them
        self.h *= self.n / (self.n + batch)
        self.n += batch
        x = math.sqrt(2 / self.n) * x
        self.h += x @ x.t()


def gptq_quantize(layer, bits, group_size, sym, act_order, static_groups, damp, block=128):
    w = layer.linear.weight.data.clone().float()
    rows, cols = w.shape
    h = layer.h
    dead = torch.diag(h) == 0
    h[dead, dead] = 1
    w[:, dead] = 0
    gs = group_size if group_size > 0 else cols
    whole = GroupRange(w, bits, sym) if group_size <= 0 else None
    fixed = [GroupRange(w[:, c:c + gs], bits, sym) for c in range(0, cols, gs)] if static_groups and group_size > 0 else None
    perm = None
    if act_order:
        perm = torch.argsort(torch.diag(h), descending=True, stable=True)
        w = w[:, perm]
        h = h[perm][:, perm]
    idx = torch.arange(cols, device=w.device)
    h[idx, idx] += damp * torch.mean(torch.diag(h))
    hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)

    q_all = torch.zeros_like(w)
    loss = torch.zeros((), device=w.device, dtype=torch.float64)
    current = whole
    for i1 in range(0, cols, block):
        i2 = min(i1 + block, cols)
        w1 = w[:, i1:i2].clone()
        err1 = torch.zeros_like(w1)
        hinv1 = hinv[i1:i2, i1:i2]
        for i in range(i2 - i1):
            col = i1 + i
            if fixed is not None:
                current = fixed[(perm[col].item() if perm is not None else col) // gs]
            elif group_size > 0 and col % gs == 0:
                current = GroupRange(w[:, col:col + gs], bits, sym)  # W, not w1: AutoGPTQ's order
            x = w1[:, i]
            d = hinv1[i, i]
            q = current.fake_quant(x)
            q_all[:, col] = q
            loss += (((x - q) ** 2) / d**2).sum().double() / 2
            e = (x - q) / d
            w1[:, i:] -= e.unsqueeze(1) @ hinv1[i, i:].unsqueeze(0)
            err1[:, i] = e
        w[:, i2:] -= err1 @ hinv[i1:i2, i2:]
    if perm is not None:
        q_all = q_all[:, torch.argsort(perm)]
    layer.linear.weight.data = q_all.to(layer.linear.weight.dtype)
    return loss.item() / layer.n


def rtn_quantize(linear, bits, group_size, sym):
    w = linear.weight.data.float()
    cols = w.shape[1]
    gs = group_size if group_size > 0 else cols
    q = torch.empty_like(w)
    for c in range(0, cols, gs):
        g = GroupRange(w[:, c:c + gs], bits, sym)
        for k in range(c, min(c + gs, cols)):
            q[:, k] = g.fake_quant(w[:, k])
    linear.weight.data = q.to(linear.weight.dtype)


class StopForward(Exception):
    pass


@torch.no_grad()
def capture_first_layer_inputs(model, windows):
    captured = []

    def hook(_module, args, kwargs):
        captured.append((args, dict(kwargs)))
        raise StopForward

    handle = model.model.layers[0].register_forward_pre_hook(hook, with_kwargs=True)
    for ids in windows:
        try:
            model(torch.tensor([ids], device="cuda"), use_cache=False)
        except StopForward:
            pass
    handle.remove()
    return captured


def run_layer(layer, args, kwargs):
    out = layer(*args, **kwargs)
    return out[0] if isinstance(out, tuple) else out


def next_layer_input(hidden, args, kwargs):
    if args:
        return (hidden,) + tuple(args[1:]), kwargs
    return (), dict(kwargs, hidden_states=hidden)


@torch.no_grad()
def quantize_model(model, windows, setting, damp):
    inputs = capture_first_layer_inputs(model, windows)
    losses = []
    for index, layer in enumerate(model.model.layers):
        for group in SEQUENTIAL_LLAMA:
            targets = {name: HessianLayer(layer.get_submodule(name)) for name in group}
            hooks = [t.linear.register_forward_hook(lambda m, inp, out, t=t: t.add(inp[0].data)) for t in targets.values()]
            for args, kwargs in inputs:
                run_layer(layer, args, kwargs)
            for h in hooks:
                h.remove()
            for name in group:
                loss = gptq_quantize(targets[name], setting["bits"], setting["group_size"], setting["sym"],
                                     setting["act"], setting["static"], damp)
                losses.append({"module": f"model.layers.{index}.{name}", "loss": loss})
            del targets
        inputs = [next_layer_input(run_layer(layer, args, kwargs), args, kwargs) for args, kwargs in inputs]
    return losses


@torch.no_grad()
def perplexity(model, ids, ctx):
    nll, count = 0.0, 0
    for start in range(0, len(ids) // ctx * ctx, ctx):
        window = torch.tensor([ids[start:start + ctx]], device="cuda")
        logits = model(window, use_cache=False).logits.float()
        logp = torch.log_softmax(logits[0, :-1], dim=-1)
        nll -= logp.gather(1, window[0, 1:].unsqueeze(1)).sum().item()
        count += ctx - 1
    return math.exp(nll / count)


def parse_setting(text):
    """'gptq-w4g128-act' / 'rtn-w3g128' / 'gptq-w4-perchannel-asym' / '...-static'."""
    parts = text.split("-")
    method = parts[0]
    spec = parts[1]
    bits = int(spec[1:spec.index("g")] if "g" in spec else spec[1:])
    group = int(spec[spec.index("g") + 1:]) if "g" in spec else -1
    return {"name": text, "method": method, "bits": bits, "group_size": group, "act": "act" in parts,
            "static": "static" in parts, "sym": "asym" not in parts}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--calib", required=True)
    p.add_argument("--eval", nargs="+", required=True)
    p.add_argument("--nsamples", type=int, default=128)
    p.add_argument("--seqlen", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--damp", type=float, default=0.01)
    p.add_argument("--dtype", choices=["float32", "float16"], default="float32",
                   help="precision the layers run in while quantizing (AutoGPTQ: float16)")
    p.add_argument("--settings", nargs="+", required=True)
    p.add_argument("--windows-out")
    p.add_argument("--json-out")
    a = p.parse_args()

    sp = sentencepiece.SentencePieceProcessor(model_file=f"{a.model}/tokenizer.model")
    calib_ids = sp.encode(open(a.calib, encoding="utf-8").read())
    random.seed(a.seed)
    windows = []
    for _ in range(a.nsamples):
        i = random.randint(0, len(calib_ids) - a.seqlen - 1)
        windows.append(calib_ids[i:i + a.seqlen])
    if a.windows_out:
        with open(a.windows_out, "w") as f:
            for w in windows:
                f.write(json.dumps({"input_ids": w}) + "\n")
    eval_ids = {path: sp.encode(open(path, encoding="utf-8").read()) for path in a.eval}

    dtype = getattr(torch, a.dtype)
    results = []
    base = transformers.AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32).cuda().eval()
    row = {"setting": "fp16", "ppl": {path: perplexity(base, ids, 512) for path, ids in eval_ids.items()}}
    results.append(row)
    print(json.dumps(row), flush=True)
    for text in a.settings:
        setting = parse_setting(text)
        model = transformers.AutoModelForCausalLM.from_pretrained(a.model, dtype=dtype).cuda().eval()
        start = time.time()
        if setting["method"] == "rtn":
            for layer in model.model.layers:
                for group in SEQUENTIAL_LLAMA:
                    for name in group:
                        rtn_quantize(layer.get_submodule(name), setting["bits"], setting["group_size"], setting["sym"])
            losses = []
        else:
            losses = quantize_model(model, windows, setting, a.damp)
        seconds = time.time() - start
        # Evaluate as libgptq does: fp32 math on weights stored in fp16.
        model = model.half().float()
        row = {"setting": text, "dtype": a.dtype, "seconds": seconds,
               "ppl": {path: perplexity(model, ids, 512) for path, ids in eval_ids.items()}, "losses": losses}
        results.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "losses"}), flush=True)
        del model
    if a.json_out:
        json.dump(results, open(a.json_out, "w"), indent=1)


if __name__ == "__main__":
    main()
