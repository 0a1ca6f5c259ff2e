"""Run ids and readable run names.

A run id is a ULID in lower case: 48 bits of milliseconds then 80 random bits, in
Crockford base32. Ids sort by start time, need no coordination between machines, and
are safe as folder names on every file system.
"""

from __future__ import annotations

import os
import random
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_lock = threading.Lock()
_last: tuple[int, int] = (0, 0)


def _encode(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_run_id(now_ms: int | None = None) -> str:
    """A new id; ids made in one process are strictly increasing."""
    global _last
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    with _lock:
        last_ms, last_rand = _last
        if ms <= last_ms:
            ms, rand = last_ms, last_rand + 1  # same millisecond: stay monotonic
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last = (ms, rand)
    return _encode(ms, 10) + _encode(rand & ((1 << 80) - 1), 16)


_ADJECTIVES = [
    "amber",
    "agile",
    "bold",
    "brave",
    "bright",
    "calm",
    "clever",
    "cosmic",
    "crisp",
    "curious",
    "daring",
    "deft",
    "eager",
    "fancy",
    "fast",
    "fearless",
    "gentle",
    "glad",
    "golden",
    "grand",
    "happy",
    "hazy",
    "honest",
    "jolly",
    "keen",
    "kind",
    "lively",
    "lucid",
    "lucky",
    "merry",
    "mighty",
    "misty",
    "nimble",
    "noble",
    "polite",
    "proud",
    "quiet",
    "rapid",
    "rare",
    "royal",
    "rustic",
    "shiny",
    "silent",
    "sleek",
    "smooth",
    "sunny",
    "swift",
    "tidy",
    "upbeat",
    "valiant",
    "vivid",
    "warm",
    "wise",
    "witty",
    "zesty",
]
_NOUNS = [
    "otter",
    "falcon",
    "lynx",
    "heron",
    "badger",
    "panda",
    "koala",
    "wren",
    "orca",
    "bison",
    "gecko",
    "ibis",
    "jaguar",
    "lemur",
    "marten",
    "newt",
    "ocelot",
    "puffin",
    "quail",
    "raven",
    "salmon",
    "tapir",
    "urchin",
    "viper",
    "walrus",
    "yak",
    "zebra",
    "beaver",
    "crane",
    "dingo",
    "eagle",
    "ferret",
    "gazelle",
    "hare",
    "impala",
    "kiwi",
    "llama",
    "moose",
    "narwhal",
    "owl",
    "pelican",
    "robin",
    "seal",
    "tiger",
    "turtle",
    "whale",
    "wolf",
]


def random_run_name() -> str:
    """A readable name such as ``"swift-otter-42"``."""
    rng = random.SystemRandom()
    return f"{rng.choice(_ADJECTIVES)}-{rng.choice(_NOUNS)}-{rng.randrange(1000)}"
