#!/usr/bin/env python3
"""libgptq against the AutoGPTQ-method reference on the same calibration
samples: perplexities side by side, and how closely the per-module GPTQ
losses agree in layer 0's q/k/v (identical inputs on both sides, so only
rounding separates them) and summed over every module.

  compare.py REFERENCE_DIR QUALITY_TABLE.md QUALITY_TABLE_DIR
REFERENCE_DIR holds reference-float32.json / reference-float16.json from
run_device.sh; the table and its directory come from bench/quality_table.sh
run with CALIB=REFERENCE_DIR/windows-float32.jsonl.
"""
import json
import os
import sys


def read_ours(table_path):
    rows = {}
    for line in open(table_path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] not in ("setting", "---"):
            try:
                rows[cells[0]] = (float(cells[1]), float(cells[2]))
            except ValueError:
                pass
    return rows


def read_reference(path):
    rows = {}
    for row in json.load(open(path)):
        wiki, ptb = (v for k, v in sorted(row["ppl"].items(), key=lambda kv: "ptb" in kv[0]))
        name = "gptq-w4-perchannel" if row["setting"] == "gptq-w4" else row["setting"]  # earlier runs' name
        rows[name] = (wiki, ptb, {m["module"]: m["loss"] for m in row.get("losses", [])})
    return rows


def loss_agreement(ours_json, reference_losses):
    """Largest relative gap over layer 0's q/k/v (identical inputs on both
    sides), and the ratio of the summed losses over every module."""
    if not os.path.exists(ours_json) or not reference_losses:
        return "-", "-"
    ours = {m["module"]: m["loss"] for m in json.load(open(ours_json))["modules"]}
    first = [abs(ours[m] - r) / r for m, r in reference_losses.items()
             if m.startswith("model.layers.0.self_attn.") and not m.endswith("o_proj") and r > 0]
    total = sum(ours[m] for m in reference_losses) / sum(reference_losses.values())
    return f"{100 * max(first):.3f}%", f"{total:.4f}"


def main():
    ref_dir, table, table_dir = sys.argv[1:4]
    ours = read_ours(table)
    fp32 = read_reference(os.path.join(ref_dir, "reference-float32.json"))
    fp16 = read_reference(os.path.join(ref_dir, "reference-float16.json"))
    print("| setting | libgptq WikiText-2 / PTB | reference fp32 | reference fp16 layers |"
          " layer-0 q/k/v loss gap | summed loss, libgptq / reference fp32 |")
    print("|---|---|---|---|---|---|")
    for name, (r32_wiki, r32_ptb, r32_losses) in fp32.items():
        mine = ours.get(name)
        r16 = fp16.get(name)
        first, everywhere = loss_agreement(os.path.join(table_dir, name + ".json"), r32_losses)
        print(f"| {name} | {f'{mine[0]:.2f} / {mine[1]:.2f}' if mine else '-'} | {r32_wiki:.2f} / {r32_ptb:.2f} | "
              f"{f'{r16[0]:.2f} / {r16[1]:.2f}' if r16 else '-'} | {first} | {everywhere} |")


if __name__ == "__main__":
    main()
