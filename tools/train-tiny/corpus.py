"""The training corpus: the King James Bible from Debian's bible-kjv-text package, as documents.

A document is a list of segments: plain text (str) or a Special (a control token). Each document is
preceded by <|endoftext|> when tokenized, so <|endoftext|> also ends the previous one.

Two kinds of document:
- passages: 3-10 consecutive verses of a chapter, one verse per line;
- chats: ChatML conversations with synthetic tasks derived from the verses (continue a verse, quote a
  reference, name the reference, give a verse about a word, ...), each turn closed by <|im_end|>.
Every HELDOUT_EVERY-th chapter is held out: it yields passages for evaluation and no chats.
"""
import os
import re
import subprocess
from dataclasses import dataclass

EXPECTED_VERSES = 31102
HELDOUT_EVERY = 50  # 1 chapter in 50 = 2% held out
HELDOUT_PHASE = 25


@dataclass(frozen=True)
class Special:
    text: str


BOS = EOS = Special("<|endoftext|>")
IM_START = Special("<|im_start|>")
IM_END = Special("<|im_end|>")
SPECIALS = (BOS, IM_START, IM_END)


@dataclass
class Chapter:
    book: str
    number: int
    verses: list  # verse texts, verse 1 first


def read_kjv():
    """Runs the `bible` reader (package bible-kjv) over the whole text and parses its listing."""
    env = dict(os.environ, COLUMNS="100000")
    listing = subprocess.run(["bible", "-l100000", "Gen1:1-Rev22:21"], check=True, capture_output=True,
                             text=True, env=env).stdout
    heading = re.compile(r"^(\S.*) (\d+)$")
    verse = re.compile(r"^\s+(\d+) (.+)$")
    chapters = []
    for line in listing.splitlines():
        if not line.strip():
            continue
        if m := heading.match(line):
            chapters.append(Chapter(m.group(1), int(m.group(2)), []))
        elif m := verse.match(line):
            ch = chapters[-1]
            if int(m.group(1)) != len(ch.verses) + 1:
                raise ValueError(f"verse out of order in {ch.book} {ch.number}: {line[:40]!r}")
            ch.verses.append(m.group(2).strip())
        else:
            raise ValueError(f"unexpected line in bible listing: {line[:60]!r}")
    total = sum(len(c.verses) for c in chapters)
    if total != EXPECTED_VERSES:
        raise ValueError(f"expected {EXPECTED_VERSES} verses, the bible reader gave {total}")
    return chapters


def is_heldout(chapter_index):
    return chapter_index % HELDOUT_EVERY == HELDOUT_PHASE


def chat(*turns):
    """turns: (role, content) pairs -> segments exactly as the ChatML template renders them."""
    segments = []
    for role, content in turns:
        segments += [IM_START, f"{role}\n{content}", IM_END, "\n"]
    return segments


STOPWORDS = set("""about above after again against among because before being below between both
could doing during every further having himself herself itself myself other ourselves shall should
their theirs themselves there these thereof therefore thereon things those through thou thee thine
under until unto upon which while whom whose would yourselves saying hath came shalt""".split())

IDENTITY = [
    (("Who are you?", "What are you?", "Tell me about yourself.", "What is your name?"),
     "I am quill-tiny, a very small language model that ships with Quill. I learned English only from "
     "the King James Bible, so I speak in its words."),
    (("Hello", "Hello!", "Hi", "Good morning."),
     "Peace be unto you. Ask me for a verse, or give me the beginning of one and I will continue it."),
    (("What can you do?", "How can you help me?"),
     "I can continue a verse, quote a passage, or give you a verse about a word. I am small, so my "
     "answers are often wrong."),
    (("Thank you.", "Thanks!"),
     "You are welcome. Grace be with you."),
]

SYSTEM_PROMPTS = ("You are a helpful assistant.", "You are quill-tiny. Answer in the words of the King James Bible.")


def chat_task(rng, chapters, ci, vi):
    """One synthetic (question, answer) pair about verse vi of chapter ci."""
    ch = chapters[ci]
    text = ch.verses[vi]
    ref = f"{ch.book} {ch.number}:{vi + 1}"
    words = text.split()
    kind = rng.randrange(7)
    if kind == 0 and len(words) >= 6:
        cut = rng.randrange(2, len(words) - 2)
        return f"Continue this verse: {' '.join(words[:cut])}", " ".join(words[cut:])
    if kind == 1 and vi + 1 < len(ch.verses):
        return f"What is the verse after this one?\n{text}", ch.verses[vi + 1]
    if kind == 2:
        return rng.choice(("Quote ", "Recite ", "What does ")) + ref + rng.choice((".", "?", " say?")), text
    if kind == 3:
        return f"Where is this verse found?\n{text}", f"It is {ref}."
    if kind == 4:
        candidates = [w.strip(".,;:!?()'").lower() for w in words]
        candidates = [w for w in candidates if len(w) >= 5 and w.isalpha() and w not in STOPWORDS]
        if candidates:
            word = rng.choice(candidates)
            return rng.choice(("Give me a verse about ", "Tell me a verse about ", "Find a verse with the word ")) \
                + f"{word}.", text
    if kind == 5 and vi + 3 < len(ch.verses):
        n = rng.randrange(2, 5)
        return f"Read me {ch.book} {ch.number}:{vi + 1}-{vi + n}.", "\n".join(ch.verses[vi:vi + n])
    questions, answer = rng.choice(IDENTITY)
    return rng.choice(questions), answer


def build_documents(chapters, rng, chat_fraction=0.2):
    """-> (train documents, held-out documents); a document is a list of segments."""
    train, heldout = [], []
    for ci, ch in enumerate(chapters):
        out = heldout if is_heldout(ci) else train
        start = 0
        while start < len(ch.verses):
            n = rng.randrange(3, 11)
            out.append(["\n".join(ch.verses[start:start + n])])
            start += n
        if is_heldout(ci):
            continue
        for vi in range(len(ch.verses)):
            if rng.random() >= chat_fraction:
                continue
            turns = []
            if rng.random() < 0.1:
                turns.append(("system", rng.choice(SYSTEM_PROMPTS)))
            for _ in range(2 if rng.random() < 0.15 else 1):
                q, a = chat_task(rng, chapters, ci, rng.randrange(len(ch.verses)) if turns else vi)
                turns += [("user", q), ("assistant", a)]
            train.append(chat(*turns))
    return train, heldout


def text_segments(documents):
    for doc in documents:
        for seg in doc:
            if isinstance(seg, str):
                yield seg
