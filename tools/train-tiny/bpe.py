"""Byte-level BPE (GPT-2 style): trainer, encoder, decoder.

Text is split by the GPT-2 pre-tokenizer regex; each piece's UTF-8 bytes are mapped to printable
characters (bytes_to_unicode) and merged by rank. Token strings and merges are stored in that mapped
form, which is what GGUF's tokenizer.ggml.model = "gpt2" expects.

Vocabulary layout: ids 0..255 are the single bytes in byte order, then one token per merge (in rank
order, skipping a merge whose result already exists), then the special tokens.
"""
import heapq
from collections import Counter, defaultdict

import regex

PRETOKENIZER = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map: printable Latin-1 bytes map to themselves,
    the other 68 bytes to U+0100 onwards in byte order."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    mapping, extra = {}, 0
    for b in range(256):
        if b in printable:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def to_symbols(piece):
    return [BYTE_TO_CHAR[b] for b in piece.encode("utf-8")]


def merge_pair(symbols, a, b):
    """Merges every non-overlapping occurrence of (a, b), left to right."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
            out.append(a + b)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def train(texts, vocab_size, specials):
    """Learns merges until the vocabulary (256 bytes + merged tokens + specials) reaches vocab_size.
    Ties between equally frequent pairs go to the lexicographically smallest pair (deterministic)."""
    word_counts = Counter()
    for text in texts:
        word_counts.update(PRETOKENIZER.findall(text))
    words = [to_symbols(w) for w in word_counts]
    counts = list(word_counts.values())

    pair_counts = defaultdict(int)
    pair_words = defaultdict(set)
    for wi, syms in enumerate(words):
        for pair in zip(syms, syms[1:]):
            pair_counts[pair] += counts[wi]
            pair_words[pair].add(wi)
    heap = [(-c, pair) for pair, c in pair_counts.items()]
    heapq.heapify(heap)

    tokens = [BYTE_TO_CHAR[b] for b in range(256)]
    known = set(tokens)
    merges = []
    target = vocab_size - len(specials)
    while len(tokens) < target and heap:
        neg, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -neg:
            continue  # stale heap entry
        if -neg < 2:
            break
        a, b = pair
        merges.append(pair)
        if a + b not in known:
            known.add(a + b)
            tokens.append(a + b)
        changed = set()
        for wi in pair_words.pop(pair):
            old = words[wi]
            new = merge_pair(old, a, b)
            if new == old:
                continue
            c = counts[wi]
            for p in zip(old, old[1:]):
                pair_counts[p] -= c
                changed.add(p)
            for p in zip(new, new[1:]):
                pair_counts[p] += c
                pair_words[p].add(wi)
                changed.add(p)
            words[wi] = new
        del pair_counts[pair]
        changed.discard(pair)
        for p in changed:
            if pair_counts[p] > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
    if len(tokens) < target:
        raise ValueError(f"corpus too small: only {len(tokens)} tokens learnable, wanted {target}")
    return Tokenizer(tokens + [s.text for s in specials], [f"{a} {b}" for a, b in merges],
                     [s.text for s in specials])


class Tokenizer:
    def __init__(self, tokens, merges, specials):
        self.tokens = list(tokens)
        self.merges = list(merges)
        self.specials = list(specials)
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        if len(self.ids) != len(self.tokens):
            raise ValueError("duplicate token strings in vocabulary")
        self.ranks = {tuple(m.split(" ")): r for r, m in enumerate(self.merges)}
        self._cache = {}

    @property
    def vocab_size(self):
        return len(self.tokens)

    def special_id(self, special):
        return self.ids[special.text]

    def is_control(self, token_id):
        return self.tokens[token_id] in self.specials

    def _encode_piece(self, piece):
        if piece in self._cache:
            return self._cache[piece]
        syms = to_symbols(piece)
        while len(syms) > 1:
            best = min(zip(syms, syms[1:]), key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            syms = merge_pair(syms, *best)
        ids = [self.ids[s] for s in syms]
        self._cache[piece] = ids
        return ids

    def encode(self, text):
        """Plain text -> ids. Special-token text is NOT recognised here (it is ordinary bytes)."""
        ids = []
        for piece in PRETOKENIZER.findall(text):
            ids += self._encode_piece(piece)
        return ids

    def encode_with_specials(self, text):
        """Like llama.cpp with parse_special: special-token texts become their ids, the rest is BPE."""
        pattern = regex.compile("(" + "|".join(regex.escape(s) for s in self.specials) + ")")
        ids = []
        for part in pattern.split(text):
            if part in self.specials:
                ids.append(self.ids[part])
            elif part:
                ids += self.encode(part)
        return ids

    def encode_segments(self, segments):
        """A document's segments (str or corpus.Special) -> ids."""
        ids = []
        for seg in segments:
            ids += self.encode(seg) if isinstance(seg, str) else [self.ids[seg.text]]
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            tok = self.tokens[i]
            if tok in self.specials:
                out += tok.encode("utf-8")
            else:
                out += bytes(CHAR_TO_BYTE[c] for c in tok)
        return out.decode("utf-8", errors="replace")
