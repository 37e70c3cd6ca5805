#!/usr/bin/env python3
"""Renders a chat template the way transformers' apply_chat_template does,
with Jinja2 alone (transformers is not needed): an ImmutableSandboxedEnvironment
with trim_blocks, lstrip_blocks and loopcontrols, transformers' tojson,
raise_exception and strftime_now, and tools = documents = None.

This is how the expected strings of tests/chat_template_test.cpp and
tests/chat_templates_known_test.cpp were computed:

  scripts/chat_template_expected.py TEMPLATE_FILE VARIABLES.json

VARIABLES.json holds messages, add_generation_prompt and the special tokens
(bos_token, eos_token, ...). The rendered text goes to stdout; with --repr
it is printed as a C++ string literal instead.
"""
import json
import sys
from datetime import datetime

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return datetime.now().strftime(format)


def render(source, variables):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    variables = dict(variables)
    variables.setdefault("tools", None)
    variables.setdefault("documents", None)
    return env.from_string(source).render(**variables)


def cpp_literal(text):
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    with open(args[0], encoding="utf-8") as f:
        source = f.read()
    with open(args[1], encoding="utf-8") as f:
        variables = json.load(f)
    text = render(source, variables)
    sys.stdout.write(cpp_literal(text) + "\n" if "--repr" in sys.argv else text)


if __name__ == "__main__":
    main()
