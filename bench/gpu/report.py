#!/usr/bin/env python3
"""Markdown tables of libgptq's GPU benchmarks against the baselines timed
on the same machine (bench/gpu/README.md).

  report.py --out report.md --torch baselines.json [--transformers hf.json ...] [--ours ours.json ...]
      [--json merged.json]

--torch: torch_baselines.py's JSON (copy bandwidth, cuBLAS fp16/bf16, torch int4).
--transformers: transformers_decode.py's JSON (any number).
--ours: libgptq's own results, a JSON list of rows (or an object with
"rows"): kernel rows {kernel, bits, group_size, act_order, K, N, M, time_us}
and end-to-end rows {model, format, batch, decode_tokens_per_s,
prefill_tokens_per_s, ttft_ms}; OURS_KERNEL and OURS_E2E below map those
names, so a different spelling is changed in one place.

Ratios are speedups: baseline time / our time (> 1: ours is faster); for
end to end, our tokens/s / transformers' tokens/s. Our weight bytes are
the row's weight_bytes if it has one, else the GPTQ format's (see
gptq_weight_bytes).
"""
import argparse
import json
import math
import os
import sys
from collections import defaultdict

# Field names of libgptq's benchmark rows: canonical name -> name in our JSON.
OURS_KERNEL = {"kernel": "kernel", "bits": "bits", "group_size": "group_size", "act_order": "act_order",
               "K": "K", "N": "N", "M": "M", "time_us": "time_us",
               "weight_bytes": "weight_bytes"}  # optional: the bytes the kernel reads for its weights
OURS_E2E = {"model": "model", "format": "format", "batch": "batch", "decode_tokens_per_s": "decode_tokens_per_s",
            "prefill_tokens_per_s": "prefill_tokens_per_s", "ttft_ms": "ttft_ms",
            "prompt_len": "prompt_len"}  # optional: matched against transformers' rows when present
BASELINES = {"cublas_fp16": "cuBLAS fp16", "cublas_bf16": "cuBLAS bf16", "torch_int4": "torch int4 g128"}


def gptq_weight_bytes(K, N, bits, group_size, act_order):
    """Bytes of one GPTQ layer as a kernel streams it: packed codes, fp16
    scales, packed zeros, and with act-order the int32 column order."""
    groups = math.ceil(K / group_size) if group_size and group_size > 0 else 1
    return K * N * bits / 8 + groups * N * 2 + groups * N * bits / 8 + (4 * K if act_order else 0)


def read_rows(path):
    with open(path) as f:
        data = json.load(f)
    return data if isinstance(data, list) else data.get("rows", [])


def pick(row, mapping, required):
    """The row in canonical names, or None when a required field is missing."""
    out = {}
    for canonical, ours in mapping.items():
        if ours in row:
            out[canonical] = row[ours]
        elif canonical in required:
            return None
    return out


def fmt(v, digits=1, suffix=""):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{digits}f}{suffix}"


