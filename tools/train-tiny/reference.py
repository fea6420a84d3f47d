"""Cross-implementation fixture for the Java engine, computed straight from the GGUF file.

This is a second, independent implementation of the forward pass: float64 numpy over the tensors as
GGUF stores them (it does not use model.py), following llama.cpp's arch "llama" semantics. It writes
  engine/src/test/resources/quill-tiny/reference-logits.tsv  (prompt ids with BOS + top-10 logits per position)
  engine/src/test/resources/quill-tiny/tokenization.tsv      (reference tokenizations)
and checks that the PyTorch model loaded from the same GGUF agrees with it.

    /usr/bin/python3 tools/train-tiny/reference.py [--model models/quill-tiny.gguf]
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import export  # noqa: E402
import gguf  # noqa: E402
from model import Transformer  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
FIXTURE_DIR = os.path.join(REPO, "engine", "src", "test", "resources", "quill-tiny")
TOP_K = 10

PROMPTS = [
    "In the beginning God created the heaven and the earth.",
    "And the LORD said unto Moses,",
    "The LORD is my shepherd; I shall not want.",
    "Blessed are the",
    "<|im_start|>user\nContinue this verse: For God so loved the world<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWho are you?<|im_end|>\n"
    "<|im_start|>assistant\n",
    "Hello, world! It's 2024: naïve café — 東京 🙂\n\n  indented\ttab",
]

TOKENIZATION_TEXTS = [
    ("plain", "In the beginning God created the heaven and the earth."),
    ("plain", "And the LORD said unto Moses, Speak unto the children of Israel."),
    ("plain", "Hello, world! It's 2024: naïve café — 東京 🙂"),
    ("plain", "  leading spaces, trailing spaces   "),
    ("plain", "line one\nline two\n\n\ttabbed\r\nwindows"),
    ("plain", "they'll we've I'm you'd she's don't HE'S"),
    ("plain", "12345 3.14159 1,000,000 x=y+z; (a[b]){c}"),
    ("plain", "<|im_start|>user\nhi<|im_end|>"),
    ("special", "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"),
    ("special", "<|endoftext|>In the beginning<|endoftext|>"),
    ("plain", ""),
]


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, base, n_rot):
    """x [T, heads, head_dim]: llama.cpp NORMAL rope, adjacent pairs (2i, 2i+1) of the first n_rot dims."""
    t = x.shape[0]
    out = x.copy()
    theta = np.arange(t)[:, None] * base ** (-2.0 * np.arange(n_rot // 2) / n_rot)[None, :]
    cos, sin = np.cos(theta)[:, None, :], np.sin(theta)[:, None, :]
    x0, x1 = x[..., 0:n_rot:2], x[..., 1:n_rot:2]
    out[..., 0:n_rot:2] = x0 * cos - x1 * sin
    out[..., 1:n_rot:2] = x0 * sin + x1 * cos
    return out


def forward(reader, ids):
    """float64 logits [len(ids), vocab]. GGUF matrix W with dims [in, out] is numpy [out, in]: y = W @ x."""
    kv = reader.kv
    w = {name: arr.astype(np.float64) for name, arr in reader.tensors.items()}
    n_layers = kv["llama.block_count"]
    n_head, n_head_kv = kv["llama.attention.head_count"], kv["llama.attention.head_count_kv"]
    eps = kv["llama.attention.layer_norm_rms_epsilon"]
    base = kv["llama.rope.freq_base"]
    n_rot = kv["llama.rope.dimension_count"]
    dim = kv["llama.embedding_length"]
    head_dim = dim // n_head
    t = len(ids)
    causal = np.triu(np.ones((t, t), dtype=bool), 1)

    x = w["token_embd.weight"][ids]
    for l in range(n_layers):
        p = f"blk.{l}."
        h = rms_norm(x, w[p + "attn_norm.weight"], eps)
        q = rope((h @ w[p + "attn_q.weight"].T).reshape(t, n_head, head_dim), base, n_rot)
        k = rope((h @ w[p + "attn_k.weight"].T).reshape(t, n_head_kv, head_dim), base, n_rot)
        v = (h @ w[p + "attn_v.weight"].T).reshape(t, n_head_kv, head_dim)
        heads = []
        for hd in range(n_head):
            kvh = hd // (n_head // n_head_kv)
            scores = q[:, hd, :] @ k[:, kvh, :].T / np.sqrt(head_dim)
            scores[causal] = -np.inf
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            heads.append((scores / scores.sum(axis=-1, keepdims=True)) @ v[:, kvh, :])
        x = x + np.concatenate(heads, axis=-1) @ w[p + "attn_output.weight"].T
        h = rms_norm(x, w[p + "ffn_norm.weight"], eps)
        gate = h @ w[p + "ffn_gate.weight"].T
        up = h @ w[p + "ffn_up.weight"].T
        x = x + (gate / (1 + np.exp(-gate)) * up) @ w[p + "ffn_down.weight"].T
    x = rms_norm(x, w["output_norm.weight"], eps)
    out = w.get("output.weight", w["token_embd.weight"])
    return x @ out.T


def escape(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(REPO, "models", "quill-tiny.gguf"))
    ap.add_argument("--out-dir", default=FIXTURE_DIR)
    args = ap.parse_args()
    reader = gguf.Reader(args.model)
    cfg, state, tok = export.read_model(args.model)
    bos = reader.kv["tokenizer.ggml.bos_token_id"]
    torch_model = Transformer(cfg)
    torch_model.load_state_dict(state)
    torch_model.eval()
    os.makedirs(args.out_dir, exist_ok=True)

    worst = 0.0
    lines = [
        "# quill-tiny reference logits, computed in float64 (numpy) from models/quill-tiny.gguf by",
        "# tools/train-tiny/reference.py (independent of the PyTorch training code).",
        "# Prompts are encoded as the GGUF tokenizer does with add_bos_token=true and special tokens parsed",
        "# (<|endoftext|>, <|im_start|>, <|im_end|> in the text become their ids); BOS is the first id.",
        "# Text escapes: \\\\ backslash, \\n newline, \\t tab, \\r carriage return. Fields are tab-separated.",
        "# Records:",
        "#   prompt <i> <escaped text>",
        "#   tokens <i> <comma-separated token ids, BOS first>",
        "#   logits <i> <position> <token id at that position> <10 space-separated id:logit pairs, highest first>",
        "# The logits at position p are the next-token logits after reading tokens[0..p] (all positions).",
        f"# top-{TOP_K} ties are broken by lower token id. Logits printed with 6 decimals.",
    ]
    for i, prompt in enumerate(PROMPTS):
        ids = [bos] + tok.encode_with_specials(prompt)
        if len(ids) > cfg.context_length:
            raise ValueError(f"prompt {i} has {len(ids)} tokens, more than the context length")
        logits = forward(reader, ids)
        with torch.no_grad():
            torch_logits = torch_model(torch.tensor([ids]))[0].double().numpy()
        worst = max(worst, float(np.abs(torch_logits - logits).max()))
        lines.append(f"prompt\t{i}\t{escape(prompt)}")
        lines.append(f"tokens\t{i}\t{','.join(map(str, ids))}")
        for pos in range(len(ids)):
            order = sorted(range(len(logits[pos])), key=lambda j: (-logits[pos][j], j))[:TOP_K]
            pairs = " ".join(f"{j}:{logits[pos][j]:.6f}" for j in order)
            lines.append(f"logits\t{i}\t{pos}\t{ids[pos]}\t{pairs}")
    with open(os.path.join(args.out_dir, "reference-logits.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"reference-logits.tsv: {len(PROMPTS)} prompts; float32 PyTorch vs float64 numpy max |diff| {worst:.2e}")
    if worst > 1e-3:
        raise AssertionError("the two forward passes disagree")

    lines = [
        "# quill-tiny reference tokenizations (tools/train-tiny/reference.py), tab-separated:",
        "#   <mode> <escaped text> <comma-separated token ids>",
        "# mode plain: special-token text is ordinary text (llama.cpp parse_special=false);",
        "# mode special: special-token text becomes the special id (parse_special=true).",
        "# No BOS is included here (add it separately when add_bos_token is true).",
        "# Text escapes: \\\\ backslash, \\n newline, \\t tab, \\r carriage return.",
    ]
    for mode, text in TOKENIZATION_TEXTS:
        ids = tok.encode_with_specials(text) if mode == "special" else tok.encode(text)
        if tok.decode(ids) != text:
            raise AssertionError(f"tokenizer does not round-trip {text!r}")
        lines.append(f"{mode}\t{escape(text)}\t{','.join(map(str, ids))}")
    with open(os.path.join(args.out_dir, "tokenization.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"tokenization.tsv: {len(TOKENIZATION_TEXTS)} texts")


if __name__ == "__main__":
    main()
