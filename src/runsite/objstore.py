"""Artifacts in object storage: the one module that touches fsspec (see docs/storage.md).

A store opts in with ``<store>/storage.yaml`` (or ``RUNSITE_ARTIFACT_URL``). Artifact
files at least ``threshold`` bytes large then leave the run folder: their bytes go to
``<url>/sha256/<hh>/<hex>`` and the run folder keeps ``<file>.pointer``, a small JSON
file that git carries. Until the upload succeeded the bytes wait in the store's outbox
(``<store>/.runsite/outbox/``, ignored by git), so nothing is lost when storage is down;
``runsite artifacts push`` finishes what is pending. Fetched objects live in a local
cache by hash; whoever uses the bytes verifies them (model loading does, before
unpickling), and a download is checked against its hash before it enters the cache.

fsspec and its backends (s3fs, gcsfs, adlfs) are imported only when an object is moved.
Credentials come from the environment and the backends' standard configuration only:
a URL or an option carrying a secret is refused, so none reaches the store or the site.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from runsite import validate
from runsite.atomic import write_atomic
from runsite.cache import cache_root
from runsite.errors import InvalidInput, NotFound, RunsiteError, StoreFormatError

log = logging.getLogger("runsite")

FILENAME = "storage.yaml"
POINTER_SUFFIX = ".pointer"
POINTER_FORMAT = 1
DEFAULT_THRESHOLD = 10 * 1024 * 1024
_KEYS = ("url", "endpoint_url", "region", "threshold", "public_url", "options", "retries")
_SECRET = re.compile(
    r"(secret|password|passwd|token|credential|sig$|^sv$|account_key|connection_string|"
    r"^key$|access_key|session)",
    re.IGNORECASE,
)
_HEX = re.compile(r"^[0-9a-f]{64}$")


class StorageError(RunsiteError):
    """Object storage could not be reached or refused a request (bucket, credentials)."""


class CredentialsRefused(StorageError):
    """Object storage refused the credentials (wrong key or secret, no permission)."""


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class StorageConfig:
    url: str  # base URL, no trailing slash
    endpoint_url: str | None = None
    region: str | None = None
    threshold: int = DEFAULT_THRESHOLD
    public_url: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    retries: int = 3
    source: str = ""

    def object_url(self, sha256: str) -> str:
        return f"{self.url}/sha256/{sha256[:2]}/{sha256}"

    def public_link(self, sha256: str) -> str | None:
        if not self.public_url:
            return None
        return f"{self.public_url}/sha256/{sha256[:2]}/{sha256}"


def check_url(url: str, what: str = "artifact store URL") -> str:
    """An fsspec URL without credentials in it (``s3://bucket/prefix``, ``file:///…``)."""
    if not isinstance(url, str) or "://" not in url:
        raise InvalidInput(f"{what} {url!r} must be a URL such as s3://bucket/prefix")
    parts = urlsplit(url)
    if "@" in parts.netloc or parts.password:
        raise InvalidInput(
            f"{what} has credentials in it; remove them and use the environment "
            "(AWS_ACCESS_KEY_ID / AWS_PROFILE, GOOGLE_APPLICATION_CREDENTIALS, …) instead"
        )
    if any(_SECRET.search(k) for k, _ in parse_qsl(parts.query)):
        raise InvalidInput(f"{what} has a secret in its query string; use the environment")
    if parts.scheme == "file" and not parts.path.startswith("/"):
        raise InvalidInput(f"{what} {url!r}: a file:// URL needs an absolute path")
    return url.rstrip("/")


def _parse_threshold(value: Any) -> int:
    if isinstance(value, str) and value.strip().lower() in ("all", "everything"):
        return 0
    return validate.size_in_bytes(value, "storage threshold", "10MB, 0 or 'all'")


def load_config(store_root: Path) -> StorageConfig | None:
    """The store's artifact store, or ``None`` when artifacts stay in the run folders.

    ``<store>/storage.yaml`` first, then ``RUNSITE_ARTIFACT_URL``,
    ``RUNSITE_ARTIFACT_ENDPOINT_URL`` and ``RUNSITE_ARTIFACT_THRESHOLD`` override it."""
    data: dict[str, Any] = {}
    path = Path(store_root) / FILENAME
    if path.is_file():
        from runsite import yamlio

        data = yamlio.load_settings(path, _KEYS)
    env = os.environ
    if env.get("RUNSITE_ARTIFACT_URL"):
        data["url"] = env["RUNSITE_ARTIFACT_URL"]
    if env.get("RUNSITE_ARTIFACT_ENDPOINT_URL"):
        data["endpoint_url"] = env["RUNSITE_ARTIFACT_ENDPOINT_URL"]
    if env.get("RUNSITE_ARTIFACT_THRESHOLD"):
        data["threshold"] = env["RUNSITE_ARTIFACT_THRESHOLD"]
    if not data.get("url"):
        return None
    where = str(path) if path.is_file() else "RUNSITE_ARTIFACT_URL"
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise InvalidInput(f"{where}: options must be a mapping")
    for key in options:
        if _SECRET.search(str(key)):
            raise InvalidInput(
                f"{where}: option {key!r} looks like a credential; credentials come only "
                "from the environment or the storage client's standard configuration"
            )
    endpoint = data.get("endpoint_url")
    if endpoint is not None:
        endpoint = check_url(str(endpoint), "endpoint_url")
    public = data.get("public_url")
    if public is not None:
        public = check_url(str(public), "public_url")
        if not public.startswith(("https://", "http://")):
            raise InvalidInput(f"{where}: public_url must be an http(s) URL, got {public!r}")
    retries = data.get("retries", 3)
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 20:
        raise InvalidInput(f"{where}: retries must be a whole number from 0 to 20")
    return StorageConfig(
        url=check_url(str(data["url"])),
        endpoint_url=endpoint,
        region=str(data["region"]) if data.get("region") else None,
        threshold=_parse_threshold(data.get("threshold", DEFAULT_THRESHOLD)),
        public_url=public,
        options=dict(options),
        retries=retries,
        source=where,
    )


# --------------------------------------------------------------------------- pointers


@dataclass(frozen=True)
class Pointer:
    sha256: str
    size: int
    url: str


def pointer_path(file: Path) -> Path:
    return file.with_name(file.name + POINTER_SUFFIX)


def write_pointer(file: Path, sha256: str, size: int, url: str) -> Path:
    doc = {"runsite_object": POINTER_FORMAT, "sha256": sha256, "size": size, "url": url}
    path = pointer_path(file)
    write_atomic(path, json.dumps(doc, indent=1) + "\n", mkdir=False)
    return path


def read_pointer(path: Path) -> Pointer:
    try:
        doc = json.loads(path.read_bytes()[:4096])
    except (OSError, ValueError) as exc:
        raise StoreFormatError(f"{path} is not a runsite object pointer: {exc}") from None
    if (
        not isinstance(doc, dict)
        or doc.get("runsite_object") != POINTER_FORMAT
        or not isinstance(doc.get("sha256"), str)
        or not _HEX.match(doc["sha256"])
        or not isinstance(doc.get("size"), int)
        or not isinstance(doc.get("url"), str)
    ):
        raise StoreFormatError(f"{path} is not a runsite object pointer (format 1)")
    return Pointer(doc["sha256"], doc["size"], doc["url"])


def file_hashes(folder: Path, hash_file: Any) -> dict[str, str]:
    """Relative path → sha256 of a folder's files, a pointer standing for its file."""
    from runsite.hashing import folder_files

    out: dict[str, str] = {}
    for rel, p in folder_files(folder):
        if rel.endswith(POINTER_SUFFIX):
            try:
                ptr = read_pointer(p)
            except StoreFormatError:
                out[rel] = hash_file(p)
                continue
            out[rel[: -len(POINTER_SUFFIX)]] = ptr.sha256
        else:
            out[rel] = hash_file(p)
    return out


# --------------------------------------------------------------------------- client


def _classify(exc: BaseException, url: str, cfg: StorageConfig) -> StorageError:
    name = type(exc).__name__
    text = str(exc)
    where = f" at {cfg.endpoint_url}" if cfg.endpoint_url else ""
    if "EndpointConnectionError" in name or "ConnectTimeout" in name or "ConnectionError" in name:
        return StorageError(f"object storage{where} is unreachable ({text}) for {url}")
    low = text.lower()
    if "bucket" in low and ("not exist" in low or "nosuchbucket" in low):
        return StorageError(f"the bucket of {url} does not exist{where}")
    if isinstance(exc, PermissionError) or any(
        s in text
        for s in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "Forbidden")
    ):
        return CredentialsRefused(
            f"object storage{where} refused the credentials for {url} ({text}); "
            "check AWS_ACCESS_KEY_ID / AWS_PROFILE (or your provider's standard settings)"
        )
    return StorageError(f"object storage request for {url} failed: {name}: {text}")


