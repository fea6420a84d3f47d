"""quill-tiny <-> GGUF: the llama.cpp key and tensor names for arch "llama" and a gpt2 BPE tokenizer.

Embeddings are tied: no output.weight is written; llama.cpp (and Quill) then use token_embd.weight as
the output projection.
"""
import numpy as np
import torch

import gguf
from bpe import Tokenizer
from corpus import BOS, EOS, IM_END
from model import Config

CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

TOKEN_TYPE_NORMAL, TOKEN_TYPE_CONTROL = 1, 3
LLAMA_FTYPE_MOSTLY_F16 = 1

# PyTorch parameter name pattern -> GGUF tensor name; {i} is the layer.
GLOBAL_TENSORS = {"tok_embd.weight": "token_embd.weight", "output_norm.weight": "output_norm.weight"}
LAYER_TENSORS = {
    "attn_norm.weight": "attn_norm.weight",
    "attn.wq.weight": "attn_q.weight",
    "attn.wk.weight": "attn_k.weight",
    "attn.wv.weight": "attn_v.weight",
    "attn.wo.weight": "attn_output.weight",
    "ffn_norm.weight": "ffn_norm.weight",
    "ffn.w_gate.weight": "ffn_gate.weight",
    "ffn.w_up.weight": "ffn_up.weight",
    "ffn.w_down.weight": "ffn_down.weight",
}


def tensor_names(n_layers):
    """(pytorch name, gguf name) pairs in file order."""
    pairs = list(GLOBAL_TENSORS.items())
    for i in range(n_layers):
        pairs += [(f"blocks.{i}.{k}", f"blk.{i}.{v}") for k, v in LAYER_TENSORS.items()]
    return pairs


def write_model(path, model, tokenizer: Tokenizer):
    cfg = model.cfg
    w = gguf.Writer()
    w.add("general.architecture", gguf.STRING, "llama")
    w.add("general.name", gguf.STRING, "quill-tiny")
    w.add("general.alignment", gguf.UINT32, gguf.DEFAULT_ALIGNMENT)
    w.add("general.file_type", gguf.UINT32, LLAMA_FTYPE_MOSTLY_F16)
    w.add("llama.context_length", gguf.UINT32, cfg.context_length)
    w.add("llama.embedding_length", gguf.UINT32, cfg.dim)
    w.add("llama.block_count", gguf.UINT32, cfg.n_layers)
    w.add("llama.feed_forward_length", gguf.UINT32, cfg.ffn_dim)
    w.add("llama.attention.head_count", gguf.UINT32, cfg.n_heads)
    w.add("llama.attention.head_count_kv", gguf.UINT32, cfg.n_kv_heads)
    w.add("llama.rope.freq_base", gguf.FLOAT32, cfg.rope_base)
    w.add("llama.attention.layer_norm_rms_epsilon", gguf.FLOAT32, cfg.norm_eps)
    w.add("llama.rope.dimension_count", gguf.UINT32, cfg.head_dim)
    w.add("llama.vocab_size", gguf.UINT32, cfg.vocab_size)
    w.add("tokenizer.ggml.model", gguf.STRING, "gpt2")
    w.add("tokenizer.ggml.pre", gguf.STRING, "gpt2")
    w.add_array("tokenizer.ggml.tokens", gguf.STRING, tokenizer.tokens)
    w.add_array("tokenizer.ggml.token_type", gguf.INT32,
                [TOKEN_TYPE_CONTROL if tokenizer.is_control(i) else TOKEN_TYPE_NORMAL
                 for i in range(tokenizer.vocab_size)])
    w.add_array("tokenizer.ggml.merges", gguf.STRING, tokenizer.merges)
    w.add("tokenizer.ggml.bos_token_id", gguf.UINT32, tokenizer.special_id(BOS))
    w.add("tokenizer.ggml.eos_token_id", gguf.UINT32, tokenizer.special_id(EOS))
    w.add("tokenizer.ggml.eot_token_id", gguf.UINT32, tokenizer.special_id(IM_END))
    w.add("tokenizer.ggml.add_bos_token", gguf.BOOL, True)
    w.add("tokenizer.ggml.add_eos_token", gguf.BOOL, False)
    w.add("tokenizer.chat_template", gguf.STRING, CHAT_TEMPLATE)

    state = {k: v.detach().cpu().float().numpy() for k, v in model.state_dict().items()}
    for torch_name, gguf_name in tensor_names(cfg.n_layers):
        arr = state[torch_name]
        w.add_tensor(gguf_name, arr, gguf.GGML_F32 if arr.ndim == 1 else gguf.GGML_F16)
    w.write(path)


def read_model(path):
    """-> (Config, state_dict of float32 torch tensors, Tokenizer) from a quill-tiny GGUF."""
    r = gguf.Reader(path)
    kv = r.kv
    if kv["general.architecture"] != "llama":
        raise ValueError(f"{path}: architecture {kv['general.architecture']!r}, expected 'llama'")
    cfg = Config(
        vocab_size=kv["llama.vocab_size"],
        dim=kv["llama.embedding_length"],
        n_layers=kv["llama.block_count"],
        n_heads=kv["llama.attention.head_count"],
        n_kv_heads=kv["llama.attention.head_count_kv"],
        ffn_dim=kv["llama.feed_forward_length"],
        context_length=kv["llama.context_length"],
        rope_base=kv["llama.rope.freq_base"],
        norm_eps=kv["llama.attention.layer_norm_rms_epsilon"],
    )
    state = {t: torch.from_numpy(np.array(r.tensors[g], dtype=np.float32)) for t, g in tensor_names(cfg.n_layers)}
    tokens = kv["tokenizer.ggml.tokens"]
    types = kv["tokenizer.ggml.token_type"]
    specials = [t for t, ty in zip(tokens, types) if ty == TOKEN_TYPE_CONTROL]
    return cfg, state, Tokenizer(tokens, kv["tokenizer.ggml.merges"], specials)
