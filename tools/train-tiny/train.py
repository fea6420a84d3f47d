"""Trains quill-tiny from scratch and writes it as a GGUF file.

Corpus (KJV via Debian's bible-kjv) -> documents -> byte-level BPE tokenizer -> llama-style transformer
-> models/quill-tiny.gguf, then re-reads the GGUF and checks that it reproduces the trained model.

Run with Debian's python (see README.md):
    nice -n 10 /usr/bin/python3 tools/train-tiny/train.py
The learning-rate schedule runs on a wall-clock budget (--minutes): progress = elapsed / budget, so the
run ends on time however busy the machine is; the number of steps it reached is logged and recorded.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bpe  # noqa: E402
import corpus  # noqa: E402
import export  # noqa: E402
from model import Config, Transformer  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=1611)
    p.add_argument("--vocab", type=int, default=4096)
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, default=4)
    p.add_argument("--ffn", type=int, default=768)
    p.add_argument("--ctx", type=int, default=256)
    p.add_argument("--batch", type=int, default=4, help="sequences per step")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr-ratio", type=float, default=0.1)
    p.add_argument("--warmup-steps", type=int, default=30)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--minutes", type=float, default=50.0, help="wall-clock training budget")
    p.add_argument("--max-steps", type=int, default=1_000_000)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads; 1 is fastest on a shared, oversubscribed 2-core machine")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    p.add_argument("--work-dir", default=os.path.join(HERE, "work"))
    p.add_argument("--out", default=os.path.join(REPO, "models", "quill-tiny.gguf"))
    p.add_argument("--resume", action="store_true", help="continue from WORK_DIR/checkpoint.pt")
    return p.parse_args(argv)


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def token_stream(tokenizer, documents):
    """Every document is preceded by <|endoftext|> (BOS), which also ends the document before it."""
    bos = tokenizer.special_id(corpus.BOS)
    ids = []
    for doc in documents:
        ids.append(bos)
        ids += tokenizer.encode_segments(doc)
    return torch.tensor(ids, dtype=torch.long)


def windows(stream, starts, ctx):
    idx = starts[:, None] + torch.arange(ctx + 1)[None, :]
    seq = stream[idx]
    return seq[:, :-1], seq[:, 1:]


@torch.no_grad()
def mean_loss(model, stream, ctx, max_windows=None, batch=16):
    """Mean next-token loss over non-overlapping windows from the start of the stream."""
    n = (len(stream) - 1) // ctx
    if max_windows:
        n = min(n, max_windows)
    starts = torch.arange(n) * ctx
    total, count = 0.0, 0
    for i in range(0, n, batch):
        x, y = windows(stream, starts[i:i + batch], ctx)
        logits = model(x)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
        count += y.numel()
    return total / count


def lr_at(args, step, progress):
    if step < args.warmup_steps:
        return args.lr * (step + 1) / args.warmup_steps
    cosine = 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return args.lr * (args.min_lr_ratio + (1 - args.min_lr_ratio) * cosine)


def make_optimizer(model, args):
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95))


def prepare_data(args):
    t0 = time.time()
    chapters = corpus.read_kjv()
    rng = random.Random(args.seed)
    train_docs, heldout_docs = corpus.build_documents(chapters, rng)
    rng.shuffle(train_docs)
    log(f"corpus: {len(chapters)} chapters, {len(train_docs)} train documents "
        f"({sum(1 for d in train_docs if corpus.IM_START in d)} chats), {len(heldout_docs)} held-out passages")
    tokenizer = bpe.train(corpus.text_segments(train_docs), args.vocab, corpus.SPECIALS)
    t1 = time.time()
    log(f"tokenizer: {tokenizer.vocab_size} tokens, {len(tokenizer.merges)} merges, {t1 - t0:.0f}s")
    train = token_stream(tokenizer, train_docs)
    heldout = token_stream(tokenizer, heldout_docs)
    log(f"tokens: train {len(train):,}, held-out {len(heldout):,} ({time.time() - t1:.0f}s to encode)")
    return tokenizer, train, heldout, time.time() - t0


def train(args, model, train_stream, heldout_stream):
    cfg = model.cfg
    opt = make_optimizer(model, args)
    gen = torch.Generator().manual_seed(args.seed)
    step, elapsed_before = 0, 0.0
    ckpt_path = os.path.join(args.work_dir, "checkpoint.pt")
    if args.resume:
        ckpt = torch.load(ckpt_path)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        gen.set_state(ckpt["generator"])
        step, elapsed_before = ckpt["step"], ckpt["elapsed"]
        log(f"resumed from step {step} ({elapsed_before / 60:.1f} min already trained)")
    budget = args.minutes * 60
    start = time.time()
    last_ckpt = last_log = start
    interval_loss, interval_steps = 0.0, 0
    history = []
    while True:
        elapsed = elapsed_before + time.time() - start
        progress = max(elapsed / budget, step / args.max_steps)
        if progress >= 1.0:
            break
        lr = lr_at(args, step, progress)
        for group in opt.param_groups:
            group["lr"] = lr
        starts = torch.randint(0, len(train_stream) - cfg.context_length - 1, (args.batch,), generator=gen)
        x, y = windows(train_stream, starts, cfg.context_length)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        interval_loss += loss.item()
        interval_steps += 1
        now = time.time()
        if step % args.log_every == 0:
            tok_s = interval_steps * args.batch * cfg.context_length / (now - last_log)
            elapsed = elapsed_before + now - start
            p = max(elapsed / budget, step / args.max_steps)
            eta = elapsed * (1 - p) / max(p, 1e-9)
            log(f"step {step} loss {interval_loss / interval_steps:.4f} lr {lr:.2e} {tok_s:.0f} tok/s "
                f"elapsed {elapsed / 60:.1f}m eta {eta / 60:.1f}m")
            history.append({"step": step, "train_loss": interval_loss / interval_steps, "elapsed": elapsed})
            interval_loss, interval_steps, last_log = 0.0, 0, now
        if step % args.eval_every == 0:
            model.eval()
            held = mean_loss(model, heldout_stream, cfg.context_length, max_windows=32)
            model.train()
            log(f"step {step} held-out loss {held:.4f}")
            history.append({"step": step, "heldout_loss": held})
            last_log = time.time()  # keep eval time out of the throughput figure
        if now - last_ckpt > args.checkpoint_minutes * 60:
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "generator": gen.get_state(),
                        "step": step, "elapsed": elapsed_before + now - start}, ckpt_path)
            last_ckpt = now
            log(f"checkpoint saved at step {step}")
    wall = elapsed_before + time.time() - start
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "generator": gen.get_state(),
                "step": step, "elapsed": wall}, ckpt_path)
    return step, wall, history


@torch.no_grad()
def verify_gguf(path, model, heldout_stream):
    """Re-reads the GGUF into a fresh model: its logits must match the trained model up to F16 rounding."""
    cfg, state, _ = export.read_model(path)
    if cfg.to_dict() | {"norm_eps": 0} != model.cfg.to_dict() | {"norm_eps": 0} \
            or abs(cfg.norm_eps - model.cfg.norm_eps) > 1e-9:  # eps round-trips through float32
        raise AssertionError(f"GGUF config {cfg} != trained config {model.cfg}")
    reloaded = Transformer(cfg)
    reloaded.load_state_dict(state)
    reloaded.eval()
    x = heldout_stream[:cfg.context_length][None, :]
    a, b = model(x), reloaded(x)
    max_diff = (a - b).abs().max().item()
    agree = (a.argmax(-1) == b.argmax(-1)).float().mean().item()
    log(f"GGUF re-read: max |logit diff| vs trained fp32 weights {max_diff:.4f}, argmax agreement {agree:.3f}")
    if max_diff > 0.25 or agree < 0.95:
        raise AssertionError("GGUF weights do not reproduce the trained model")
    return max_diff


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t_start = time.time()
    tokenizer, train_stream, heldout_stream, prep_seconds = prepare_data(args)
    cfg = Config(vocab_size=tokenizer.vocab_size, dim=args.dim, n_layers=args.layers, n_heads=args.heads,
                 n_kv_heads=args.kv_heads, ffn_dim=args.ffn, context_length=args.ctx)
    model = Transformer(cfg)
    log(f"model: {model.param_count():,} parameters, config {cfg.to_dict()}")
    model.train()
    steps, train_seconds, history = train(args, model, train_stream, heldout_stream)
    model.eval()
    heldout_loss = mean_loss(model, heldout_stream, cfg.context_length)
    n_heldout_windows = (len(heldout_stream) - 1) // cfg.context_length
    train_loss = mean_loss(model, train_stream, cfg.context_length, max_windows=n_heldout_windows)
    log(f"final: {steps} steps, {steps * args.batch * cfg.context_length:,} tokens, "
        f"train loss {train_loss:.4f}, held-out loss {heldout_loss:.4f}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    export.write_model(args.out, model, tokenizer)
    log(f"wrote {args.out} ({os.path.getsize(args.out):,} bytes)")
    max_diff = verify_gguf(args.out, model, heldout_stream)
    summary = {
        "args": vars(args), "config": cfg.to_dict(), "parameters": model.param_count(),
        "train_tokens_in_corpus": len(train_stream), "heldout_tokens": len(heldout_stream),
        "steps": steps, "tokens_seen": steps * args.batch * cfg.context_length,
        "data_and_tokenizer_seconds": prep_seconds, "train_seconds": train_seconds,
        "total_seconds": time.time() - t_start, "final_train_loss": train_loss,
        "final_heldout_loss": heldout_loss, "gguf_bytes": os.path.getsize(args.out),
        "gguf_vs_fp32_max_logit_diff": max_diff, "torch_version": torch.__version__, "history": history,
    }
    with open(os.path.join(args.work_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    log("done")


if __name__ == "__main__":
    main()
