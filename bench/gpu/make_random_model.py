#!/usr/bin/env python3
"""A random-weight llama checkpoint in Hugging Face layout, fp16 or GPTQ
(AutoGPTQ v1 format), for speed benchmarks that need the real model sizes
but not real weights (bench/gpu/README.md).

  make_random_model.py MODEL_DIR --shape llama-7b --format gptq --bits 4 --group-size 128 \
      [--layers N] [--tokenizer-from DIR] [--shard-gb 3] [--out summary.json]

Tensors are made on the GPU (the CPU when there is none) a slice at a time
and streamed straight into the safetensors shards, written one after the
other: host memory holds one slice, never a shard or the model.

Values are random but keep a 32-layer forward pass finite: float weights
N(0, 0.02); norms 1; GPTQ codes uniform over 1 .. 2^bits - 1, whose mean is
the symmetric zero point 2^(bits-1), so the weights have no common bias;
scales uniform in 0.002 .. 0.004 for 4 bits (x 2^(4 - bits) otherwise), so
that the weights' spread is about that of the float ones.

GPTQ layout (GPTQ_FORMAT.md): qweight int32 [K*bits/32, N] packed along K,
value j of a run of 32 at bit offset j*bits of its run of `bits` words
(least significant first; for 2/4/8 bits that is value j of a word at bit
j*bits, for 3 bits values 10 and 21 straddle words); qzeros int32
[G, N*bits/32] packed the same way along N, holding zero - 1 (v1); scales
fp16 [G, N]; g_idx int32 [K] = k // group_size (desc_act false).
"""
import argparse
import json
import math
import os
import shutil
import struct
import sys
import time

import torch

SHAPES = {
    "llama-7b": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                     num_key_value_heads=32, vocab_size=32000, rope_theta=10000.0, max_position_embeddings=4096,
                     rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2),
    "llama3-8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=8, vocab_size=128256, rope_theta=500000.0, max_position_embeddings=8192,
                      rms_norm_eps=1e-5, bos_token_id=128000, eos_token_id=128001),
    # For testing the scripts and the loaders in seconds; vocab 8192 holds the tinydoc tokenizer.
    "tiny": dict(hidden_size=256, intermediate_size=768, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=8192, rope_theta=10000.0, max_position_embeddings=2048,
                 rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2),
}
TOKENIZER_FILES = ["tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
DTYPE_NAMES = {torch.float16: "F16", torch.int32: "I32"}
DTYPE_BYTES = {torch.float16: 2, torch.int32: 4}
SLICE_ELEMENTS = 1 << 25  # elements made at once (32 Mi: 64-128 MB of output, a few times that while made)


def model_config(shape, layers):
    s = dict(SHAPES[shape])
    if layers:
        s["num_hidden_layers"] = layers
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": s["bos_token_id"],
        "dtype": "float16",
        "eos_token_id": s["eos_token_id"],
        "head_dim": s["hidden_size"] // s["num_attention_heads"],
        "hidden_act": "silu",
        "hidden_size": s["hidden_size"],
        "initializer_range": 0.02,
        "intermediate_size": s["intermediate_size"],
        "max_position_embeddings": s["max_position_embeddings"],
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": s["num_attention_heads"],
        "num_hidden_layers": s["num_hidden_layers"],
        "num_key_value_heads": s["num_key_value_heads"],
        "pad_token_id": None,
        "pretraining_tp": 1,
        "rms_norm_eps": s["rms_norm_eps"],
        "rope_parameters": {"rope_theta": s["rope_theta"], "rope_type": "default"},
        "tie_word_embeddings": False,
        "transformers_version": "5.17.0",
        "use_cache": True,
        "vocab_size": s["vocab_size"],
    }


def quantize_config(bits, group_size):
    return {
        "bits": bits,
        "group_size": group_size,
        "damp_percent": 0.01,
        "desc_act": False,
        "static_groups": False,
        "sym": True,
        "true_sequential": True,
        "model_name_or_path": None,
        "model_file_base_name": "model",
        "quant_method": "gptq",
        "checkpoint_format": "gptq",
    }


class Tensor:
    """One tensor of the plan: name, dtype, shape, and how to make it."""

    def __init__(self, name, dtype, shape, kind, **how):
        self.name, self.dtype, self.shape, self.kind, self.how = name, dtype, list(shape), kind, how

    @property
    def nbytes(self):
        return math.prod(self.shape) * DTYPE_BYTES[self.dtype]


