#!/usr/bin/python3
"""Renders Quill's chat-template goldens with the real Jinja2, configured the way Hugging Face transformers'
apply_chat_template configures it, so Quill's own interpreter can be checked against it byte for byte.

Run with Debian's python3 (apt-get install -y python3-jinja2):  /usr/bin/python3 tools/template-goldens/render_goldens.py

Inputs (server/src/test/resources/templates/):
  templates.json         the templates (<name>.jinja), their origin and special tokens, and the fixed "now"
  conversations/*.json   render contexts: messages, tools, add_generation_prompt and any extra kwargs
  snippets.txt           small templates for single constructs: "=== name {optional JSON context}" then the body
Outputs (same folder, overwritten):
  expected/<template>/<conversation>.txt        the prompt Jinja2 renders
  expected/<template>/<conversation>.error.txt  "<ExceptionType>: <message>" when Jinja2 raises instead
  snippets.expected.json                        {name: {"output": ...} or {"error": "<Type>: <message>"}}

Each conversation is rendered with its JSON object as the keyword arguments plus the template's special tokens
(bos_token, eos_token), exactly as the Java golden tests do.
"""
import datetime
import json
import pathlib
import shutil
import sys

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = pathlib.Path(__file__).resolve().parents[2] / "server/src/test/resources/templates"


class GenerationBlock(Extension):
    """transformers' {% generation %}...{% endgeneration %} tag: renders its body unchanged."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

    def _body(self, caller):
        return caller()


def environment(now):
    """The environment transformers builds for chat templates, with a fixed clock."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationBlock, loopcontrols])

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def strftime_now(fmt):
        return now.strftime(fmt)

    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(env, source, context):
    try:
        return {"output": env.from_string(source).render(**context)}
    except Exception as e:  # every failure is a golden too: Quill must fail the same way
        return {"error": f"{type(e).__name__}: {e}"}


def parse_snippets(text):
    snippets = {}
    name, context, body = None, None, []
    for line in text.split("\n"):
        if line.startswith("=== "):
            if name is not None:
                snippets[name] = (context, "\n".join(body))
            header = line[4:].strip()
            name, _, raw = header.partition(" ")
            context = json.loads(raw) if raw.strip() else {}
            if name in snippets:
                sys.exit(f"duplicate snippet name {name}")
            body = []
        elif name is not None:
            body.append(line)
    if name is not None:
        snippets[name] = (context, "\n".join(body).rstrip("\n"))
    return snippets


def main():
    manifest = json.loads((ROOT / "templates.json").read_text(encoding="utf-8"))
    env = environment(datetime.datetime.fromisoformat(manifest["fixed_now"]))
    conversations = {p.stem: json.loads(p.read_text(encoding="utf-8"))
                     for p in sorted((ROOT / "conversations").glob("*.json"))}

    expected_root = ROOT / "expected"
    if expected_root.exists():
        shutil.rmtree(expected_root)
    counts = {"output": 0, "error": 0}
    for name, spec in manifest["templates"].items():
        source = (ROOT / f"{name}.jinja").read_text(encoding="utf-8")
        out_dir = expected_root / name
        out_dir.mkdir(parents=True)
        for conv_name, conversation in conversations.items():
            result = render(env, source, {**conversation, **spec["special_tokens"]})
            kind = "output" if "output" in result else "error"
            counts[kind] += 1
            suffix = ".txt" if kind == "output" else ".error.txt"
            (out_dir / f"{conv_name}{suffix}").write_bytes(result[kind].encode("utf-8"))

    snippets = parse_snippets((ROOT / "snippets.txt").read_text(encoding="utf-8"))
    results = {name: render(env, body, context) for name, (context, body) in snippets.items()}
    (ROOT / "snippets.expected.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    print(f"jinja2 {jinja2.__version__}: {len(manifest['templates'])} templates x {len(conversations)} conversations"
          f" -> {counts['output']} outputs, {counts['error']} errors; {len(snippets)} snippets")


if __name__ == "__main__":
    main()
