#!/usr/bin/env python3
"""Writes the hostile-input corpus: model directories as a stranger might ship them.

Usage: make_hostile_corpus.py OUT_DIR (the build runs it into
build/tests/hostile; nothing of it is committed).

Three small valid bases (a float llama with tokenizer.json, the same with a
sentencepiece tokenizer.model, a 4-bit GPTQ llama) are synthesized here, so
the corpus needs no other material and stays a few hundred KB. Each case
overlays a few files on one base and breaks one thing; MANIFEST.tsv says
what, which C API path must meet it and what the library must answer.
tests/hostile_input_test.cpp assembles every case in a scratch directory
(base, then overlay, then the setup steps that git cannot hold, such as
symlinks) and runs it.

Where a case could go either way, the library decides so (and the case
says it): zero and negative GPTQ scales load (well-formed arithmetic), NaN
and infinite ones (also after rounding to fp16) are refused; a g_idx, when
present, decides the groups whatever group_size says; safetensors offsets
need no alignment; zero-sized and unused tensors load; a shard that is a
symlink is followed wherever it points (Hugging Face's cache is made of
them) and must then be a valid safetensors file; sentencepiece's own
checks decide what a tokenizer.model may hold; JSON deeper than 128 levels
is refused everywhere.

Python 3 standard library only. Deterministic: rerunning rewrites the same
bytes, so a diff of two outputs shows what a change to this script did.
"""

import json
import math
import os
import random
import shutil
import struct
import sys


# The smallest llama this library runs: one layer, one head, every packed
# GPTQ dimension a multiple of 32 bits at 4 bits, two groups per input.
VOCAB, HIDDEN, FFN, HEADS, KV_HEADS = 24, 8, 16, 1, 1
HEAD_DIM = HIDDEN // HEADS
GROUP = 4

LLAMA_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": VOCAB,
    "hidden_size": HIDDEN,
    "intermediate_size": FFN,
    "num_hidden_layers": 1,
    "num_attention_heads": HEADS,
    "num_key_value_heads": KV_HEADS,
    "max_position_embeddings": 64,
    "rms_norm_eps": 1e-6,
    "hidden_act": "silu",
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "torch_dtype": "float32",
}

# Linear modules of the layer: name -> (in_features, out_features).
LINEARS = {
    "self_attn.q_proj": (HIDDEN, HEADS * HEAD_DIM),
    "self_attn.k_proj": (HIDDEN, KV_HEADS * HEAD_DIM),
    "self_attn.v_proj": (HIDDEN, KV_HEADS * HEAD_DIM),
    "self_attn.o_proj": (HEADS * HEAD_DIM, HIDDEN),
    "mlp.gate_proj": (HIDDEN, FFN),
    "mlp.up_proj": (HIDDEN, FFN),
    "mlp.down_proj": (FFN, HIDDEN),
}
L0 = "model.layers.0."

rng = random.Random(13)


# ---------------------------------------------------------------- tensors

class T:
    """A tensor as safetensors stores it: dtype, shape and raw bytes."""

    def __init__(self, dtype, shape, data):
        self.dtype, self.shape, self.data = dtype, list(shape), data


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def weights(shape, scale=0.1):
    return T("F16", shape, struct.pack("<%de" % numel(shape), *[rng.uniform(-scale, scale) for _ in range(numel(shape))]))


def ones(shape):
    return T("F32", shape, struct.pack("<%df" % numel(shape), *([1.0] * numel(shape))))


def f16(shape, values):
    return T("F16", shape, struct.pack("<%de" % numel(shape), *values))


def i32(shape, values):
    return T("I32", shape, struct.pack("<%di" % numel(shape), *values))