class ObjectStore:
    """Content-addressed objects under a base URL, through fsspec."""

    def __init__(self, cfg: StorageConfig) -> None:
        self.cfg = cfg
        self._fs: Any = None
        self._root = ""

    def _filesystem(self) -> tuple[Any, str]:
        if self._fs is None:
            try:
                import fsspec
            except ImportError:
                raise StorageError(
                    "artifacts in object storage need fsspec: pip install 'runsite[s3]'"
                ) from None
            opts: dict[str, Any] = dict(self.cfg.options)
            if self.cfg.url.startswith(("s3://", "s3a://")):
                client = dict(opts.pop("client_kwargs", {}) or {})
                if self.cfg.endpoint_url:
                    client["endpoint_url"] = self.cfg.endpoint_url
                if self.cfg.region:
                    client["region_name"] = self.cfg.region
                opts["client_kwargs"] = client
                conf = dict(opts.pop("config_kwargs", {}) or {})
                conf.setdefault("connect_timeout", 10)
                conf.setdefault("retries", {"max_attempts": 2})
                opts["config_kwargs"] = conf
            try:
                self._fs, self._root = fsspec.core.url_to_fs(self.cfg.url, **opts)
            except ImportError as exc:
                raise StorageError(f"no fsspec backend for {self.cfg.url}: {exc}") from None
            self._root = self._root.rstrip("/")
        return self._fs, self._root

    def _key(self, sha256: str) -> str:
        return f"{self._filesystem()[1]}/sha256/{sha256[:2]}/{sha256}"

    def _call(self, url: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except (FileNotFoundError, NotFound, StorageError):
            raise
        except Exception as exc:
            err = _classify(exc, url, self.cfg)
            if isinstance(err, CredentialsRefused):
                self._forget()
            raise err from None

    def _forget(self) -> None:
        """Drop the client: fsspec keeps one per URL and options, holding the credentials
        it read when made, so a key fixed in the environment would never be seen."""
        if self._fs is not None:
            clear = getattr(type(self._fs), "clear_instance_cache", None)
            if callable(clear):
                clear()
            self._fs = None

    def exists(self, sha256: str) -> bool:
        fs, _ = self._filesystem()
        url = self.cfg.object_url(sha256)
        try:
            return bool(self._call(url, fs.exists, self._key(sha256)))
        except FileNotFoundError as exc:
            raise _classify(exc, url, self.cfg) from None

    def put(self, local: Path, sha256: str) -> None:
        fs, _ = self._filesystem()
        url = self.cfg.object_url(sha256)
        key = self._key(sha256)
        try:
            if self._call(url, fs.exists, key):
                return  # content-addressed: the same bytes are there already
            protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
            if "file" in protocols or "local" in protocols:
                fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)
                tmp = f"{key}.{os.getpid()}.tmp"
                self._call(url, fs.put_file, str(local), tmp)
                self._call(url, fs.mv, tmp, key)
            else:  # object stores make an object appear whole or not at all
                self._call(url, fs.put_file, str(local), key)
        except FileNotFoundError as exc:
            raise _classify(exc, url, self.cfg) from None

    def get(self, ptr: Pointer, dest: Path, what: str) -> None:
        """Download an object to ``dest``, refusing bytes that do not match its hash."""
        fs, _ = self._filesystem()
        url = self.cfg.object_url(ptr.sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        h = hashlib.sha256()
        try:
            with (
                self._call(url, fs.open, self._key(ptr.sha256), "rb") as src,
                tmp.open("wb") as out,
            ):
                while chunk := src.read(8 * 1024 * 1024):
                    h.update(chunk)
                    out.write(chunk)
        except FileNotFoundError as exc:
            tmp.unlink(missing_ok=True)
            if "bucket" in str(exc).lower():
                raise _classify(exc, url, self.cfg) from None
            raise NotFound(
                f"{what}: object {url} is missing from the artifact store (its upload may "
                "still be pending on the machine that logged it: `runsite artifacts push` "
                "there), or it was removed"
            ) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if h.hexdigest() != ptr.sha256:
            tmp.unlink(missing_ok=True)
            raise StoreFormatError(
                f"{what}: object {url} does not match its hash (expected sha256 "
                f"{ptr.sha256[:16]}…, got {h.hexdigest()[:16]}…); refusing to use it"
            )
        os.replace(tmp, dest)

    def list(self) -> dict[str, int]:
        """sha256 → size of every object under the base URL."""
        fs, root = self._filesystem()
        base = f"{root}/sha256"
        try:
            found = self._call(self.cfg.url, fs.find, base, None, False, True)
        except FileNotFoundError:
            return {}
        out = {}
        for path, info in found.items():
            name = path.rsplit("/", 1)[-1]
            if _HEX.match(name):
                out[name] = int(info.get("size") or 0)
        return out

    def delete(self, sha256: str) -> None:
        fs, _ = self._filesystem()
        self._call(self.cfg.object_url(sha256), fs.rm, self._key(sha256))


# --------------------------------------------------------------------------- local side


def objects_cache() -> Path:
    return cache_root() / "objects" / "sha256"


def cached_path(sha256: str) -> Path:
    return objects_cache() / sha256[:2] / sha256


def outbox(store_root: Path) -> Path:
    """Bytes waiting for upload; ignored by git (``.runsite/.gitignore``)."""
    base = Path(store_root) / ".runsite"
    box = base / "outbox"
    if not box.is_dir():
        box.mkdir(parents=True, exist_ok=True)
        ignore = base / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# runsite's local state: never committed\n*\n", "utf-8")
    return box


def pending(store_root: Path, run_id: str | None = None) -> list[dict[str, Any]]:
    """Uploads not finished yet (on this machine), optionally of one run."""
    box = Path(store_root) / ".runsite" / "outbox"
    if not box.is_dir():
        return []
    out = []
    for marker in sorted(box.glob(f"*.{run_id or '*'}.json")):
        try:
            doc = json.loads(marker.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict):
            out.append(doc)
    return out


def check_pointer(cfg: StorageConfig | None, ptr: Pointer, what: str) -> StorageConfig:
    if cfg is None:
        raise StorageError(
            f"{what} is in object storage ({ptr.url}) but this store has no artifact store: "
            f"add {FILENAME} to the store or set RUNSITE_ARTIFACT_URL"
        )
    if ptr.url != cfg.object_url(ptr.sha256):
        raise StorageError(
            f"{what}: its pointer names {ptr.url}, which is not this store's artifact store "
            f"({cfg.url}, from {cfg.source}); refusing to fetch it"
        )
    return cfg


def open_pointer(store_root: Path, pointer_file: Path, what: str) -> Path:
    """A local file with the bytes a pointer names: the outbox, the cache, or a download.

    The caller verifies the bytes it uses (the cache is never trusted)."""
    ptr = read_pointer(pointer_file)
    waiting = Path(store_root) / ".runsite" / "outbox" / ptr.sha256
    if waiting.is_file():
        return waiting
    cached = cached_path(ptr.sha256)
    if cached.is_file():
        return cached
    cfg = check_pointer(load_config(store_root), ptr, what)
    ObjectStore(cfg).get(ptr, cached, what)
    return cached


def offload(
    store_root: Path, cfg: StorageConfig, run_id: str, rel: str, file: Path, sha256: str
) -> str:
    """Move a just-written artifact file into the outbox, leave its pointer, queue the
    upload. Returns the object's URL."""
    size = file.stat().st_size
    box = outbox(store_root)
    url = cfg.object_url(sha256)
    marker = box / f"{sha256}.{run_id}.json"
    doc = {"run_id": run_id, "path": rel, "sha256": sha256, "size": size, "url": url}
    marker.write_text(json.dumps(doc) + "\n", "utf-8")
    os.replace(file, box / sha256)
    write_pointer(file, sha256, size, url)
    uploader().submit(Path(store_root), cfg, sha256, run_id)
    return url


def upload_now(store_root: Path, cfg: StorageConfig, sha256: str) -> None:
    """Upload one outbox object (retrying), then move it to the cache and clear its
    markers. Raises ``StorageError`` when every attempt failed (the bytes stay)."""
    box = Path(store_root) / ".runsite" / "outbox"
    src = box / sha256
    if not src.is_file():
        return  # done by another thread or process
    client = ObjectStore(cfg)
    delay = 0.2
    for attempt in range(cfg.retries + 1):
        try:
            client.put(src, sha256)
            break
        except StorageError:
            if attempt == cfg.retries:
                raise
            time.sleep(delay)
            delay *= 2
    dest = cached_path(sha256)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(src, dest)
        except OSError:  # another file system: copy, then drop the outbox copy
            shutil.copyfile(src, dest)
            src.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("runsite: could not move %s into the cache: %s", src, exc)
        src.unlink(missing_ok=True)
    for marker in box.glob(f"{sha256}.*.json"):
        marker.unlink(missing_ok=True)


class Uploader:
    """One background thread per process that uploads offloaded files in order."""

    def __init__(self) -> None:
        self._q: queue.Queue[tuple[Path, StorageConfig, str, str]] = queue.Queue()
        self._lock = threading.Condition()
        self._open: dict[str, int] = {}  # run id → jobs not finished
        self.errors: dict[str, list[str]] = {}
        self._thread: threading.Thread | None = None

    def submit(self, store_root: Path, cfg: StorageConfig, sha256: str, run_id: str) -> None:
        with self._lock:
            self._open[run_id] = self._open.get(run_id, 0) + 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="runsite-upload", daemon=True
                )
                self._thread.start()
        self._q.put((store_root, cfg, sha256, run_id))

    def _loop(self) -> None:
        while True:
            store_root, cfg, sha256, run_id = self._q.get()
            try:
                upload_now(store_root, cfg, sha256)
            except Exception as exc:  # never kill training: the bytes stay in the outbox
                with self._lock:
                    self.errors.setdefault(run_id, []).append(str(exc))
            finally:
                with self._lock:
                    self._open[run_id] -= 1
                    self._lock.notify_all()

    def wait(self, run_id: str | None = None, timeout: float | None = None) -> list[str]:
        """Wait for a run's uploads (or all); returns the errors of the failed ones."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while True:
                left = self._open.get(run_id, 0) if run_id is not None else sum(self._open.values())
                if not left:
                    break
                remaining = None if end is None else end - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._lock.wait(remaining)
            if run_id is None:
                return [e for errs in self.errors.values() for e in errs]
            return list(self.errors.pop(run_id, []))


_uploader: Uploader | None = None
_uploader_lock = threading.Lock()


def uploader() -> Uploader:
    global _uploader
    with _uploader_lock:
        if _uploader is None:
            _uploader = Uploader()
        return _uploader


def push(store_root: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Upload everything pending in the store's outbox. Returns (done, errors)."""
    cfg = load_config(store_root)
    todo = pending(store_root)
    if todo and cfg is None:
        raise StorageError(
            f"{len(todo)} uploads are pending but store {store_root} has no artifact store "
            f"({FILENAME} or RUNSITE_ARTIFACT_URL)"
        )
    done, errors = [], []
    seen: set[str] = set()
    for doc in todo:
        sha = str(doc.get("sha256"))
        if sha in seen or not _HEX.match(sha):
            continue
        seen.add(sha)
        assert cfg is not None
        try:
            upload_now(Path(store_root), cfg, sha)
            done.append(doc)
        except StorageError as exc:
            errors.append(f"{doc.get('path')} of run {doc.get('run_id')}: {exc}")
    return done, errors