def geomean(values):
    values = [v for v in values if v and v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def merge_kernels(ours, base, copy_tbps):
    """Our kernel rows with their weight bytes/s, fraction of copy and the baselines of the same point."""
    merged = []
    for r in ours:
        K, N, M, t = int(r["K"]), int(r["N"]), int(r["M"]), float(r["time_us"])
        bits, gs, act = r.get("bits"), r.get("group_size"), bool(r.get("act_order"))
        wb = r.get("weight_bytes") or gptq_weight_bytes(K, N, bits or 4, gs, act)
        tbps = wb / (t * 1e-6) / 1e12
        m = {"kernel": str(r["kernel"]), "bits": bits, "group_size": gs, "act_order": act, "K": K, "N": N, "M": M,
             "time_us": t, "weight_bytes": wb, "weight_tbps": tbps, "frac_copy": tbps / copy_tbps if copy_tbps else None}
        for k in BASELINES:
            b = base.get((k, K, N, M))
            m[k + "_us"] = b["time_us"] if b else None
            m["vs_" + k] = b["time_us"] / t if b else None
        merged.append(m)
    return merged


def kernel_sections(merged):
    """One table per kernel configuration, then a per-M summary of each."""
    configs = defaultdict(list)
    for m in merged:
        configs[(m["kernel"], m["bits"], m["group_size"], m["act_order"])].append(m)
    out = []
    for (kernel, bits, gs, act), rows in sorted(configs.items(), key=lambda kv: str(kv[0])):
        title = f"{kernel}, {bits}-bit, group {gs}{', act-order' if act else ''}"
        body, by_m = [], defaultdict(list)
        for m in sorted(rows, key=lambda m: (m["K"] * m["N"], m["K"], m["N"], m["M"])):
            by_m[m["M"]].append(m)
            frac = m["frac_copy"]
            body.append([f"{m['K']}x{m['N']}", m["M"], fmt(m["time_us"]), fmt(m["weight_tbps"], 2),
                         fmt(frac * 100 if frac is not None else None, 0, "%"), fmt(m["cublas_fp16_us"]),
                         fmt(m["vs_cublas_fp16"], 2, "x"), fmt(m["vs_cublas_bf16"], 2, "x"), fmt(m["torch_int4_us"]),
                         fmt(m["vs_torch_int4"], 2, "x")])
        out.append(f"### {title}\n")
        out.append(table(["K x N", "M", "ours us", "ours TB/s", "% of copy", "cuBLAS fp16 us", "vs fp16",
                          "vs bf16", "torch int4 us", "vs int4"], body))
        summary = []
        for M in sorted(by_m):
            ms = by_m[M]
            copies = [m["frac_copy"] for m in ms if m["frac_copy"] is not None]
            span = f"{fmt(100 * min(copies), 0, '%')} .. {fmt(100 * max(copies), 0, '%')}" if copies else "-"
            summary.append([M, len(ms)] + [fmt(geomean([m["vs_" + k] for m in ms]), 2, "x") for k in BASELINES]
                           + [span])
        out.append(f"\nSummary of {title}: geometric mean speedup over the shapes, by M\n")
        out.append(table(["M", "shapes", "vs cuBLAS fp16", "vs cuBLAS bf16", "vs torch int4", "% of copy (min .. max)"],
                         summary))
        out.append("")
    return out


def baseline_section(base_rows, copy_tbps):
    by = {(r["kernel"], r["K"], r["N"], r["M"]): r for r in base_rows if "time_us" in r}
    points = sorted({(r["K"], r["N"], r["M"]) for r in base_rows if "time_us" in r},
                    key=lambda t: (t[0] * t[1], t))
    kernels = [k for k in BASELINES if any(r["kernel"] == k for r in base_rows)]
    header = ["K x N", "M"]
    for k in kernels:
        short = BASELINES[k].split()[-1] if k != "torch_int4" else "int4"
        header += [f"{BASELINES[k]} us", f"{short} TB/s", f"{short} % of copy"]
    header += ["bf16 TFLOP/s"]
    body = []
    for K, N, M in points:
        cells = [f"{K}x{N}", M]
        for k in kernels:
            r = by.get((k, K, N, M))
            cells += [fmt(r["time_us"]), fmt(r["weight_tbps"], 2), fmt(100 * r["frac_copy"], 0, "%")] if r else ["-"] * 3
        bf16 = by.get(("cublas_bf16", K, N, M))
        cells.append(fmt(bf16 and bf16["tflops"], 0))
        body.append(cells)
    return table(header, body)


def e2e_section(ours, hf):
    def match(r):
        """transformers' row of the same batch (and prompt length, where ours gives one); same model name first."""
        same = [h for h in hf if h["batch"] == r["batch"]
                and (r.get("prompt_len") is None or h.get("prompt_len") == r["prompt_len"])]
        same.sort(key=lambda h: h.get("model") != r.get("model"))
        return same[0] if same else None

    body = []
    for r in ours:
        h = match(r)
        dec = r.get("decode_tokens_per_s")
        pre = r.get("prefill_tokens_per_s")
        body.append(["libgptq", r["model"], r.get("format", "-"), r["batch"], r.get("prompt_len", "-"), fmt(dec, 2),
                     fmt(pre, 0), fmt(r.get("ttft_ms")),
                     fmt(dec / h["decode_tokens_per_s"] if h and dec and h["decode_tokens_per_s"] else None, 2, "x"),
                     fmt(pre / h["prefill_tokens_per_s"] if h and pre and h["prefill_tokens_per_s"] else None, 2, "x")])
    for h in hf:
        body.append([h.get("engine", "transformers"), h["model"], h.get("format", "-"), h["batch"],
                     h.get("prompt_len", "-"), fmt(h["decode_tokens_per_s"], 2), fmt(h["prefill_tokens_per_s"], 0),
                     fmt(h["ttft_ms"]), "", ""])
    return table(["engine", "model", "format", "batch", "prompt", "decode tokens/s", "prefill tokens/s", "TTFT ms",
                  "decode vs HF", "prefill vs HF"], body)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="Markdown file to write")
    p.add_argument("--torch", help="torch_baselines.py JSON")
    p.add_argument("--transformers", action="append", default=[], help="transformers_decode.py JSON (repeatable)")
    p.add_argument("--ours", action="append", default=[], help="libgptq benchmark JSON (repeatable)")
    p.add_argument("--copy-tbps", type=float, help="copy bandwidth, TB/s (default: the --torch file's)")
    p.add_argument("--title", default="libgptq GPU benchmarks")
    p.add_argument("--json", help="also write the merged rows (ours with the baselines' times and ratios) here")
    a = p.parse_args()
    if not (a.torch or a.transformers or a.ours):
        sys.exit("nothing to report: give --torch, --transformers or --ours")

    base_rows, env, copy_tbps = [], {}, a.copy_tbps
    if a.torch:
        with open(a.torch) as f:
            tb = json.load(f)
        base_rows, env = tb.get("rows", []), tb.get("env", {})
        copy_tbps = copy_tbps or tb.get("copy", {}).get("tbps")
    base = {(r["kernel"], r["K"], r["N"], r["M"]): r for r in base_rows if "time_us" in r}
    hf = [r for path in a.transformers for r in read_rows(path)]
    kernels, e2e, skipped = [], [], 0
    for path in a.ours:
        for row in read_rows(path):
            k = pick(row, OURS_KERNEL, required=("kernel", "K", "N", "M", "time_us"))
            e = pick(row, OURS_E2E, required=("model", "batch", "decode_tokens_per_s"))
            if k is not None:
                kernels.append(k)
            elif e is not None:
                e2e.append(e)
            else:
                skipped += 1

    md = [f"# {a.title}\n"]
    sources = [f"- baselines: `{a.torch}`" if a.torch else None,
               *[f"- transformers: `{t}`" for t in a.transformers], *[f"- libgptq: `{o}`" for o in a.ours]]
    md += [s for s in sources if s]
    if env:
        md.append(f"- device: {env.get('gpu', env.get('device'))}, torch {env.get('torch')}, CUDA {env.get('cuda')}, "
                  f"timing: {env.get('clock')}{' with CUDA graphs' if env.get('graphs') else ''}")
    md.append(f"- device-to-device copy: {fmt(copy_tbps, 3)} TB/s (bytes read + written); '% of copy' is weight "
              "bytes / time against it")
    md.append("- 'vs X' is X's time / ours (> 1: ours is faster)")
    if skipped:
        md.append(f"- {skipped} rows of ours had neither the kernel nor the end-to-end fields and were skipped")
    md.append("")
    merged = merge_kernels(kernels, base, copy_tbps)
    if merged:
        md.append("## Kernels\n")
        md += kernel_sections(merged)
    if e2e or hf:
        md.append("## End to end\n")
        md.append(e2e_section(e2e, hf))
        md.append("")
    if base_rows:
        md.append("## Baselines (PyTorch)\n")
        md.append(baseline_section(base_rows, copy_tbps))
        errors = [r for r in base_rows if "error" in r]
        if errors:
            md.append(f"\n{len(errors)} baseline points failed, e.g. {errors[0]['kernel']} {errors[0]['K']}x"
                      f"{errors[0]['N']}: {errors[0]['error']}")
        md.append("")
    text = "\n".join(md) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"copy_tbps": copy_tbps, "env": env, "kernels": merged, "end_to_end": e2e, "transformers": hf},
                      f, indent=1)
    print(f"| section | rows |\n|---|---|\n| our kernels | {len(kernels)} |\n| our end to end | {len(e2e)} |\n"
          f"| transformers | {len(hf)} |\n| baselines | {len(base_rows)} |")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