def plan(config, fmt, bits, group_size, token_limit=0):
    """Every tensor of the checkpoint, in the order written. With token_limit,
    lm_head's rows from that id on are 10x smaller, so that greedy decoding
    picks ids a smaller tokenizer can decode (same bytes, same speed)."""
    h, inter, v = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    hd = config["head_dim"]
    q_out, kv_out = config["num_attention_heads"] * hd, config["num_key_value_heads"] * hd
    tensors = [Tensor("model.embed_tokens.weight", torch.float16, [v, h], "normal")]

    def linear(name, k, n):
        if fmt == "fp16":
            return [Tensor(name + ".weight", torch.float16, [n, k], "normal")]
        gs = group_size if group_size > 0 else k
        groups = -(-k // gs)
        if k % 32 or n % 32:
            sys.exit(f"{name}: in {k} and out {n} must be multiples of 32 for the GPTQ packing")
        scale = 2.0 ** (4 - bits)
        return [
            Tensor(name + ".qweight", torch.int32, [k * bits // 32, n], "codes", bits=bits),
            Tensor(name + ".qzeros", torch.int32, [groups, n * bits // 32], "zeros", bits=bits),
            Tensor(name + ".scales", torch.float16, [groups, n], "uniform", lo=0.002 * scale, hi=0.004 * scale),
            Tensor(name + ".g_idx", torch.int32, [k], "g_idx", group_size=gs),
        ]

    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        tensors += linear(p + "self_attn.q_proj", h, q_out)
        tensors += linear(p + "self_attn.k_proj", h, kv_out)
        tensors += linear(p + "self_attn.v_proj", h, kv_out)
        tensors += linear(p + "self_attn.o_proj", q_out, h)
        tensors += linear(p + "mlp.gate_proj", h, inter)
        tensors += linear(p + "mlp.up_proj", h, inter)
        tensors += linear(p + "mlp.down_proj", inter, h)
        tensors.append(Tensor(p + "input_layernorm.weight", torch.float16, [h], "ones"))
        tensors.append(Tensor(p + "post_attention_layernorm.weight", torch.float16, [h], "ones"))
    tensors.append(Tensor("model.norm.weight", torch.float16, [h], "ones"))
    tensors.append(Tensor("lm_head.weight", torch.float16, [v, h], "normal",
                          quiet_from=token_limit if 0 < token_limit < v else 0))
    return tensors


def to_int32(words):
    """int64 values in [0, 2^32) to int32 with the same bits."""
    return torch.where(words >= 2**31, words - 2**32, words).to(torch.int32)


def pack_runs(codes, bits):
    """codes int64 [R*32, C] (each < 2^bits) -> int32 [R*bits, C]: each run of 32
    values along dim 0 fills `bits` words, value j at bit offset j*bits."""
    runs, cols = codes.shape[0] // 32, codes.shape[1]
    c = codes.view(runs, 32, cols)
    words = torch.zeros(runs, bits, cols, dtype=torch.int64, device=codes.device)
    for j in range(32):
        word, shift = divmod(j * bits, 32)
        words[:, word] += (c[:, j] << shift) & 0xFFFFFFFF
        if shift + bits > 32:  # 3 bits: the value's high part starts the next word
            words[:, word + 1] += c[:, j] >> (32 - shift)
    return to_int32(words).view(runs * bits, cols)


def zero_words(bits):
    """The `bits` int32 words that hold 32 copies of the v1 symmetric zero (2^(bits-1) - 1)."""
    stored = 2 ** (bits - 1) - 1
    run = sum(stored << (j * bits) for j in range(32))
    return [((run >> (32 * w)) & 0xFFFFFFFF) - (2**32 if (run >> (32 * w)) & 0x80000000 else 0) for w in range(bits)]


def make_slices(t, device, gen):
    """Yield the tensor's contents as CPU tensors, whole rows at a time, in order."""
    rows = t.shape[0]
    row_elems = math.prod(t.shape[1:]) if len(t.shape) > 1 else 1
    if t.kind == "codes":
        bits = t.how["bits"]
        step_runs = max(1, SLICE_ELEMENTS // (32 * row_elems))  # runs of `bits` rows of qweight
        runs = rows // bits
        for r0 in range(0, runs, step_runs):
            r1 = min(runs, r0 + step_runs)
            codes = torch.randint(1, 2**bits, ((r1 - r0) * 32, row_elems), generator=gen, device=device,
                                  dtype=torch.int64)
            yield pack_runs(codes, bits).cpu()
        return
    if t.kind == "zeros":
        words = torch.tensor(zero_words(t.how["bits"]), dtype=torch.int32)
        yield words.repeat(rows * row_elems // len(words)).view(t.shape)
        return
    if t.kind == "g_idx":
        yield torch.div(torch.arange(rows, dtype=torch.int64), t.how["group_size"], rounding_mode="floor").to(torch.int32)
        return
    if t.kind == "ones":
        yield torch.ones(t.shape, dtype=t.dtype)
        return
    step = max(1, SLICE_ELEMENTS // row_elems)
    for r0 in range(0, rows, step):
        shape = [min(rows, r0 + step) - r0] + t.shape[1:]
        x = torch.rand(shape, generator=gen, device=device) if t.kind == "uniform" else \
            torch.randn(shape, generator=gen, device=device)
        if t.kind == "uniform":
            x = x * (t.how["hi"] - t.how["lo"]) + t.how["lo"]
        else:
            x = x * 0.02
            quiet = t.how.get("quiet_from", 0)
            if quiet and r0 + shape[0] > quiet:
                x[max(0, quiet - r0):] *= 0.1
        yield x.to(t.dtype).cpu()


def write_shard(path, tensors, metadata, device, gen):
    """One safetensors file, written tensor by tensor, slice by slice."""
    header = {"__metadata__": metadata}
    offset = 0
    for t in tensors:
        header[t.name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": t.shape, "data_offsets": [offset, offset + t.nbytes]}
        offset += t.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path + ".partial", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for t in tensors:
            written = 0
            for piece in make_slices(t, device, gen):
                if piece.dtype != t.dtype:
                    raise RuntimeError(f"{t.name}: made {piece.dtype}, planned {t.dtype}")
                data = piece.contiguous().numpy()
                f.write(data.data)  # the array's buffer, no copy
                written += data.nbytes
            if written != t.nbytes:
                raise RuntimeError(f"{t.name}: wrote {written} bytes, planned {t.nbytes}")
    os.replace(path + ".partial", path)
    return 8 + len(text) + offset


def varint(data, i):
    value, shift = 0, 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def sentencepiece_pieces(path):
    """Number of pieces in a sentencepiece model (ModelProto field 1, repeated), read from the protobuf wire format."""
    with open(path, "rb") as f:
        data = f.read()
    i, pieces = 0, 0
    while i < len(data):
        key, i = varint(data, i)
        wire = key & 7
        if wire == 0:
            _, i = varint(data, i)
        elif wire == 1:
            i += 8
        elif wire == 2:
            n, i = varint(data, i)
            i += n
        elif wire == 5:
            i += 4
        else:
            raise ValueError(f"{path}: unexpected protobuf wire type {wire}")
        pieces += (key >> 3) == 1
    return pieces


def tokenizer_vocab(directory):
    """Token count of the tokenizer in directory (tokenizer.json, else tokenizer.model), or 0 when unknown."""
    try:
        path = os.path.join(directory, "tokenizer.json")
        if os.path.isfile(path):
            with open(path) as f:
                tok = json.load(f)
            ids = list(tok.get("model", {}).get("vocab", {}).values()) if isinstance(tok.get("model", {}).get("vocab"), dict) \
                else list(range(len(tok.get("model", {}).get("vocab", []))))
            ids += [t["id"] for t in tok.get("added_tokens", [])]
            return max(ids) + 1 if ids else 0
        path = os.path.join(directory, "tokenizer.model")
        return sentencepiece_pieces(path) if os.path.isfile(path) else 0
    except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
        print(f"could not count the tokenizer's tokens ({e}); lm_head left as it is", flush=True)
        return 0


def split_shards(tensors, max_bytes):
    shards = [[]]
    size = 0
    for t in tensors:
        if shards[-1] and size + t.nbytes > max_bytes:
            shards.append([])
            size = 0
        shards[-1].append(t)
        size += t.nbytes
    return shards


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model_dir", help="checkpoint directory to write")
    p.add_argument("--shape", choices=sorted(SHAPES), default="llama-7b")
    p.add_argument("--layers", type=int, default=0, help="override the layer count (quick tests)")
    p.add_argument("--format", choices=["fp16", "gptq"], default="fp16")
    p.add_argument("--bits", type=int, choices=[2, 3, 4, 8], default=4)
    p.add_argument("--group-size", type=int, default=128, help="-1: one group per column")
    p.add_argument("--tokenizer-from", help="copy tokenizer.model / tokenizer.json / tokenizer_config.json from DIR")
    p.add_argument("--shard-gb", type=float, default=3.0, help="largest shard, in GB (1e9 bytes)")
    p.add_argument("--device", default=None, help="where to make the values (default: cuda if available)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="write into an existing non-empty directory")
    p.add_argument("--out", help="write a JSON summary here")
    a = p.parse_args()

    if a.group_size == 0 or a.group_size < -1:
        sys.exit("--group-size must be positive or -1")
    device = torch.device(a.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if os.path.isdir(a.model_dir) and os.listdir(a.model_dir) and not a.force:
        sys.exit(f"{a.model_dir} exists and is not empty (--force to write into it)")
    os.makedirs(a.model_dir, exist_ok=True)
    for name in os.listdir(a.model_dir):  # --force: no stale shards or configs from an earlier run
        if name.endswith((".safetensors", ".safetensors.index.json", ".partial")) or name == "quantize_config.json":
            os.remove(os.path.join(a.model_dir, name))
    start = time.time()

    config = model_config(a.shape, a.layers)
    metadata = {"format": "pt"}
    if a.format == "gptq":
        qc = quantize_config(a.bits, a.group_size)
        config["quantization_config"] = qc
        write_json(os.path.join(a.model_dir, "quantize_config.json"), qc)
        metadata.update({"gptq_bits": str(a.bits), "gptq_group_size": str(a.group_size), "gptq_desc_act": "False",
                         "gptq_quant_method": "gptq", "gptq_checkpoint_format": "gptq"})
    write_json(os.path.join(a.model_dir, "config.json"), config)
    write_json(os.path.join(a.model_dir, "generation_config.json"),
               {"bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"], "do_sample": False,
                "transformers_version": config["transformers_version"]})

    copied = []
    if a.tokenizer_from:
        for name in TOKENIZER_FILES:
            src = os.path.join(a.tokenizer_from, name)
            if os.path.isfile(src):
                shutil.copyfile(src, os.path.join(a.model_dir, name))
                copied.append(name)
        if not any(n in copied for n in ("tokenizer.model", "tokenizer.json")):
            sys.exit(f"{a.tokenizer_from} has neither tokenizer.model nor tokenizer.json")

    token_limit = tokenizer_vocab(a.model_dir) if copied else 0
    if 0 < token_limit < config["vocab_size"]:
        print(f"tokenizer: {token_limit} tokens, model: {config['vocab_size']}; lm_head rows from {token_limit} on are "
              "10x smaller, so greedy decoding stays within the tokenizer", flush=True)
    tensors = plan(config, a.format, a.bits, a.group_size, token_limit)
    shards = split_shards(tensors, int(a.shard_gb * 1e9))
    gen = torch.Generator(device=device)
    gen.manual_seed(a.seed)
    written = 0
    weight_map = {}
    for i, shard in enumerate(shards):
        name = "model.safetensors" if len(shards) == 1 else f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        t0 = time.time()
        size = write_shard(os.path.join(a.model_dir, name), shard, metadata, device, gen)
        written += size
        print(f"{name}: {len(shard)} tensors, {size / 1e9:.2f} GB in {time.time() - t0:.1f} s", flush=True)
        for t in shard:
            weight_map[t.name] = name
    if len(shards) > 1:
        write_json(os.path.join(a.model_dir, "model.safetensors.index.json"),
                   {"metadata": {"total_size": sum(t.nbytes for t in tensors)}, "weight_map": weight_map})

    seconds = time.time() - start
    fmt = a.format if a.format == "fp16" else f"gptq w{a.bits} g{a.group_size}"
    summary = {"dir": os.path.abspath(a.model_dir), "shape": a.shape, "format": a.format,
               "bits": a.bits if a.format == "gptq" else 16, "group_size": a.group_size if a.format == "gptq" else None,
               "layers": config["num_hidden_layers"], "tensors": len(tensors), "shards": len(shards),
               "bytes_written": written, "seconds": seconds, "device": str(device), "tokenizer_files": copied,
               "tokenizer_tokens": token_limit,
               "config": config}
    if a.out:
        write_json(a.out, summary)
    print("| shape | format | layers | tensors | shards | GB written | seconds | GB/s | made on | tokenizer |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {a.shape} | {fmt} | {config['num_hidden_layers']} | {len(tensors)} | {len(shards)} | {written / 1e9:.2f} | "
          f"{seconds:.1f} | {written / 1e9 / max(seconds, 1e-9):.2f} | {device.type} | {', '.join(copied) or '-'} |")


if __name__ == "__main__":
    main()