def referenced(store_root: Path) -> set[str]:
    """Hashes that the pointers in this store's run folders (this checkout) and its
    pending uploads name."""
    root = Path(store_root)
    out: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.endswith(POINTER_SUFFIX):
                try:
                    out.add(read_pointer(Path(dirpath) / name).sha256)
                except StoreFormatError:
                    continue
    out.update(str(d.get("sha256")) for d in pending(root))
    return out


def collect_garbage(store_root: Path, delete: bool = False) -> dict[str, int]:
    """Objects in the artifact store that nothing in this store references (sha256 →
    size); removed when ``delete``. Only this checkout is seen: objects that only another
    branch's runs name count as garbage here (see docs/storage.md)."""
    cfg = load_config(store_root)
    if cfg is None:
        raise StorageError(f"store {store_root} has no artifact store ({FILENAME})")
    client = ObjectStore(cfg)
    keep = referenced(store_root)
    garbage = {sha: size for sha, size in client.list().items() if sha not in keep}
    if delete:
        for sha in garbage:
            client.delete(sha)
    return garbage


def fetch_verified(store_root: Path, pointer_file: Path, dest: Path, what: str) -> None:
    """Write the bytes a pointer names to ``dest`` after checking them against its sha256
    (from the outbox, the cache or a download); a mismatch is an error naming the object
    and leaves nothing at ``dest``."""
    ptr = read_pointer(pointer_file)
    src = open_pointer(store_root, pointer_file, what)
    digest = hashlib.sha256()
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    with open(src, "rb") as fin, open(tmp, "wb") as fout:
        while chunk := fin.read(1 << 20):
            digest.update(chunk)
            fout.write(chunk)
    if digest.hexdigest() != ptr.sha256:
        tmp.unlink()
        raise StoreFormatError(
            f"{what}: the bytes of {ptr.url} hash to sha256:{digest.hexdigest()}, not the "
            f"sha256:{ptr.sha256} its pointer records; refusing to use them"
        )
    os.replace(tmp, dest)


def resolve_pointers(store_root: Path, copied: Path, source: Path) -> None:
    """Replace every ``<file>.pointer`` under ``copied`` (a copy of ``source``) by the
    verified bytes it names."""
    pointers = [copied] if copied.is_file() else sorted(copied.rglob(f"*{POINTER_SUFFIX}"))
    for p in pointers:
        if not p.name.endswith(POINTER_SUFFIX):
            continue
        rel = p.relative_to(copied) if p != copied else Path()
        original = source / rel if rel.parts else source
        fetch_verified(
            store_root, original, p.with_name(p.name[: -len(POINTER_SUFFIX)]), str(original)
        )
        p.unlink()
