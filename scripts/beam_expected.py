#!/usr/bin/env python3
"""Writes transformers' beam search results for a model folder as the C++
initializers tests/beam_transformers_test.cpp compares libgptq against.

Usage (where torch and transformers are installed, e.g. the GPU machine):

    python3 scripts/beam_expected.py ../shared/models/tinydoc-llama-13m \
        --extra-end-ids 13 > tests/data/beam_expected.inc

then rebuild: the test skips while tests/data/beam_expected.inc is absent.

For each length_penalty in (1, 0, 2, -1) and early_stopping in (False,
True, "never") it runs

    model.generate(prompt, num_beams=4, num_return_sequences=2,
                   length_penalty=..., early_stopping=..., do_sample=False,
                   max_new_tokens=12, output_scores=True,
                   return_dict_in_generate=True)

in fp32 (TF32 off, eager attention) and prints each case's returned
sequences (the generated ids, up to and including the first
end-of-generation id) and sequences_scores. The prompt is token ids, so a
folder without a tokenizer works too; then no id ends generation, as in
libgptq, which learns its end-of-generation ids from the tokenizer files.

tinydoc never predicts its EOS, so --extra-end-ids 13 (its newline) also
ends generation: hypotheses then finish early and at different lengths.
The ids are recorded, and the test loads the model with a
generation_config.json that names the same ones.
"""

import argparse
import os
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM

# "The end." in tinydoc-llama-13m's tokenizer, BOS first: a document's end,
# so end-of-generation tokens compete with the other candidates.
DEFAULT_PROMPT = [1, 383, 1234, 5980]
LENGTH_PENALTIES = (1.0, 0.0, 2.0, -1.0)
EARLY_STOPPING = ((False, 0), (True, 1), ("never", 2))
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model")


def load(folder, device):
    try:
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    except TypeError:  # transformers before 4.56 names it torch_dtype
        model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32, attn_implementation="eager")
    return model.to(device).eval()


def end_ids(model, folder):
    if not any(os.path.exists(os.path.join(folder, f)) for f in TOKENIZER_FILES):
        return []
    eos = model.generation_config.eos_token_id
    if eos is None:
        return []
    return list(eos) if isinstance(eos, (list, tuple)) else [eos]


def generated(row, prompt_len, eos):
    ids = row[prompt_len:].tolist()
    for i, token in enumerate(ids):
        if token in eos:
            return ids[: i + 1]
    return ids


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="a Hugging Face model folder")
    parser.add_argument("--prompt-ids", default=",".join(map(str, DEFAULT_PROMPT)),
                        help="comma-separated prompt token ids (default: %(default)s)")
    parser.add_argument("--max-new-tokens", type=int, default=12)
    parser.add_argument("--extra-end-ids", default="",
                        help="comma-separated ids that end generation besides the model's own")
    parser.add_argument("--shared-dir", default=os.environ.get("GPTQ_SHARED_DIR"),
                        help="the tests' shared directory; the folder is recorded relative to it "
                             "(default: $GPTQ_SHARED_DIR, else the folder's grandparent)")
    args = parser.parse_args()

    folder = os.path.abspath(args.folder)
    shared = os.path.abspath(args.shared_dir) if args.shared_dir else os.path.dirname(os.path.dirname(folder))
    prompt = [int(t) for t in args.prompt_ids.split(",")]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    model = load(folder, device)
    if max(prompt) >= model.config.vocab_size:
        sys.exit(f"prompt id {max(prompt)} is outside the vocabulary ({model.config.vocab_size}): pass --prompt-ids")
    eos = end_ids(model, folder)
    eos += [int(t) for t in args.extra_end_ids.split(",") if t and int(t) not in eos]
    # pad_token_id only silences the warning; with no end ids nothing ends a beam early.
    special = {"eos_token_id": eos if eos else None, "pad_token_id": eos[0] if eos else 0}
    input_ids = torch.tensor([prompt], device=device)

    print(f"// Written by scripts/beam_expected.py: transformers {transformers.__version__}, "
          f"torch {torch.__version__}, {device}, fp32.")
    print(f'inline constexpr const char* kModel = "{os.path.relpath(folder, shared)}";')
    print(f"inline const std::vector<int32_t> kPrompt = {{{', '.join(map(str, prompt))}}};")
    print("inline constexpr int32_t kNumBeams = 4;")
    print(f"inline const std::vector<int32_t> kEndIds = {{{', '.join(map(str, eos))}}};")
    print("inline const std::vector<Case> kCases = {")
    for length_penalty in LENGTH_PENALTIES:
        for early_stopping, code in EARLY_STOPPING:
            with torch.no_grad():
                out = model.generate(input_ids, attention_mask=torch.ones_like(input_ids), num_beams=4,
                                     num_return_sequences=2, length_penalty=length_penalty,
                                     early_stopping=early_stopping, do_sample=False,
                                     max_new_tokens=args.max_new_tokens, output_scores=True,
                                     return_dict_in_generate=True, **special)
            sequences = [generated(row, len(prompt), eos) for row in out.sequences]
            scores = out.sequences_scores.tolist()
            ids = ", ".join("{" + ", ".join(map(str, s)) + "}" for s in sequences)
            print(f"    {{{length_penalty}f, {code}, {args.max_new_tokens}, {{{ids}}}, "
                  f"{{{', '.join(repr(float(s)) for s in scores)}}}}},")
    print("};")


if __name__ == "__main__":
    main()
