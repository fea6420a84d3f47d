"""Samples text from a quill-tiny GGUF with the PyTorch model (weights read from the GGUF file).

    /usr/bin/python3 tools/train-tiny/sample.py [--model models/quill-tiny.gguf] [--markdown]

Sampling: temperature, then top-k, then top-p (nucleus) over the remaining tokens; a fixed seed per
prompt. Generation stops at <|endoftext|>, at <|im_end|>, at --max-tokens or at the context length.
Chat prompts are rendered with the model's ChatML template (generation prompt added).
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import export  # noqa: E402
from corpus import BOS, EOS, IM_END  # noqa: E402
from model import Transformer  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))

PROMPTS = [
    ("text", "In the beginning"),
    ("text", "And the LORD said unto Moses,"),
    ("text", "The LORD is my shepherd;"),
    ("text", "Blessed are the"),
    ("text", "And it came to pass, when the king"),
    ("text", "Wisdom is"),
    ("chat", "Continue this verse: For God so loved the world"),
    ("chat", "Give me a verse about light."),
    ("chat", "Who are you?"),
    ("chat", "Quote Psalms 23:1."),
]


def render_chat(user_message):
    return f"<|im_start|>user\n{user_message}<|im_end|>\n<|im_start|>assistant\n"


@torch.no_grad()
def generate(model, tokenizer, prompt_ids, max_tokens, temperature, top_k, top_p, seed):
    gen = torch.Generator().manual_seed(seed)
    stop = {tokenizer.special_id(EOS), tokenizer.special_id(IM_END)}
    ids = list(prompt_ids)
    out = []
    while len(out) < max_tokens and len(ids) < model.cfg.context_length:
        logits = model(torch.tensor([ids]))[0, -1].double()
        probs = torch.softmax(logits / temperature, dim=-1)
        top = torch.topk(probs, top_k)
        keep = torch.cumsum(top.values, 0) - top.values < top_p  # smallest prefix reaching top_p
        p, idx = top.values[keep], top.indices[keep]
        token = idx[torch.multinomial(p / p.sum(), 1, generator=gen)].item()
        if token in stop:
            break
        ids.append(token)
        out.append(token)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(REPO, "models", "quill-tiny.gguf"))
    ap.add_argument("--max-tokens", type=int, default=60)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--top-k", type=int, default=40)
    ap.add_argument("--top-p", type=float, default=0.95)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--markdown", action="store_true", help="print a markdown table for the model card")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg, state, tokenizer = export.read_model(args.model)
    model = Transformer(cfg)
    model.load_state_dict(state)
    model.eval()
    bos = tokenizer.special_id(BOS)
    if args.markdown:
        print("| # | kind | prompt | output |\n|---|---|---|---|")
    for n, (kind, prompt) in enumerate(PROMPTS, 1):
        text = render_chat(prompt) if kind == "chat" else prompt
        ids = [bos] + tokenizer.encode_with_specials(text)
        out = generate(model, tokenizer, ids, args.max_tokens, args.temperature, args.top_k, args.top_p,
                       args.seed + n)
        completion = tokenizer.decode(out)
        if args.markdown:
            cell = lambda s: s.replace("|", "\\|").replace("\n", "<br>")  # noqa: E731
            print(f"| {n} | {kind} | {cell(prompt)} | {cell(completion)} |")
        else:
            print(f"--- [{kind}] {prompt!r}\n{completion}\n")


if __name__ == "__main__":
    main()
