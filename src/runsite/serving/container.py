"""``runsite models dockerfile``: a Docker build context that runs the scoring server.

The context holds a verified copy of the model folder (so the image needs no access to
the store, the repository or object storage), the model's pinned requirements plus the
server's, how to install runsite itself, and a Dockerfile whose entrypoint is the same
``runsite models serve`` command an engineer runs locally.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from runsite.errors import InvalidInput, RunsiteError
from runsite.models.manifest import MANIFEST, model_hash
from runsite.serving.app import ENV_NAME, ENV_STAGE, ENV_VERSION

PORT = 8080
SERVER_PACKAGES = ("uvicorn", "httptools")


@dataclass(frozen=True)
class Context:
    """What :func:`write_context` wrote."""

    folder: Path
    dockerfile: Path
    requirements: Path
    runsite_requirement: str
    model_hash: str
    name: str | None
    version: int | None
    stage: str | None
    command: list[str]

    def entrypoint(self) -> list[str]:
        return list(self.command)


def serve_command(host: str = "0.0.0.0", port: int = PORT, trust: bool = False) -> list[str]:
    cmd = ["runsite", "models", "serve", "model", "--host", host, "--port", str(port)]
    return [*cmd, "--trust-pickle"] if trust else cmd


def _installed(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _runsite_requirement(out: Path, spec: str | None) -> str:
    """How the image installs runsite: ``spec`` when given; else where this runsite came
    from — a git URL at its commit, a wheel built from a local checkout into the
    context, or the released version."""
    if spec:
        return spec
    try:
        dist = metadata.distribution("runsite")
    except metadata.PackageNotFoundError:
        raise RunsiteError("runsite is not installed as a package; pass --install-spec") from None
    direct = dist.read_text("direct_url.json")
    info = json.loads(direct) if direct else {}
    url = str(info.get("url") or "")
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("commit_id"):
        return f"runsite @ {vcs.get('vcs', 'git')}+{url}@{vcs['commit_id']}"
    if url.startswith("file://") and not url.endswith(".whl"):
        return _build_wheel(Path(url[len("file://") :]), out)
    return f"runsite=={dist.version}"


def _build_wheel(source: Path, out: Path) -> str:
    wheels = out / "wheels"
    wheels.mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        capture_output=True,
        text=True,
    )
    built = sorted(wheels.glob("runsite-*.whl"))
    if done.returncode != 0 or not built:
        raise RunsiteError(
            f"could not build a runsite wheel from {source} for the image: "
            f"{done.stderr.strip()[-400:] or 'pip wheel failed'}; pass --install-spec"
        )
    return f"./wheels/{built[-1].name}"


def write_context(
    model_uri: str,
    out: Path,
    store: str | os.PathLike[str] | None = None,
    *,
    install_spec: str | None = None,
    base_image: str | None = None,
    trust: bool = False,
) -> Context:
    """Write the build context for ``model_uri`` into ``out`` (new or empty).

    The model is copied with verified bytes only (``models.api.copy_model``): hashes
    checked (the registry's too, for ``models:/``), files kept in object storage fetched
    by hash and checked, pickles scanned. A pickle that imports what its flavor does not
    need is refused (``UnsafePickle``) unless ``trust``; then the image serves it with
    ``--trust-pickle`` too (else it would refuse to start). Nothing is unpickled here."""
    from runsite.models.api import copy_model, resolve

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput(f"{out} is not an empty folder; choose a new or empty one")
    uri = os.fspath(model_uri)
    name = version = stage = None
    expected: str | None = None
    root = Path(store) if store is not None else None
    if uri.startswith("models:/"):
        from runsite.registry import Registry

        reg = Registry(store)
        mv = reg.resolve(uri[len("models:/") :].strip("/"))
        name, version, stage, expected = mv.name, mv.version, mv.stage, mv.hash
        src = reg.model_folder(mv)
        root = reg.store.root
    else:
        src = resolve(uri, store)
    if not (src / MANIFEST).is_file():
        raise InvalidInput(f"{uri!r} is not a runsite model folder (no {MANIFEST})")
    created = not out.exists()
    try:
        manifest = copy_model(src, out / "model", expected, trust=trust, store_root=root)
    except BaseException:
        shutil.rmtree(out / "model", ignore_errors=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    digest = model_hash(out / "model")
    runsite_req = _runsite_requirement(out, install_spec)
    model_reqs = out / "model" / str(manifest.get("requirements") or "requirements.txt")
    lines = ["# the model's own requirements, pinned when it was logged"]
    if model_reqs.is_file():
        lines += [ln.strip() for ln in model_reqs.read_text().splitlines() if ln.strip()]
    lines.append("# the scoring server")
    lines += [f"{p}=={v}" for p in SERVER_PACKAGES if (v := _installed(p))]
    lines.append(runsite_req)
    requirements = out / "requirements.txt"
    requirements.write_text("\n".join(lines) + "\n")
    py = str(manifest.get("python_version") or platform.python_version())
    image = base_image or f"python:{'.'.join(py.split('.')[:2])}-slim"
    dockerfile = out / "Dockerfile"
    command = serve_command(trust=trust)
    dockerfile.write_text(_dockerfile(image, runsite_req, digest, name, version, stage, command))
    (out / ".dockerignore").write_text("**/__pycache__\n*.pyc\n")
    return Context(
        out, dockerfile, requirements, runsite_req, digest, name, version, stage, command
    )


def _dockerfile(
    image: str,
    runsite_req: str,
    digest: str,
    name: str | None,
    version: int | None,
    stage: str | None,
    command: list[str],
) -> str:
    copy_wheels = "COPY wheels/ ./wheels/\n" if runsite_req.startswith("./wheels/") else ""
    labels = [f'LABEL io.runsite.model.hash="{digest}"']
    env = []
    if name is not None:
        labels.append(f'LABEL io.runsite.model.name="{name}" io.runsite.model.version="{version}"')
        env.append(f'ENV {ENV_NAME}="{name}" {ENV_VERSION}="{version}" {ENV_STAGE}="{stage}"')
    cmd = json.dumps(command)
    return f"""\
# Built by `runsite models dockerfile`: the runsite scoring server for one model.
#   docker build -t model-server . && docker run -p {PORT}:{PORT} model-server
FROM {image}
{chr(10).join(labels)}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
{chr(10).join(env)}
WORKDIR /srv
COPY requirements.txt ./
{copy_wheels}RUN pip install --no-cache-dir -r requirements.txt
COPY model/ ./model/
RUN useradd --system --uid 10001 --no-create-home scorer
USER 10001
EXPOSE {PORT}
HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{PORT}/ping')"]
CMD {cmd}
"""
