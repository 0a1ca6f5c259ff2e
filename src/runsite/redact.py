"""What never reaches a public page: values under secret-looking names, secret-looking
command-line arguments and passwords in URLs are masked (docs/security.md says the rule).

The store keeps the true values; only what is published (the site, the check reports)
goes through here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

MASK = "***"

# A name is split into lower-case words at separators and camelCase humps:
# "AWS_SECRET_ACCESS_KEY" → aws secret access key, "apiKey" → api key.
_HUMPS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# Words that make any name secret, also inside a longer word ("dbpassword", "mysecret").
_ALWAYS = ("password", "passwd", "passphrase", "secret", "credential", "cookie", "privatekey")
# Whole words that make a name secret.
_WORDS = frozenset(
    {
        "pwd",
        "pass",
        "creds",
        "apikey",
        "apitoken",
        "accesskey",
        "accesstoken",
        "authtoken",
        "auth",
        "authn",
        "authz",
        "authorization",
        "authentication",
        "bearer",
        "jwt",
        "oauth",
        "dsn",
    }
)
# "key" is secret only after one of these ("api_key", "secret_key", "private-key"), so
# "key_metric", "n_keys", "primary_key" stay readable.
_KEY_QUALIFIERS = frozenset(
    {
        "api",
        "access",
        "secret",
        "private",
        "client",
        "encryption",
        "signing",
        "ssh",
        "master",
        "license",
        "licence",
        "service",
        "account",
        "subscription",
        "auth",
        "session",
        "deploy",
        "app",
        "openai",
        "hf",
        "wandb",
    }
)
# "token" (singular) is secret unless it names a vocabulary token ("pad_token_id",
# "token_count"); "tokens" (plural, "max_tokens") is a count and never secret.
_TOKEN_VOCAB_BEFORE = frozenset(
    {"pad", "eos", "bos", "unk", "sep", "cls", "mask", "start", "end", "special", "per", "max"}
)
_TOKEN_VOCAB_AFTER = frozenset(
    {"id", "ids", "count", "counts", "len", "length", "limit", "type", "types", "level", "size"}
)


def words(name: str) -> list[str]:
    """``name`` as lower-case words: ``"openai-api-key"`` → ``["openai", "api", "key"]``."""
    out: list[str] = []
    for part in re.split(r"[^0-9A-Za-z]+", name):
        out += [w.lower() for w in _HUMPS.findall(part)]
    return out


def secret_name(name: object) -> bool:
    """True when a param, tag or option named ``name`` probably holds a secret."""
    if not isinstance(name, str):
        return False
    return _secret_str(name)


@functools.lru_cache(maxsize=8192)
def _secret_str(name: str) -> bool:
    # cached: a site build asks about the same few keys once per run (100,000 times)
    ws = words(name)
    for i, w in enumerate(ws):
        if w in _WORDS or any(s in w for s in _ALWAYS):
            return True
        before = ws[i - 1] if i else ""
        after = ws[i + 1] if i + 1 < len(ws) else ""
        if w == "key" and before in _KEY_QUALIFIERS:
            return True
        if w == "token" and before not in _TOKEN_VOCAB_BEFORE and after not in _TOKEN_VOCAB_AFTER:
            return True
    return False


_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^/\s@]+(@)")


def mask_text(text: str) -> str:
    """``postgres://me:hunter2@db/x`` → ``postgres://me:***@db/x``."""
    return _URL_PASSWORD.sub(rf"\g<1>{MASK}\g<2>", text)


def mask_value(name: str, value: Any) -> Any:
    """The value to publish for a param or tag ``name``."""
    if secret_name(name):
        return MASK
    # (no "://" in it, no URL with a password: the common case skips the regex)
    return mask_text(value) if isinstance(value, str) and "://" in value else value


def mask_mapping(values: dict[str, Any]) -> dict[str, Any]:
    return {k: mask_value(k, v) for k, v in values.items()}


@functools.lru_cache(maxsize=4096)
def _any_secret_name(names: tuple[Any, ...]) -> bool:
    # cached by the whole key set: 100,000 runs of a sweep share a handful of them
    return any(secret_name(n) for n in names)


def masked_mapping(values: dict[str, Any]) -> dict[str, Any]:
    """``mask_mapping(values)``, or ``values`` itself when masking changes nothing: the
    usual case, found without a call per value (a site build asks for 100,000 runs)."""
    if not _any_secret_name(tuple(values)) and not any(
        [isinstance(v, str) and "://" in v for v in values.values()]
    ):
        return values
    masked = mask_mapping(values)
    return values if all(masked[k] is v for k, v in values.items()) else masked


_OPTION = re.compile(r"^(-{1,2}[A-Za-z0-9][\w.-]*)(=)(.*)$", re.DOTALL)
_ASSIGN = re.compile(r"^([A-Za-z_+~][\w.+-]*)(=)(.*)$", re.DOTALL)  # KEY=v, hydra a.b=v


def mask_command(argv: Sequence[str] | str) -> list[str] | str:
    """A command line with the values of secret-looking options masked:
    ``--api-key=X``, ``--db-password X``, ``-p X`` after ``--password``-like flags,
    ``API_TOKEN=X`` and ``db.password=X`` (hydra overrides); URLs lose their password.
    A command recorded as one string is split at spaces and joined back."""
    if isinstance(argv, str):
        masked = mask_command(argv.split(" "))
        return " ".join(masked)
    out: list[str] = []
    hide_next = False
    for arg in argv:
        arg = str(arg)
        if hide_next and not arg.startswith("-"):
            out.append(MASK)
            hide_next = False
            continue
        hide_next = False
        m = _OPTION.match(arg) or _ASSIGN.match(arg)
        if m and secret_name(m.group(1)):
            out.append(f"{m.group(1)}={MASK}")
            continue
        if arg.startswith("-") and secret_name(arg):
            hide_next = True
        out.append(mask_text(arg))
    return out
