#!/usr/bin/env python3
"""Markdown tables for the README from a results folder written by
scripts/device/gpu_suite.sh (bench_gpu_kernels JSON, torch_baselines JSON
files torch*.json, bench_gpu_e2e JSON files e2e_*.json).

    python3 bench/gpu/tables.py bench/results/h200-2026-12-02
"""
import glob
import json
import os
import sys


def load_rows(path):
    data = json.load(open(path))
    return data["rows"] if isinstance(data, dict) else data


def main(folder):
    ours = load_rows(os.path.join(folder, "kernels.json"))
    copy = next(r["bytes_per_s"] for r in ours if r["kernel"] == "copy")
    torch = {}
    for path in sorted(glob.glob(os.path.join(folder, "torch*.json"))):
        for r in load_rows(path):
            if r.get("kernel") == "torch_int4":
                torch[(r["K"], r["N"], r["M"])] = r["time_us"]
    cublas = {(r["K"], r["N"], r["M"]): r["time_us"] for r in ours if r["kernel"] == "cublas_fp16"}
    print(f"Copy bandwidth measured in the same run: {copy / 1e12:.2f} TB/s (read + write).\n")
    print("| K x N | M | ours us | weight TB/s | % copy | x cuBLAS fp16 | x torch int4 | path |")
    print("|---|---|---|---|---|---|---|---|")
    for r in ours:
        if r["kernel"] != "int4_g128":
            continue
        key = (r["K"], r["N"], r["M"])
        tbps = r["weight_bytes"] / (r["time_us"] * 1e-6)
        t = torch.get(key)
        vs_torch = f"{t / r['time_us']:.2f}" if t else "-"
        print(f"| {r['K']}x{r['N']} | {r['M']} | {r['time_us']:.1f} | {tbps / 1e12:.2f} | {100 * tbps / copy:.0f}% | "
              f"{cublas[key] / r['time_us']:.2f} | {vs_torch} | {r['path']} |")
    print()
    print("Other formats, geometric mean over the ten shapes of the ratio to cuBLAS fp16:\n")
    ms = sorted({r["M"] for r in ours if r["kernel"] == "int4_g128"})
    print("| format | " + " | ".join(f"M={m}" for m in ms) + " |")
    print("|---|" + "---|" * len(ms))
    for name in ("int4_g128", "int4_g128_act", "int3_g128", "int8_g128"):
        cells = []
        for m in ms:
            ratios = [cublas[(r["K"], r["N"], m)] / r["time_us"] for r in ours if r["kernel"] == name and r["M"] == m]
            if ratios:
                prod = 1.0
                for x in ratios:
                    prod *= x
                cells.append(f"{prod ** (1 / len(ratios)):.2f}")
            else:
                cells.append("-")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    print("| model | format | GPU weight GB | TTFT 2048 ms | prefill tok/s | decode tok/s b=1 | b=16 | b=64 | "
          "b=1 % of bound |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in sorted(glob.glob(os.path.join(folder, "e2e_*.json"))):
        rows = load_rows(path)
        pre = next(r for r in rows if "ttft_ms" in r)
        dec = {r["batch"]: r for r in rows if "decode_tokens_per_s" in r}
        gb = dec[1]["gpu_weight_bytes"]
        bound = copy / gb  # tokens/s if each step read the weights once at the copy rate
        print(f"| {pre['model']} | {pre['format']} | {gb / 1e9:.2f} | {pre['ttft_ms']:.1f} | "
              f"{pre['prefill_tokens_per_s']:.0f} | {dec[1]['decode_tokens_per_s']:.0f} | "
              f"{dec[16]['decode_tokens_per_s']:.0f} | {dec[64]['decode_tokens_per_s']:.0f} | "
              f"{100 * dec[1]['decode_tokens_per_s'] / bound:.0f}% |")


if __name__ == "__main__":
    main(sys.argv[1])