def st_bytes(tensors, metadata=None, order=None):
    """A valid safetensors file: tensors packed in `order` (default: sorted)."""
    names = order or sorted(tensors)
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name in names:
        t = tensors[name]
        header[name] = {"dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + len(t.data)]}
        offset += len(t.data)
    return raw_st(json.dumps(header).encode(), b"".join(tensors[n].data for n in names))


def raw_st(header, data, length=None):
    pad = (8 - len(header) % 8) % 8
    header += b" " * pad
    return struct.pack("<Q", len(header) if length is None else length) + header + data


def float_tensors():
    t = {"model.embed_tokens.weight": weights([VOCAB, HIDDEN]), "model.norm.weight": ones([HIDDEN]),
         "lm_head.weight": weights([VOCAB, HIDDEN]), L0 + "input_layernorm.weight": ones([HIDDEN]),
         L0 + "post_attention_layernorm.weight": ones([HIDDEN])}
    for module, (k, n) in LINEARS.items():
        t[L0 + module + ".weight"] = weights([n, k])
    return t


def gptq_module(k, n, scale=0.01):
    """AutoGPTQ's layout at 4 bits, groups of GROUP: qweight [K/8, N],
    qzeros [G, N/8] (v1: zero 8 stored as 7), scales [G, N], g_idx [K]."""
    g = k // GROUP
    return {
        "qweight": i32([k // 8, n], [rng.randrange(-2**31, 2**31) for _ in range(k // 8 * n)]),
        "qzeros": i32([g, n // 8], [0x77777777] * (g * n // 8)),
        "scales": f16([g, n], [scale] * (g * n)),
        "g_idx": i32([k], [i // GROUP for i in range(k)]),
    }


def gptq_tensors():
    t = {name: v for name, v in float_tensors().items() if not name.startswith(L0 + "self_attn") and not name.startswith(L0 + "mlp")}
    for module, (k, n) in LINEARS.items():
        for part, tensor in gptq_module(k, n).items():
            t[L0 + module + "." + part] = tensor
    return t


FLOAT = float_tensors()
GPTQ = gptq_tensors()

# ---------------------------------------------------------------- tokenizers

PIECES = ["<unk>", "<s>", "</s>", "h", "e", "l", "o", " ", "w", "r", "d", "he", "ll", "hell", "hello", "wo", "wor",
          "world", "<0x0A>"]


def tokenizer_json(**changes):
    vocab = {p: i for i, p in enumerate(PIECES)}
    tok = {
        "version": "1.0",
        "added_tokens": [
            {"id": 0, "content": "<unk>", "special": True, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False},
            {"id": 1, "content": "<s>", "special": True, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False},
            {"id": 2, "content": "</s>", "special": True, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False},
        ],
        "normalizer": None,
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "Fuse"},
        "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": True, "byte_fallback": False, "vocab": vocab,
                  "merges": ["h e", "l l", "he ll", "hell o", "w o", "wo r", "wor l", "worl d"]},
    }
    # The merges need these intermediate tokens too.
    vocab["worl"] = len(vocab)
    for path, value in changes.items():
        set_path(tok, path, value)
    return tok


def set_path(obj, path, value):
    keys = path.split(".")
    for key in keys[:-1]:
        obj = obj[int(key)] if isinstance(obj, list) else obj[key]
    last = keys[-1]
    if value is DELETE:
        if isinstance(obj, list):
            del obj[int(last)]
        else:
            del obj[last]
    elif isinstance(obj, list):
        obj[int(last)] = value
    else:
        obj[last] = value


DELETE = object()


def varint(value):
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def pb_field(number, wire, payload):
    tag = varint(number << 3 | wire)
    if wire == 0:
        return tag + varint(payload)
    if wire == 5:
        return tag + struct.pack("<f", payload)
    return tag + varint(len(payload)) + payload


# sentencepiece_model.proto: SentencePiece.type
NORMAL, UNKNOWN, CONTROL, BYTE = 1, 2, 3, 6


def sp_model(pieces=None, trainer=None, normalizer=None, extra=b""):
    """A unigram ModelProto: pieces = [(text, score, type)]."""
    if pieces is None:
        pieces = [("<unk>", 0.0, UNKNOWN), ("<s>", 0.0, CONTROL), ("</s>", 0.0, CONTROL)]
        pieces += [(p, -float(i), NORMAL) for i, p in enumerate(
            ["\u2581hello", "\u2581world", "\u2581", "h", "e", "l", "o", "w", "r", "d", "he", "ll", "lo", "wo", "or"])]
    out = b""
    for text, score, kind in pieces:
        body = pb_field(1, 2, text if isinstance(text, bytes) else text.encode()) + pb_field(2, 5, score) + pb_field(3, 0, kind)
        out += pb_field(1, 2, body)
    trainer_fields = {3: 1, 40: 0, 41: 1, 42: 2, 43: -1}  # model_type UNIGRAM, unk/bos/eos/pad ids
    trainer_fields.update(trainer or {})
    out += pb_field(2, 2, b"".join(pb_field(k, 0, v) for k, v in sorted(trainer_fields.items())))
    norm = {"name": b"identity", 3: 1, 4: 0, 5: 1}
    norm.update(normalizer or {})
    out += pb_field(3, 2, pb_field(1, 2, norm["name"]) + b"".join(pb_field(k, 0, norm[k]) for k in (3, 4, 5)))
    return out + extra


# ---------------------------------------------------------------- cases

def js(obj):
    return json.dumps(obj).encode()


def with_key(data, key, value):
    """A compact JSON object's bytes with one more key (raw bytes, maybe not JSON)."""
    assert data.endswith(b"}")
    return data[:-1] + b',"' + key.encode() + b'": ' + value + b"}"


def deep(levels, leaf="0", open_="[", close="]"):
    return (open_ * levels + leaf + close * levels).encode()


def changed(obj, **changes):
    """A copy of a flat JSON object with keys set, or dropped for DELETE."""
    c = dict(obj)
    for key, value in changes.items():
        if value is DELETE:
            c.pop(key, None)
        else:
            c[key] = value
    return c


def config(**changes):
    return js(changed(LLAMA_CONFIG, **changes))


BASES = {
    "llama": {
        "config.json": js(LLAMA_CONFIG),
        "generation_config.json": js({"bos_token_id": 1, "eos_token_id": 2}),
        "tokenizer_config.json": js({"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": True}),
        "tokenizer.json": js(tokenizer_json()),
        "model.safetensors": st_bytes(FLOAT),
    },
    "sp": {
        "config.json": js(LLAMA_CONFIG),
        "tokenizer.model": sp_model(),
        "model.safetensors": st_bytes(FLOAT),
    },
    "gptq": {
        "config.json": js(LLAMA_CONFIG),
        "quantize_config.json": js({"bits": 4, "group_size": GROUP, "desc_act": False, "sym": True, "damp_percent": 0.01,
                                    "static_groups": False, "true_sequential": True, "model_file_base_name": "model",
                                    "quant_method": "gptq", "checkpoint_format": "gptq"}),
        "tokenizer.json": js(tokenizer_json()),
        "model.safetensors": st_bytes(GPTQ),
    },
}

CASES = []


def case(name, why, expect, needles, files=None, base="llama", api="model_load", setup=()):
    assert all("\t" not in s and "\n" not in s for s in [name, why, *needles, *setup])
    CASES.append(dict(name=name, why=why, expect=expect, needles=needles, files=files or {}, base=base, api=api,
                      setup=list(setup)))


FMT, NF, UNS, IO = "GPTQ_ERR_FORMAT", "GPTQ_ERR_NOT_FOUND", "GPTQ_ERR_UNSUPPORTED", "GPTQ_ERR_IO"
LOADS = "loads"
ST = "model.safetensors"
EMB = "model.embed_tokens.weight"
Q = L0 + "self_attn.q_proj"


def st_case(name, why, expect, needles, data, base="llama"):
    case("st_" + name, why, expect, needles, {ST: data}, base=base)


def header_case(name, why, expect, needles, mutate, tensors=FLOAT):
    """Edits the parsed header of a valid file, keeping its data section."""
    good = st_bytes(tensors)
    n = struct.unpack("<Q", good[:8])[0]
    header, data = json.loads(good[8:8 + n]), good[8 + n:]
    mutate(header)
    st_case(name, why, expect, needles, raw_st(json.dumps(header).encode(), data))


def safetensors_cases():
    good = st_bytes(FLOAT)
    n = struct.unpack("<Q", good[:8])[0]
    data = good[8 + n:]
    st_case("empty_file", "zero bytes", FMT, [ST], b"")
    st_case("seven_bytes", "shorter than the length prefix", FMT, [ST], b"\x01" * 7)
    st_case("header_len_past_eof", "length prefix one past the end", FMT, [ST, "header"], struct.pack("<Q", len(good) - 7) + good[8:])
    st_case("header_len_2_63", "length prefix 2^63", FMT, [ST, "header"], struct.pack("<Q", 2**63) + good[8:])
    st_case("header_len_max", "length prefix 2^64-1", FMT, [ST, "header"], struct.pack("<Q", 2**64 - 1) + good[8:])
    st_case("header_len_over_limit", "length prefix just above the 100 MB cap", FMT, [ST, "header"],
            struct.pack("<Q", 100 * 1024 * 1024 + 1) + good[8:])
    st_case("header_len_zero", "empty header", FMT, [ST, "header"], struct.pack("<Q", 0) + good[8:])
    st_case("header_len_short", "length cuts the JSON in half", FMT, [ST, "header"], struct.pack("<Q", n // 2) + good[8:])
    st_case("header_not_utf8", "a tensor name with invalid UTF-8", FMT, [ST, "header"],
            raw_st(b'{"\xff\xfe": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}', b""))
    st_case("header_lone_surrogate", "a \\ud800 escape in a name", FMT, [ST, "header"],
            raw_st(b'{"\\ud800": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}', b""))
    st_case("header_not_json", "plain text", FMT, [ST, "header"], raw_st(b"hello, world", data))
    st_case("header_nul_bytes", "NUL padding instead of spaces", FMT, [ST, "header"], raw_st(b"{}\0\0\0\0\0\0", b""))
    st_case("header_array", "header is a list", FMT, [ST, "header", "object"], raw_st(b"[]", b""))
    st_case("header_string", "header is a string", FMT, [ST, "header", "object"], raw_st(b'"x"', b""))
    st_case("header_number", "header is a number", FMT, [ST, "header", "object"], raw_st(b"42", b""))
    st_case("header_null", "header is null", FMT, [ST, "header", "object"], raw_st(b"null", b""))
    st_case("header_deep_nesting", "10000 nested lists in __metadata__", FMT, [ST],
            raw_st(b'{"__metadata__": ' + deep(10000) + b"}", b""))
    st_case("header_deep_objects", "10000 nested objects", FMT, [ST],
            raw_st(deep(10000, "1", '{"a":', "}"), b""))
    st_case("duplicate_tensor", "one tensor name twice", FMT, [ST, "model.norm.weight", "twice"],
            raw_st(b'{"model.norm.weight": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]},'
                   b' "model.norm.weight": {"dtype": "U8", "shape": [8], "data_offsets": [8, 16]}}', bytes(16)))
    st_case("empty_header_object", "no tensors at all", NF, [EMB], raw_st(b"{}", b""))
    st_case("trailing_bytes", "bytes after the last tensor", FMT, [ST, "belong to no tensor"], good + b"\0" * 8)
    st_case("truncated_data", "data section cut short", FMT, [ST, "data_offsets"], good[:-4])

    def entry(name, **fields):
        def mutate(h):
            for k, v in fields.items():
                if v is DELETE:
                    h[name].pop(k)
                else:
                    h[name][k] = v
        return mutate

    norm = "model.norm.weight"
    for field, label in [("dtype", "missing_dtype"), ("shape", "missing_shape"), ("data_offsets", "missing_offsets")]:
        header_case(label, "tensor entry without " + field, FMT, [ST, norm, field], entry(norm, **{field: DELETE}))
    header_case("entry_not_object", "tensor entry is a list", FMT, [ST, norm], lambda h: h.__setitem__(norm, [1, 2]))
    header_case("entry_null", "tensor entry is null", FMT, [ST, norm], lambda h: h.__setitem__(norm, None))
    header_case("dtype_number", "dtype 7", FMT, [ST, norm, "dtype"], entry(norm, dtype=7))
    header_case("dtype_unknown", "dtype Q4", FMT, [ST, norm, "dtype", "Q4"], entry(norm, dtype="Q4"))
    header_case("dtype_f8", "a float8 dtype this library does not read", FMT, [ST, norm, "F8_E4M3"], entry(norm, dtype="F8_E4M3"))
    header_case("dtype_lowercase", "dtype f32", FMT, [ST, norm, "f32"], entry(norm, dtype="f32"))
    header_case("dtype_f16_for_f32_bytes", "dtype F16 over F32 bytes", FMT, [ST, norm, "bytes"], entry(norm, dtype="F16"))
    header_case("dtype_f64_for_f32_bytes", "dtype F64 over F32 bytes", FMT, [ST, norm, "bytes"], entry(norm, dtype="F64"))
    header_case("shape_not_array", "shape is a number", FMT, [ST, norm, "shape"], entry(norm, shape=16))
    header_case("shape_negative", "shape [-16]", FMT, [ST, norm, "shape"], entry(norm, shape=[-16]))
    header_case("shape_float", "shape [16.0]", FMT, [ST, norm, "shape"], entry(norm, shape=[16.5]))
    header_case("shape_string", "shape [\"16\"]", FMT, [ST, norm, "shape"], entry(norm, shape=["16"]))
    header_case("shape_null_extent", "shape [null]", FMT, [ST, norm, "shape"], entry(norm, shape=[None]))
    header_case("shape_overflow_product", "extents whose product overflows 64 bits", FMT, [ST, norm, "shape"],
                entry(norm, shape=[2**32, 2**32, 16]))
    header_case("shape_extent_2_63", "one extent of 2^63", FMT, [ST, norm, "shape"], entry(norm, shape=[2**63]))
    header_case("shape_extent_2_64", "one extent of 2^64-1", FMT, [ST, norm, "shape"], entry(norm, shape=[2**64 - 1]))
    header_case("shape_bytes_overflow", "element count fits, byte count does not", FMT, [ST, norm],
                entry(norm, shape=[2**62, 2]))
    header_case("shape_wrong_count", "shape [15] over 16 floats", FMT, [ST, norm, "bytes"], entry(norm, shape=[15]))
    header_case("shape_transposed_weight", "up_proj stored [in, out]", FMT, [ST, L0 + "mlp.up_proj.weight", "shape"],
                entry(L0 + "mlp.up_proj.weight", shape=[HIDDEN, FFN]))
    header_case("offsets_one", "data_offsets [0]", FMT, [ST, norm, "data_offsets"], entry(norm, data_offsets=[0]))
    header_case("offsets_three", "data_offsets of three numbers", FMT, [ST, norm, "data_offsets"], entry(norm, data_offsets=[0, 64, 128]))
    header_case("offsets_not_array", "data_offsets is a string", FMT, [ST, norm, "data_offsets"], entry(norm, data_offsets="0-64"))
    header_case("offsets_negative", "data_offsets [-64, 0]", FMT, [ST, norm, "data_offsets"], entry(norm, data_offsets=[-64, 0]))
    header_case("offsets_float", "data_offsets [0.5, 64.5]", FMT, [ST, norm, "data_offsets"], entry(norm, data_offsets=[0.5, 64.5]))
    header_case("offsets_reversed", "end before begin", FMT, [ST, norm, "data_offsets"], entry(norm, data_offsets=[64, 0]))
    header_case("offsets_past_data", "end past the data section", FMT, [ST, norm, "data_offsets"],
                entry(norm, data_offsets=[len(data), len(data) + 64]))
    header_case("offsets_huge", "offsets near 2^64", FMT, [ST, norm, "data_offsets"],
                entry(norm, data_offsets=[2**64 - 64, 2**64 - 1]))
    header_case("offsets_wrap", "begin + size wraps around", FMT, [ST, norm, "data_offsets"],
                entry(norm, data_offsets=[2**64 - 32, 32]))

    header_case("offsets_overlap", "two tensors share bytes", FMT, [ST, "overlaps"],
                lambda h: h[norm].__setitem__("data_offsets", [0, 4 * HIDDEN]))

    def shift(h):
        # Everything after the first tensor moves 4 bytes later: a gap, then too little data.
        first = min((k for k in h), key=lambda k: h[k]["data_offsets"][0])
        for k in h:
            if k != first:
                b, e = h[k]["data_offsets"]
                h[k]["data_offsets"] = [b + 4, e + 4]
    header_case("offsets_gap", "4 unclaimed bytes between tensors", FMT, [ST], shift)
    # Benign: header order differs from data order, data still tiles exactly.
    tensors = dict(FLOAT)
    st_case("offsets_out_of_order", "header lists tensors in another order than their bytes", LOADS, [],
            st_bytes(tensors, order=sorted(tensors, reverse=True)))
    # Misaligned: a 2-byte tensor first moves every F32 norm off a multiple of 4.
    odd = dict(FLOAT)
    odd["aaa.odd"] = f16([1], [1.0])
    st_case("offsets_misaligned", "tensors at offsets not a multiple of their dtype size", LOADS, [], st_bytes(odd))
    odd3 = dict(FLOAT)
    odd3["aaa.odd"] = T("U8", [3], b"\1\2\3")
    st_case("offsets_misaligned_by_3", "tensors at odd offsets", LOADS, [], st_bytes(odd3))
    zero = dict(FLOAT)
    zero["extra.empty"] = T("F32", [0, 16], b"")
    st_case("zero_sized_extra", "an unused [0, 16] tensor", LOADS, [], st_bytes(zero))
    scalar = dict(FLOAT)
    scalar["extra.scalar"] = T("F32", [], struct.pack("<f", 1.0))
    st_case("scalar_extra", "an unused 0-dim tensor", LOADS, [], st_bytes(scalar))
    many = dict(FLOAT)
    many["extra.many_dims"] = T("F32", [1] * 64, struct.pack("<f", 1.0))
    st_case("many_dims_extra", "an unused tensor of 64 dims", LOADS, [], st_bytes(many))
    unnamed = dict(FLOAT)
    unnamed[""] = T("U8", [1], b"\0")
    st_case("empty_name_extra", "an unused tensor named \"\"", LOADS, [], st_bytes(unnamed))
    zero_embed = dict(FLOAT)
    zero_embed[EMB] = T("F32", [0, HIDDEN], b"")
    st_case("zero_sized_weight", "embed_tokens of shape [0, 16]", FMT, [ST, EMB, "shape"], st_bytes(zero_embed))
    st_case("metadata_string", "__metadata__ is a string", FMT, [ST, "__metadata__"], st_bytes(FLOAT, metadata="pt"))
    st_case("metadata_array", "__metadata__ is a list", FMT, [ST, "__metadata__"], st_bytes(FLOAT, metadata=["pt"]))
    st_case("metadata_null", "__metadata__ is null", FMT, [ST, "__metadata__"], raw_st(b'{"__metadata__": null}', b""))
    st_case("metadata_value_number", "__metadata__ value 1", FMT, [ST, "__metadata__", "format"], st_bytes(FLOAT, metadata={"format": 1}))
    st_case("metadata_value_object", "__metadata__ value an object", FMT, [ST, "__metadata__", "format"],
            st_bytes(FLOAT, metadata={"format": {"a": "b"}}))
    st_case("metadata_valid", "ordinary __metadata__", LOADS, [], st_bytes(FLOAT, metadata={"format": "pt", "x": ""}))
    wrong_type = dict(FLOAT)
    wrong_type[EMB] = i32([VOCAB, HIDDEN], [0] * VOCAB * HIDDEN)
    st_case("weight_int32", "embeddings stored as I32", FMT, [ST, EMB, "I32"], st_bytes(wrong_type))
    wrong_type = dict(FLOAT)
    wrong_type[EMB] = T("BOOL", [VOCAB, HIDDEN], bytes(VOCAB * HIDDEN))
    st_case("weight_bool", "embeddings stored as BOOL", FMT, [ST, EMB, "BOOL"], st_bytes(wrong_type))
    wrong_type = dict(FLOAT)
    wrong_type[L0 + "input_layernorm.weight"] = T("I8", [HIDDEN], bytes(HIDDEN))
    st_case("norm_int8", "a norm weight stored as I8", FMT, [ST, "input_layernorm.weight", "I8"], st_bytes(wrong_type))
    missing = {k: v for k, v in FLOAT.items() if k != "model.norm.weight"}
    st_case("missing_tensor", "model.norm.weight absent", NF, ["model.norm.weight"], st_bytes(missing))
    wrong_shape = dict(FLOAT)
    wrong_shape[Q + ".weight"] = weights([HIDDEN + 8, HIDDEN])
    st_case("weight_wrong_shape", "q_proj [24, 16] where config.json implies [16, 16]", FMT, [ST, Q + ".weight", "shape"], st_bytes(wrong_shape))
    mixed = dict(FLOAT)
    mixed[EMB] = T("F32", [VOCAB, HIDDEN], struct.pack("<%df" % (VOCAB * HIDDEN), *([0.01] * VOCAB * HIDDEN)))
    st_case("mixed_float_types", "F32 embeddings beside F16 layers", LOADS, [], st_bytes(mixed))
    big = dict(FLOAT)
    big["x" * 4096] = T("U8", [1], b"\0")
    st_case("long_name_extra", "an unused tensor with a 4096-byte name", LOADS, [], st_bytes(big))


def config_cases():
    C = "config.json"
    case("config_missing", "no config.json", NF, [C], setup=["rm=config.json"])
    case("config_is_directory", "config.json is a directory", IO, [C], setup=["mkdir=config.json"], files={})
    case("config_empty", "zero bytes", FMT, [C, "JSON"], {C: b""})
    case("config_not_json", "plain text", FMT, [C, "JSON"], {C: b"model_type = llama"})
    case("config_truncated", "JSON cut in the middle", FMT, [C, "JSON"], {C: config()[:40]})
    case("config_array", "a list, not an object", FMT, [C, "object"], {C: b"[1, 2, 3]"})
    case("config_not_utf8", "a string with invalid UTF-8", FMT, [C], {C: with_key(config(), "x", b'"\xc3\x28"')})
    case("config_deep_nesting", "10000 nested lists as a value", FMT, [C], {C: with_key(config(), "x", deep(10000))})
    case("config_deep_whole_file", "10000 nested lists as the file", FMT, [C], {C: deep(10000)})
    case("config_deep_value_of_key", "vocab_size is 10000 nested lists", FMT, [C], {C: with_key(config(model_type="llama"), "vocab_size", deep(10000))})
    case("config_bom", "a UTF-8 byte order mark first", LOADS, [], {C: b"\xef\xbb\xbf" + config()})
    case("config_duplicate_key", "vocab_size twice, last wins (as in Python)", LOADS, [], {C: with_key(config(vocab_size=7), "vocab_size", str(VOCAB).encode())})
    case("config_model_type_missing", "no model_type", FMT, [C, "model_type"], {C: config(model_type=DELETE)})
    case("config_model_type_number", "model_type 1", FMT, [C, "model_type"], {C: config(model_type=1)})
    case("config_model_type_unknown", "model_type 'llama9'", UNS, [C, "model_type", "llama9"], {C: config(model_type="llama9")})
    for key in ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"]:
        case("config_" + key + "_missing", key + " absent", FMT, [C, key], {C: config(**{key: DELETE})})
        case("config_" + key + "_string", key + " '16'", FMT, [C, key], {C: config(**{key: "16"})})
        case("config_" + key + "_negative", key + " -16", FMT, [C, key], {C: config(**{key: -16})})
        case("config_" + key + "_zero", key + " 0", FMT, [C, key], {C: config(**{key: 0})})
        case("config_" + key + "_huge", key + " 2^40", FMT, [C, key], {C: config(**{key: 2**40})})
        case("config_" + key + "_2_63", key + " 2^63 (beyond int64)", FMT, [C, key], {C: config(**{key: 2**63})})
    case("config_vocab_size_float", "vocab_size 32.5", FMT, [C, "vocab_size"], {C: config(vocab_size=32.5)})
    case("config_vocab_size_1e300", "vocab_size 1e300", FMT, [C, "vocab_size"], {C: config(vocab_size=1e300)})
    case("config_vocab_size_whole_float", "vocab_size 32.0 (as some exporters write)", LOADS, [], {C: config(vocab_size=float(VOCAB))})
    case("config_vocab_size_bool", "vocab_size true", FMT, [C, "vocab_size"], {C: config(vocab_size=True)})
    case("config_vocab_size_list", "vocab_size [32]", FMT, [C, "vocab_size"], {C: config(vocab_size=[32])})
    case("config_vocab_smaller_than_weights", "vocab_size 16 while the embeddings hold more rows", FMT, [EMB, "shape"], {C: config(vocab_size=16)})
    case("config_num_hidden_layers_two", "2 layers, weights for 1", NF, ["model.layers.1."], {C: config(num_hidden_layers=2)})
    case("config_heads_do_not_divide", "hidden 8 over 3 heads", FMT, [C, "num_attention_heads"], {C: config(num_attention_heads=3)})
    case("config_kv_heads_do_not_divide", "3 kv heads for 1 head", FMT, [C, "num_key_value_heads"], {C: config(num_key_value_heads=3)})
    case("config_kv_heads_zero", "0 kv heads", FMT, [C, "num_key_value_heads"], {C: config(num_key_value_heads=0)})
    case("config_kv_heads_negative", "-1 kv heads", FMT, [C, "num_key_value_heads"], {C: config(num_key_value_heads=-1)})
    case("config_kv_heads_huge", "2^40 kv heads", FMT, [C, "num_key_value_heads"], {C: config(num_key_value_heads=2**40)})
    case("config_kv_heads_string", "kv heads '1'", FMT, [C, "num_key_value_heads"], {C: config(num_key_value_heads="1")})
    case("config_head_dim_odd", "head_dim 7", FMT, [C, "head_dim"], {C: config(head_dim=7)})
    case("config_head_dim_negative", "head_dim -8", FMT, [C, "head_dim"], {C: config(head_dim=-8)})
    case("config_head_dim_huge", "head_dim 2^40", FMT, [C, "head_dim"], {C: config(head_dim=2**40)})
    case("config_head_dim_times_heads_overflow", "2^31 heads of head_dim 2^32", FMT, [C],
         {C: config(num_attention_heads=2**31 - 2, num_key_value_heads=2**31 - 2, head_dim=2**32)})
    case("config_max_position_zero", "max_position_embeddings 0", FMT, [C, "max_position_embeddings"], {C: config(max_position_embeddings=0)})
    case("config_max_position_negative", "max_position_embeddings -1", FMT, [C, "max_position_embeddings"], {C: config(max_position_embeddings=-1)})
    case("config_max_position_huge", "max_position_embeddings 2^40", FMT, [C, "max_position_embeddings"], {C: config(max_position_embeddings=2**40)})
    case("config_max_position_large_ok", "max_position_embeddings 2^20: contexts default to 4096", LOADS, [], {C: config(max_position_embeddings=2**20)})
    case("config_hidden_act_unknown", "hidden_act 'swiglu'", UNS, [C, "hidden_act", "swiglu"], {C: config(hidden_act="swiglu")})
    case("config_hidden_act_number", "hidden_act 1", FMT, [C, "hidden_act"], {C: config(hidden_act=1)})
    case("config_rope_theta_zero", "rope_theta 0", FMT, [C, "rope_theta"], {C: config(rope_theta=0)})
    case("config_rope_theta_negative", "rope_theta -1", FMT, [C, "rope_theta"], {C: config(rope_theta=-1)})
    case("config_rope_theta_string", "rope_theta '1e4'", FMT, [C, "rope_theta"], {C: config(rope_theta="1e4")})
    case("config_rope_theta_1e308", "rope_theta 1e308", LOADS, [], {C: config(rope_theta=1e308)})
    case("config_rope_type_unknown", "rope_scaling type 'yarn'", UNS, [C, "rope", "yarn"], {C: config(rope_scaling={"rope_type": "yarn", "factor": 2.0})})
    case("config_rope_type_number", "rope_scaling rope_type 3", FMT, [C, "rope_type"], {C: config(rope_scaling={"rope_type": 3})})
    case("config_rope_scaling_string", "rope_scaling 'linear' (ignored: not an object)", LOADS, [], {C: config(rope_scaling="linear")})
    case("config_rope_factor_zero", "linear scaling factor 0", FMT, [C, "factor"], {C: config(rope_scaling={"type": "linear", "factor": 0})})
    case("config_rope_llama3_incomplete", "llama3 scaling without original_max_position_embeddings", FMT, [C, "original_max_position_embeddings"],
         {C: config(rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0})})
    case("config_rope_llama3_freq_order", "llama3 high_freq_factor below low_freq_factor", FMT, [C, "high_freq_factor"],
         {C: config(rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 4.0, "high_freq_factor": 1.0,
                                  "original_max_position_embeddings": 64})})
    case("config_partial_rotary_two", "partial_rotary_factor 2", FMT, [C, "partial_rotary_factor"], {C: config(partial_rotary_factor=2)})
    case("config_partial_rotary_zero", "partial_rotary_factor 0", FMT, [C, "partial_rotary_factor"], {C: config(partial_rotary_factor=0)})
    case("config_partial_rotary_odd_dims", "partial_rotary_factor 0.3 of head_dim 8 (rounds to 2 dims)", LOADS, [], {C: config(partial_rotary_factor=0.3)})
    case("config_rms_norm_eps_string", "rms_norm_eps '1e-6'", FMT, [C, "rms_norm_eps"], {C: config(rms_norm_eps="1e-6")})
    case("config_tie_embeddings_string", "tie_word_embeddings 'false'", FMT, [C, "tie_word_embeddings"], {C: config(tie_word_embeddings="false")})
    case("config_torch_dtype_number", "torch_dtype 16", FMT, [C, "torch_dtype"], {C: config(torch_dtype=16)})
    case("config_torch_dtype_unknown", "torch_dtype 'float8' (informative only)", LOADS, [], {C: config(torch_dtype="float8")})
    case("config_bos_list_with_string", "bos_token_id ['1']", FMT, [C, "bos_token_id"], {C: config(bos_token_id=["1"])})
    case("config_eos_huge", "eos_token_id 2^40", LOADS, [], {C: config(eos_token_id=2**40)})
    case("config_eos_negative", "eos_token_id -5", LOADS, [], {C: config(eos_token_id=-5)})
    case("config_sliding_window_negative", "sliding_window -1", FMT, [C, "sliding_window"], {C: config(sliding_window=-1)})
    case("config_gpt_neo_attention_types_huge", "gpt_neo attention_types repeating a kind 2^40 times", FMT, [C, "attention_types"],
         {C: config(model_type="gpt_neo", attention_types=[[["global"], 2**40]])})
    case("config_parallel_residual_llama", "use_parallel_residual for llama", UNS, [C, "use_parallel_residual"], {C: config(use_parallel_residual=True)})


def quant_config_cases():
    QC = "quantize_config.json"
    good = json.loads(BASES["gptq"][QC])

    def qc(**changes):
        return {QC: js(changed(good, **changes))}

    def q(name, why, expect, needles, files, setup=()):
        case("quant_" + name, why, expect, needles, files, base="gptq", api="quantized_load", setup=setup)

    q("not_json", "plain text", FMT, [QC, "JSON"], {QC: b"bits=4"})
    q("array", "a list", FMT, [QC], {QC: b"[4]"})
    q("deep_nesting", "10000 nested lists", FMT, [QC], {QC: deep(10000)})
    q("bits_missing", "no bits", FMT, [QC, "bits"], qc(bits=DELETE))
    q("bits_five", "bits 5", UNS, [QC, "bits"], qc(bits=5))
    q("bits_zero", "bits 0", UNS, [QC, "bits"], qc(bits=0))
    q("bits_string", "bits '4'", FMT, [QC, "bits"], qc(bits="4"))
    q("bits_wraps_to_four", "bits 2^32+4, which truncates to 4", FMT, [QC, "bits"], qc(bits=2**32 + 4))
    q("bits_eight_tensors_four", "bits 8 over tensors packed at 4", FMT, [ST, "qweight"], qc(bits=8))
    q("bits_three_unpackable", "bits 3: 8 inputs do not pack into 32-bit words", FMT, ["q_proj", "bits"], qc(bits=3))
    q("group_size_zero", "group_size 0", "GPTQ_ERR_INVALID_ARGUMENT", [QC, "group_size"], qc(group_size=0))
    q("group_size_minus_two", "group_size -2", "GPTQ_ERR_INVALID_ARGUMENT", [QC, "group_size"], qc(group_size=-2))
    q("group_size_wraps", "group_size 2^32+4, which truncates to 4", FMT, [QC, "group_size"], qc(group_size=2**32 + 4))
    q("group_size_float", "group_size 8.5", FMT, [QC, "group_size"], qc(group_size=8.5))
    q("group_size_disagrees_with_g_idx", "group_size 8 where the tensors hold groups of 4: g_idx decides", LOADS, [],
      qc(group_size=8))
    q("desc_act_string", "desc_act 'no'", FMT, [QC, "desc_act"], qc(desc_act="no"))
    q("sym_number", "sym 1", FMT, [QC, "sym"], qc(sym=1))
    q("damp_two", "damp_percent 2", "GPTQ_ERR_INVALID_ARGUMENT", [QC, "damp_percent"], qc(damp_percent=2))
    q("method_awq", "quant_method 'awq'", UNS, [QC, "awq"], qc(quant_method="awq"))
    q("format_unknown", "checkpoint_format 'exl2'", UNS, [QC, "checkpoint_format"], qc(checkpoint_format="exl2"))
    q("format_marlin", "is_marlin_format true", UNS, [QC, "Marlin"], qc(is_marlin_format=True))
    q("base_name_parent", "model_file_base_name '../model' reaches outside the directory", FMT, [QC, "model_file_base_name"],
      qc(model_file_base_name="../model"))
    q("base_name_absolute", "model_file_base_name '/etc/passwd'", FMT, [QC, "model_file_base_name"], qc(model_file_base_name="/etc/passwd"))
    q("base_name_subdir", "model_file_base_name 'sub/model'", FMT, [QC, "model_file_base_name"], qc(model_file_base_name="sub/model"))
    q("base_name_number", "model_file_base_name 7", FMT, [QC, "model_file_base_name"], qc(model_file_base_name=7))
    q("base_name_other_file", "model_file_base_name names a file that is not there (falls back to model.safetensors)", LOADS, [],
      qc(model_file_base_name="gptq_model-4bit-8g"))
    case("quant_config_json_section_string", "config.json quantization_config is a string: the weights' qweight are not read as a float model",
         NF, [Q + ".weight"], {"config.json": config(quantization_config="gptq")}, base="gptq", api="quantized_load",
         setup=["rm=quantize_config.json"])
    case("quant_config_json_section_bad_bits", "config.json quantization_config with bits 7", UNS, ["config.json", "quantization_config", "bits"],
         {"config.json": config(quantization_config=dict(good, bits=7))}, base="gptq", api="quantized_load", setup=["rm=quantize_config.json"])
    case("quant_config_missing", "qweight tensors but no quantization config", NF, [Q + ".weight"], {}, base="gptq",
         api="quantized_load", setup=["rm=quantize_config.json"])


def gptq_tensor_cases():
    def gq(name, why, expect, needles, mutate):
        t = dict(GPTQ)
        mutate(t)
        case("gptq_" + name, why, expect, needles, {ST: st_bytes(t)}, base="gptq", api="quantized_load")

    k, n = LINEARS["self_attn.q_proj"]
    g = k // GROUP

    def put(suffix, tensor):
        return lambda t: t.__setitem__(Q + "." + suffix, tensor)

    def drop(suffix):
        return lambda t: t.pop(Q + "." + suffix)

    gq("qweight_rows_for_2_bits", "qweight [K*2/32, N] under bits 4", FMT, [ST, Q + ".qweight"], put("qweight", i32([k // 16, n], [0] * (k // 16 * n))))
    gq("qweight_rows_for_8_bits", "qweight [K*8/32, N] under bits 4", FMT, [ST, Q + ".qweight"], put("qweight", i32([k // 4, n], [0] * (k // 4 * n))))
    gq("qweight_cols", "qweight [K/8, N+8]", FMT, [ST, Q + ".qweight"], put("qweight", i32([k // 8, n + 8], [0] * (k // 8 * (n + 8)))))
    gq("qweight_i64", "qweight of dtype I64", FMT, [ST, Q + ".qweight", "I64"],
       put("qweight", T("I64", [k // 8, n], bytes(8 * k // 8 * n))))
    gq("qweight_1d", "qweight flattened to one dimension", FMT, [ST, Q + ".qweight"], put("qweight", i32([k // 8 * n], [0] * (k // 8 * n))))
    gq("qzeros_missing", "no qzeros", NF, [Q + ".qzeros"], drop("qzeros"))
    gq("qzeros_shape", "qzeros [G, N/4]", FMT, [ST, Q + ".qzeros"], put("qzeros", i32([g, n // 4], [0] * (g * n // 4))))
    gq("qzeros_rows", "qzeros [G+1, N/8]", FMT, [ST, Q + ".qzeros"], put("qzeros", i32([g + 1, n // 8], [0] * ((g + 1) * n // 8))))
    gq("qzeros_f16", "qzeros of dtype F16", FMT, [ST, Q + ".qzeros", "F16"], put("qzeros", f16([g, n // 8], [0.0] * (g * n // 8))))
    gq("scales_missing", "no scales", NF, [Q + ".scales"], drop("scales"))
    gq("scales_cols", "scales [G, N+1]", FMT, [ST, Q + ".scales"], put("scales", f16([g, n + 1], [0.01] * (g * (n + 1)))))
    gq("scales_zero_rows", "scales [0, N]", FMT, [ST, Q + ".scales"], put("scales", T("F16", [0, n], b"")))
    gq("scales_more_rows_than_inputs", "scales [K+1, N]", FMT, [ST, Q + ".scales"], put("scales", f16([k + 1, n], [0.01] * ((k + 1) * n))))
    gq("scales_i32", "scales of dtype I32", FMT, [ST, Q + ".scales", "I32"], put("scales", i32([g, n], [1] * (g * n))))
    gq("scales_1d", "scales [G*N]", FMT, [ST, Q + ".scales"], put("scales", f16([g * n], [0.01] * (g * n))))
    gq("scales_zero", "every scale 0 (a dead layer, but well formed)", LOADS, [], put("scales", f16([g, n], [0.0] * (g * n))))
    gq("scales_nan", "a NaN scale", FMT, [ST, Q + ".scales", "finite"], put("scales", f16([g, n], [math.nan] + [0.01] * (g * n - 1))))
    gq("scales_inf", "an infinite scale", FMT, [ST, Q + ".scales", "finite"], put("scales", f16([g, n], [0.01] * (g * n - 1) + [math.inf])))
    gq("scales_negative_inf", "a -inf scale", FMT, [ST, Q + ".scales", "finite"], put("scales", f16([g, n], [-math.inf] * (g * n))))
    gq("scales_f32_overflow_fp16", "an F32 scale of 1e10, infinite once in fp16", FMT, [ST, Q + ".scales", "finite"],
       put("scales", T("F32", [g, n], struct.pack("<%df" % (g * n), *([1e10] + [0.01] * (g * n - 1))))))
    gq("scales_f32", "F32 scales (accepted, converted)", LOADS, [], put("scales", T("F32", [g, n], struct.pack("<%df" % (g * n), *([0.01] * g * n)))))
    gq("scales_negative", "negative scales (legal arithmetic)", LOADS, [], put("scales", f16([g, n], [-0.01] * (g * n))))
    gq("g_idx_out_of_range", "g_idx sends a column to group G", FMT, [ST, Q + ".g_idx", "group"], put("g_idx", i32([k], [g] + [0] * (k - 1))))
    gq("g_idx_negative", "g_idx -1", FMT, [ST, Q + ".g_idx", "group"], put("g_idx", i32([k], [-1] + [0] * (k - 1))))
    gq("g_idx_int_min", "g_idx INT32_MIN", FMT, [ST, Q + ".g_idx", "group"], put("g_idx", i32([k], [-2**31] * k)))
    gq("g_idx_short", "g_idx [K-1]", FMT, [ST, Q + ".g_idx"], put("g_idx", i32([k - 1], [0] * (k - 1))))
    gq("g_idx_i64", "g_idx of dtype I64", FMT, [ST, Q + ".g_idx", "I64"], put("g_idx", T("I64", [k], bytes(8 * k))))
    gq("g_idx_permuted", "g_idx of an act-order checkpoint (any order is valid)", LOADS, [],
       put("g_idx", i32([k], [(i * 5) % g for i in range(k)])))
    gq("g_idx_missing_groups_ok", "no g_idx: groups follow group_size", LOADS, [], drop("g_idx"))
    gq("g_idx_missing_too_few_groups", "no g_idx and scales for 1 group where 8/4 = 2 are implied", FMT,
       [ST, Q + ".scales", "group"], lambda t: (t.pop(Q + ".g_idx"), t.__setitem__(Q + ".scales", f16([1, n], [0.01] * n)),
                                             t.__setitem__(Q + ".qzeros", i32([1, n // 8], [0x77777777] * (n // 8)))))
    gq("g_idx_missing_too_many_groups", "no g_idx and scales for 3 groups where 2 are implied", FMT,
       [ST, Q + ".scales", "group"], lambda t: (t.pop(Q + ".g_idx"), t.__setitem__(Q + ".scales", f16([3, n], [0.01] * (3 * n))),
                                             t.__setitem__(Q + ".qzeros", i32([3, n // 8], [0x77777777] * (3 * n // 8)))))
    gq("qweight_missing_module_float", "q_proj has neither qweight nor weight", NF, [Q + ".weight"],
       lambda t: [t.pop(Q + "." + p) for p in ("qweight", "qzeros", "scales", "g_idx")])
    gq("mixed_float_module", "one module left in float (as AutoGPTQ's modules_to_not_convert does)", LOADS, [],
       lambda t: ([t.pop(Q + "." + p) for p in ("qweight", "qzeros", "scales", "g_idx")], t.__setitem__(Q + ".weight", weights([n, k]))))
    qc = json.loads(BASES["gptq"]["quantize_config.json"])
    qc["desc_act"] = True
    t = dict(GPTQ)
    t.pop(Q + ".g_idx")
    case("gptq_desc_act_without_g_idx", "desc_act true but q_proj has no g_idx", FMT, [Q, "g_idx"],
         {ST: st_bytes(t), "quantize_config.json": js(qc)}, base="gptq", api="quantized_load")


def generation_and_tokenizer_config_cases():
    G, TC = "generation_config.json", "tokenizer_config.json"
    case("genconf_not_json", "plain text", FMT, [G, "JSON"], {G: b"eos=2"})
    case("genconf_deep", "10000 nested lists", FMT, [G], {G: deep(10000)})
    case("genconf_array", "a list (transformers would refuse it; nothing is read from it)", LOADS, [], {G: b"[2]"})
    case("genconf_eos_string", "eos_token_id '2'", FMT, [G, "eos_token_id"], {G: js({"eos_token_id": "2"})})
    case("genconf_eos_list_string", "eos_token_id [2, 'x']", FMT, [G, "eos_token_id"], {G: js({"eos_token_id": [2, "x"]})})
    case("genconf_eos_out_of_vocab", "eos_token_id [2, 4096] (ignored with a warning)", LOADS, [], {G: js({"eos_token_id": [2, 4096]})})
    case("genconf_eos_wraps", "eos_token_id 2^32+2, which would truncate to 2", FMT, [G, "eos_token_id"], {G: js({"eos_token_id": 2**32 + 2})})
    case("genconf_eos_negative", "eos_token_id -1 (ignored)", LOADS, [], {G: js({"eos_token_id": -1})})
    case("tokconf_not_json", "plain text", FMT, [TC, "JSON"], {TC: b"bos=<s>"})
    case("tokconf_deep", "10000 nested objects", FMT, [TC], {TC: deep(10000, "1", '{"a":', "}")})
    case("tokconf_array", "a list (nothing is read from it)", LOADS, [], {TC: b"[]"})
    case("tokconf_bos_number", "bos_token 1", FMT, [TC, "bos_token"], {TC: js({"bos_token": 1})})
    case("tokconf_bos_object_no_content", "bos_token {} without content", FMT, [TC, "bos_token"], {TC: js({"bos_token": {"x": 1}})})
    case("tokconf_bos_content_number", "bos_token {content: 1}", FMT, [TC, "bos_token", "content"], {TC: js({"bos_token": {"content": 1}})})
    case("tokconf_bos_unknown", "bos_token '<bos>' not in the vocabulary (ignored)", LOADS, [], {TC: js({"bos_token": "<bos>"})}, api="tokenize")
    case("tokconf_add_bos_string", "add_bos_token 'yes'", FMT, [TC, "add_bos_token"], {TC: js({"add_bos_token": "yes"})})
    case("tokconf_add_eos_unknown", "add_eos_token with an unknown eos (nothing added)", LOADS, [],
         {TC: js({"eos_token": "<eos>", "add_eos_token": True})}, api="tokenize")


def tokenizer_json_cases():
    TJ = "tokenizer.json"

    def tj(name, why, expect, needles, data, api="tokenize", setup=()):
        case("tokjson_" + name, why, expect, needles, {TJ: data if isinstance(data, bytes) else js(data)}, api=api, setup=setup)

    full = js(tokenizer_json())
    tj("empty", "zero bytes", FMT, [TJ, "JSON"], b"")
    tj("truncated", "cut in half", FMT, [TJ, "JSON"], full[:len(full) // 2])
    tj("not_json", "plain text", FMT, [TJ, "JSON"], b"BPE")
    tj("array", "a list", FMT, [TJ, "object"], b"[]")
    tj("deep", "10000 nested lists in a field", FMT, [TJ], with_key(full, "x", deep(10000)))
    tj("normalizer_deep_sequence", "normalizers nested 300 deep", FMT, [TJ],
       js(tokenizer_json(normalizer=DELETE))[:-1] + b',"normalizer": ' + deep(300, '{"type": "Lowercase"}', '{"type": "Sequence", "normalizers": [', "]}") + b"}")
    tj("normalizer_sequence_60_deep", "normalizers nested 60 deep (within the JSON depth limit)", LOADS, [],
       js(tokenizer_json(normalizer=DELETE))[:-1] + b',"normalizer": ' + deep(60, '{"type": "Lowercase"}', '{"type": "Sequence", "normalizers": [', "]}") + b"}")
    tj("model_missing", "no model", FMT, [TJ, "model"], tokenizer_json(model=DELETE))
    tj("model_string", "model 'BPE'", FMT, [TJ, "model"], tokenizer_json(model="BPE"))
    tj("model_wordpiece", "model type WordPiece", UNS, [TJ, "model", "WordPiece"], tokenizer_json(**{"model.type": "WordPiece"}))
    tj("vocab_missing", "no vocab", FMT, [TJ, "vocab"], tokenizer_json(**{"model.vocab": DELETE}))
    tj("vocab_list", "vocab as a list", FMT, [TJ, "vocab"], tokenizer_json(**{"model.vocab": ["a", "b"]}))
    tj("vocab_id_string", "a token id '3'", FMT, [TJ, "vocab", "h"], tokenizer_json(**{"model.vocab.h": "3"}))
    tj("vocab_id_negative", "a token id -3", FMT, [TJ, "vocab", "h"], tokenizer_json(**{"model.vocab.h": -3}))
    tj("vocab_id_float", "a token id 3.5", FMT, [TJ, "vocab", "h"], tokenizer_json(**{"model.vocab.h": 3.5}))
    tj("vocab_id_huge", "a token id 2^40", FMT, [TJ, "vocab", "h"], tokenizer_json(**{"model.vocab.h": 2**40}))
    tj("vocab_id_2_64", "a token id 2^64-1", FMT, [TJ, "vocab", "h"], tokenizer_json(**{"model.vocab.h": 2**64 - 1}))
    tj("vocab_beyond_model", "a token id 1000 past the model's rows", FMT, [TJ, "tokens", str(VOCAB)],
       tokenizer_json(**{"model.vocab.h": 1000}), api="model_load")
    tj("vocab_shared_id", "two tokens with one id (kept, one spelling decodes)", LOADS, [], tokenizer_json(**{"model.vocab.w": 3}))
    tj("vocab_gap", "ids with a gap (0..18 then the last row)", LOADS, [], tokenizer_json(**{"model.vocab.worl": VOCAB - 1}))
    tj("merges_missing", "no merges", FMT, [TJ, "merges"], tokenizer_json(**{"model.merges": DELETE}))
    tj("merges_object", "merges an object", FMT, [TJ, "merges"], tokenizer_json(**{"model.merges": {"h": "e"}}))
    tj("merge_number", "a merge 7", FMT, [TJ, "merges", "merge 0"], tokenizer_json(**{"model.merges.0": 7}))
    tj("merge_one_token", "a merge 'he' without a space", FMT, [TJ, "merges", "merge 0"], tokenizer_json(**{"model.merges.0": "he"}))
    tj("merge_unknown_left", "a merge naming the unknown token 'q'", FMT, [TJ, "merges", "'q'"], tokenizer_json(**{"model.merges.0": "q e"}))
    tj("merge_unknown_result", "a merge whose result 'oh' is unknown", FMT, [TJ, "merges", "'o'"], tokenizer_json(**{"model.merges.0": "o h"}))
    tj("merge_pair_form", "merges as [a, b] pairs", LOADS, [], tokenizer_json(**{"model.merges": [["h", "e"], ["l", "l"]]}))
    tj("merge_pair_three", "a merge [a, b, c]", FMT, [TJ, "merges", "merge 0"], tokenizer_json(**{"model.merges.0": ["h", "e", "l"]}))
    tj("merges_huge_list", "5000 repeated merges (accepted: the last rank wins)", LOADS, [], tokenizer_json(**{"model.merges": ["h e"] * 5000}))
    tj("byte_fallback_no_bytes", "byte_fallback without <0x..> tokens: unknown text becomes <unk>", LOADS, [],
       tokenizer_json(**{"model.byte_fallback": True}))
    tj("unk_token_unknown", "unk_token '<oov>' not in the vocabulary", LOADS, [], tokenizer_json(**{"model.unk_token": "<oov>"}))
    tj("unk_token_number", "unk_token 0", FMT, [TJ, "unk_token"], tokenizer_json(**{"model.unk_token": 0}))
    tj("added_tokens_object", "added_tokens an object", FMT, [TJ, "added_tokens"], tokenizer_json(added_tokens={"x": 1}))
    tj("added_token_no_content", "an added token without content", FMT, [TJ, "added_tokens[0]", "content"],
       tokenizer_json(**{"added_tokens.0.content": DELETE}))
    tj("added_token_id_negative", "an added token id -1", FMT, [TJ, "added_tokens[0]", "id"], tokenizer_json(**{"added_tokens.0.id": -1}))
    tj("added_token_id_huge", "an added token id 2^40", FMT, [TJ, "added_tokens[0]", "id"], tokenizer_json(**{"added_tokens.0.id": 2**40}))
    tj("added_token_id_string", "an added token id '0'", FMT, [TJ, "added_tokens[0]", "id"], tokenizer_json(**{"added_tokens.0.id": "0"}))
    tj("added_token_empty_content", "an added token with empty content (never matched)", LOADS, [],
       tokenizer_json(**{"added_tokens.0.content": ""}))
    tj("added_token_id_int32_max", "an added token id 2^31-1", FMT, [TJ, "added_tokens[0]", "id"],
       tokenizer_json(**{"added_tokens.0.id": 2**31 - 1}))
    tj("added_token_beyond_model", "an added token id 100 past the model's rows", FMT, [TJ, "tokens", str(VOCAB)],
       tokenizer_json(**{"added_tokens.2.id": 100}), api="model_load")
    tj("normalizer_unknown", "normalizer type 'Klingon'", UNS, [TJ, "normalizer", "Klingon"], tokenizer_json(normalizer={"type": "Klingon"}))
    tj("normalizer_no_type", "normalizer {}", FMT, [TJ, "normalizer", "type"], tokenizer_json(normalizer={}))
    tj("normalizer_replace_bad_regex", "Replace with regex '('", FMT, [TJ, "normalizer", "pattern"],
       tokenizer_json(normalizer={"type": "Replace", "pattern": {"Regex": "("}, "content": ""}))
    tj("pre_tokenizer_unknown", "pre_tokenizer type 'Magic'", UNS, [TJ, "pre_tokenizer", "Magic"], tokenizer_json(pre_tokenizer={"type": "Magic"}))
    tj("pre_tokenizer_split_bad_regex", "Split with regex '[a-'", FMT, [TJ, "pre_tokenizer", "pattern"],
       tokenizer_json(pre_tokenizer={"type": "Split", "pattern": {"Regex": "[a-"}, "behavior": "Isolated", "invert": False}))
    tj("normalizer_replace_empty_matches", "Replace with regex 'x*', which matches empty text everywhere", LOADS, [],
       tokenizer_json(normalizer={"type": "Replace", "pattern": {"Regex": "x*"}, "content": "-"}))
    tj("pre_tokenizer_split_empty_regex", "Split with regex ''", LOADS, [],
       tokenizer_json(pre_tokenizer={"type": "Split", "pattern": {"Regex": ""}, "behavior": "Isolated", "invert": False}))
    tj("pre_tokenizer_split_pattern_number", "Split with pattern 5", FMT, [TJ, "pre_tokenizer", "pattern"],
       tokenizer_json(pre_tokenizer={"type": "Split", "pattern": 5, "behavior": "Isolated", "invert": False}))
    tj("pre_tokenizer_sequence_not_list", "Sequence with pretokenizers an object", FMT, [TJ, "pretokenizers"],
       tokenizer_json(pre_tokenizer={"type": "Sequence", "pretokenizers": {"type": "ByteLevel"}}))
    tj("decoder_unknown", "decoder type 'Reverse'", UNS, [TJ, "decoder", "Reverse"], tokenizer_json(decoder={"type": "Reverse"}))
    tj("post_processor_unknown_special", "template names '<cls>' missing from special_tokens", FMT, [TJ, "post_processor", "<cls>"],
       tokenizer_json(**{"post_processor.single.0.SpecialToken.id": "<cls>"}))
    tj("post_processor_id_out_of_range", "template adds id 999", FMT, [TJ, "post_processor", "999"],
       tokenizer_json(**{"post_processor.special_tokens.<s>.ids": [999]}))
    tj("post_processor_id_wraps", "template adds id 2^32+1, which would truncate to 1", FMT, [TJ, "post_processor"],
       tokenizer_json(**{"post_processor.special_tokens.<s>.ids": [2**32 + 1]}))
    tj("post_processor_id_string", "template id '1'", FMT, [TJ, "post_processor", "ids"], tokenizer_json(**{"post_processor.special_tokens.<s>.ids": ["1"]}))
    tj("post_processor_bert_pair", "BertProcessing cls of one element", FMT, [TJ, "post_processor", "cls"],
       tokenizer_json(post_processor={"type": "BertProcessing", "cls": ["<s>"], "sep": ["</s>", 2]}))
    tj("post_processor_bert_id_huge", "BertProcessing cls id 2^33", FMT, [TJ, "post_processor"],
       tokenizer_json(post_processor={"type": "BertProcessing", "cls": ["<s>", 2**33], "sep": ["</s>", 2]}))
    tj("tokenizer_bigger_than_model", "a valid tokenizer of 40 tokens for a smaller model", FMT, [TJ, "40", str(VOCAB)],
       tokenizer_json(**{"model.vocab": {**{p: i for i, p in enumerate(PIECES)}, "worl": 19, **{"x%d" % i: 20 + i for i in range(20)}}}),
       api="model_load")


def sentencepiece_cases():
    SP = "tokenizer.model"

    def sp(name, why, expect, needles, data):
        case("spm_" + name, why, expect, needles, {SP: data}, base="sp", api="tokenize")

    good = sp_model()
    sp("empty", "zero bytes", FMT, [SP], b"")
    sp("truncated", "cut in half", FMT, [SP], good[:len(good) // 2])
    sp("truncated_one_byte", "last byte missing", FMT, [SP], good[:-1])
    sp("random_bytes", "4 KB of noise", FMT, [SP], bytes(random.Random(5).randrange(256) for _ in range(4096)))
    sp("json_instead", "a tokenizer.json under the wrong name", FMT, [SP], js(tokenizer_json()))
    sp("varint_too_long", "an 11-byte varint", FMT, [SP], b"\x08" + b"\xff" * 11)
    sp("length_past_end", "a length-delimited field claiming 2^40 bytes", FMT, [SP], b"\x0a" + varint(2**40) + b"abc")
    sp("length_2_64", "a length of 2^64-1", FMT, [SP], b"\x0a" + varint(2**64 - 1) + b"abc")
    sp("wire_type_7", "a field of wire type 7", FMT, [SP], good + bytes([0x0F]))
    sp("group_wire_type", "a deprecated group field (wire type 3)", FMT, [SP], bytes([0x1B]) + good)
    sp("normalizer_truncated", "normalizer_spec claims more bytes than follow", FMT, [SP], good + b"\x1a\x40\x0a\x02id")
    sp("no_pieces", "trainer and normalizer specs only", FMT, [SP], sp_model(pieces=[]))
    sp("unk_id_out_of_range", "unk_id 100 of 18 pieces (sentencepiece uses the UNKNOWN piece)", LOADS, [], sp_model(trainer={40: 100}))
    sp("unk_id_negative", "unk_id -5 (sentencepiece uses the UNKNOWN piece)", LOADS, [], sp_model(trainer={40: -5}))
    sp("no_unknown_piece", "no piece of type UNKNOWN", FMT, [SP],
       sp_model(pieces=[("<s>", 0.0, CONTROL), ("</s>", 0.0, CONTROL), ("\u2581hello", -1.0, NORMAL), ("a", -2.0, NORMAL)], trainer={40: 5}))
    sp("piece_type_invalid", "a piece of type 99 (protobuf keeps unknown enum values aside: NORMAL)", LOADS, [],
       sp_model(pieces=[("<unk>", 0.0, UNKNOWN), ("<s>", 0.0, CONTROL), ("</s>", 0.0, CONTROL), ("a", -1.0, 99)]))
    sp("piece_not_utf8", "a piece with invalid UTF-8 (stored as is, never matched by valid input)", LOADS, [],
       sp_model(pieces=[("<unk>", 0.0, UNKNOWN), ("<s>", 0.0, CONTROL), ("</s>", 0.0, CONTROL), (b"\xc3\x28", -1.0, NORMAL)]))
    sp("duplicate_piece", "one piece twice", FMT, [SP],
       sp_model(pieces=[("<unk>", 0.0, UNKNOWN), ("<s>", 0.0, CONTROL), ("</s>", 0.0, CONTROL), ("a", -1.0, NORMAL), ("a", -2.0, NORMAL)]))
    sp("byte_fallback_no_bytes", "byte_fallback on without the 256 byte pieces", FMT, [SP], sp_model(trainer={35: 1}))
    specials = [("<unk>", 0.0, UNKNOWN), ("<s>", 0.0, CONTROL), ("</s>", 0.0, CONTROL)]
    sp("byte_piece_bad_hex", "a BYTE piece '<0xZZ>'", FMT, [SP], sp_model(pieces=specials + [("<0xZZ>", 0.0, BYTE)], trainer={35: 1}))
    sp("byte_piece_short", "a BYTE piece '<0x'", FMT, [SP], sp_model(pieces=specials + [("<0x", 0.0, BYTE)], trainer={35: 1}))
    sp("byte_pieces_without_fallback", "BYTE pieces while byte_fallback is off", FMT, [SP],
       sp_model(pieces=specials + [("<0x%02X>" % b, 0.0, BYTE) for b in range(256)]))
    sp("huge_vocab_claim", "trainer_spec vocab_size 2^31-1 over 18 pieces (informative only)", LOADS, [], sp_model(trainer={4: 2**31 - 1}))
    sp("model_type_bpe", "model_type BPE over unigram pieces", LOADS, [], sp_model(trainer={3: 2}))
    sp("model_type_unknown", "model_type 9 (sentencepiece falls back to unigram)", LOADS, [], sp_model(trainer={3: 9}))
    sp("normalizer_unknown_name", "normalizer 'klingon' without charsmap (the name is informative)", LOADS, [], sp_model(normalizer={"name": b"klingon"}))
    sp("score_nan", "a NaN piece score (sentencepiece accepts it)", LOADS, [],
       sp_model(pieces=[("<unk>", 0.0, UNKNOWN), ("<s>", 0.0, CONTROL), ("</s>", 0.0, CONTROL), ("\u2581hello", math.nan, NORMAL),
                        ("\u2581", -1.0, NORMAL)]))
    sp("too_many_pieces_for_model", "40 pieces for a smaller model", FMT, [SP, "40", str(VOCAB)],
       sp_model(pieces=[("<unk>", 0.0, UNKNOWN), ("<s>", 0.0, CONTROL), ("</s>", 0.0, CONTROL)] +
                [("p%d" % i, -float(i), NORMAL) for i in range(37)]))


def shard_cases():
    IX = "model.safetensors.index.json"
    names = sorted(FLOAT)
    half = len(names) // 2
    shard_a = {k: FLOAT[k] for k in names[:half]}
    shard_b = {k: FLOAT[k] for k in names[half:]}
    A, B = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
    weight_map = {**{k: A for k in shard_a}, **{k: B for k in shard_b}}
    shards = {A: st_bytes(shard_a), B: st_bytes(shard_b)}

    def ix(name, why, expect, needles, wm=None, index=None, extra=None, setup=(), drop=()):
        files = {k: v for k, v in shards.items() if k not in drop}
        files[IX] = index if index is not None else js({"metadata": {"total_size": 0}, "weight_map": wm if wm is not None else weight_map})
        files.update(extra or {})
        case("shard_" + name, why, expect, needles, files, setup=["rm=model.safetensors", *setup])

    first = names[0]

    def remap(target):
        return {**weight_map, first: target}

    ix("valid", "two shards and their index", LOADS, [])
    ix("parent_dir", "a shard '../x.safetensors'", FMT, [IX, "../x.safetensors"], remap("../x.safetensors"))
    ix("parent_deep", "a shard '../../../../etc/passwd'", FMT, [IX, "../../../../etc/passwd"], remap("../../../../etc/passwd"))
    ix("absolute", "a shard '/etc/passwd'", FMT, [IX, "/etc/passwd"], remap("/etc/passwd"))
    ix("subdirectory", "a shard 'sub/a.safetensors'", FMT, [IX, "sub/a.safetensors"], remap("sub/a.safetensors"))
    ix("backslash", "a shard '..\\\\x.safetensors'", FMT, [IX, "x.safetensors"], remap("..\\x.safetensors"))
    ix("dot", "a shard '.'", FMT, [IX, "'.'"], remap("."))
    ix("dotdot", "a shard '..'", FMT, [IX, "'..'"], remap(".."))
    ix("empty_name", "a shard ''", FMT, [IX, "''"], remap(""))
    ix("nul_in_name", "a shard 'a\\0b'", FMT, [IX], remap(A + "\0.txt"))
    ix("symlink_out", "a shard that is a symlink to /etc/hostname (followed, as Hugging Face caches need; not safetensors)",
       FMT, [B], setup=["symlink=%s>/etc/hostname" % B], drop=(B,))
    ix("symlink_dangling", "a shard that is a dangling symlink", NF, [B], setup=["symlink=%s>/nonexistent/x" % B], drop=(B,))
    ix("symlink_to_dir", "a shard that is a symlink to /", IO, [B], setup=["symlink=%s>/" % B], drop=(B,))
    ix("shard_is_directory", "a shard that is a directory", IO, [B], setup=["mkdir=%s" % B], drop=(B,))
    ix("missing_shard", "the second shard absent", NF, [B], drop=(B,))
    ix("weight_map_missing", "no weight_map", FMT, [IX, "weight_map"], index=js({"metadata": {}}))
    ix("weight_map_list", "weight_map a list", FMT, [IX, "weight_map"], index=js({"weight_map": [A, B]}))
    ix("weight_map_string", "weight_map a string", FMT, [IX, "weight_map"], index=js({"weight_map": A}))
    ix("weight_map_empty", "weight_map {}", FMT, [IX, "shards"], {})
    ix("weight_map_value_number", "a weight_map value 1", FMT, [IX, first], remap(1))
    ix("weight_map_value_list", "a weight_map value [A]", FMT, [IX, first], remap([A]))
    ix("wrong_shard", "a tensor placed in the shard that does not hold it", FMT, [IX, first], remap(B))
    ix("tensor_not_in_any", "the index names a tensor no shard holds", FMT, [IX, "ghost.weight"], {**weight_map, "ghost.weight": A})
    ix("index_subset", "the index leaves a stored tensor out (all shards are read)", LOADS, [],
       {k: v for k, v in weight_map.items() if k != names[-1]})
    ix("tensor_in_two_shards", "one tensor stored in both shards", FMT, [first, "twice"],
       extra={B: st_bytes({**shard_b, first: FLOAT[first]})})
    ix("index_not_json", "plain text", FMT, [IX, "JSON"], index=b"weight_map: none")
    ix("index_array", "a list", FMT, [IX, "weight_map"], index=b"[]")
    ix("index_deep", "10000 nested lists", FMT, [IX], index=deep(10000))
    ix("shard_corrupt", "the second shard is 3 bytes", FMT, [B], extra={B: b"abc"})
    case("ckpt_free_named_two_files", "two .safetensors files and no index", NF, ["index"],
         {"a.safetensors": st_bytes(shard_a), "b.safetensors": st_bytes(shard_b)}, setup=["rm=model.safetensors"])
    case("ckpt_free_named_one_file", "one .safetensors file of another name", LOADS, [], {"weights.safetensors": BASES["llama"][ST]},
         setup=["rm=model.safetensors"])
    case("ckpt_pickle_only", "pytorch_model.bin only", UNS, ["pytorch_model.bin", "pickle"], {"pytorch_model.bin": b"PK\3\4"},
         setup=["rm=model.safetensors"])
    case("ckpt_no_weights", "no weight file at all", NF, ["model.safetensors"], {}, setup=["rm=model.safetensors"])
    case("ckpt_weights_is_directory", "model.safetensors is a directory", IO, [ST], {}, setup=["rm=model.safetensors", "mkdir=model.safetensors"])
    case("ckpt_tokenizer_missing", "no tokenizer files: ids only", LOADS, [], {}, setup=["rm=tokenizer.json"])


def main():
    safetensors_cases()
    config_cases()
    quant_config_cases()
    gptq_tensor_cases()
    generation_and_tokenizer_config_cases()
    tokenizer_json_cases()
    sentencepiece_cases()
    shard_cases()

    names = [c["name"] for c in CASES]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        sys.exit("duplicate case names: %s" % sorted(dupes))
    if len(sys.argv) != 2:
        sys.exit("usage: make_hostile_corpus.py OUT_DIR")
    out = os.path.abspath(sys.argv[1])
    # Written beside OUT_DIR, then renamed: a build never sees half a corpus.
    partial = out + ".partial"
    if os.path.isdir(partial):
        shutil.rmtree(partial)
    for base, files in BASES.items():
        for name, data in files.items():
            write(os.path.join(partial, "base", base, name), data)
    lines = ["# name\tbase\tapi\texpect\tneedles\tsetup\twhy"]
    for c in CASES:
        for name, data in c["files"].items():
            write(os.path.join(partial, "cases", c["name"], name), data)
        lines.append("\t".join([c["name"], c["base"], c["api"], c["expect"], "|".join(c["needles"]) or "-",
                                ";".join(c["setup"]) or "-", c["why"]]))
    write(os.path.join(partial, "MANIFEST.tsv"), ("\n".join(lines) + "\n").encode())
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(partial) for f in fs)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.rename(partial, out)
    print("%d cases, %d bytes in %s" % (len(CASES), total, out))


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
