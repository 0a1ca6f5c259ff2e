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
from runsite.models.manifest import MANIFEST, ModelReader, model_hash, read_manifest
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

    def entrypoint(self) -> list[str]:
        return serve_command()


def serve_command(host: str = "0.0.0.0", port: int = PORT) -> list[str]:
    return ["runsite", "models", "serve", "model", "--host", host, "--port", str(port)]


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


def _copy_verified(src: Path, dest: Path) -> dict[str, object]:
    shutil.copytree(src, dest, symlinks=False)
    manifest = read_manifest(dest)
    ModelReader(dest, manifest["files"]).verify_all()  # the copy, file by file
    return manifest


def write_context(
    model_uri: str,
    out: Path,
    store: str | os.PathLike[str] | None = None,
    *,
    install_spec: str | None = None,
    base_image: str | None = None,
) -> Context:
    """Write the build context for ``model_uri`` into ``out`` (new or empty)."""
    from runsite.models.api import resolve

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput(f"{out} is not an empty folder; choose a new or empty one")
    uri = os.fspath(model_uri)
    name = version = stage = None
    if uri.startswith("models:/"):
        from runsite.registry import Registry

        mv = Registry(store).resolve(uri[len("models:/") :].strip("/"))
        name, version, stage = mv.name, mv.version, mv.stage
    src = resolve(uri, store)  # models:/ checks the registry's hash of the folder
    if not (src / MANIFEST).is_file():
        raise InvalidInput(f"{uri!r} is not a runsite model folder (no {MANIFEST})")
    out.mkdir(parents=True, exist_ok=True)
    manifest = _copy_verified(src, out / "model")
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
    dockerfile.write_text(_dockerfile(image, runsite_req, digest, name, version, stage))
    (out / ".dockerignore").write_text("**/__pycache__\n*.pyc\n")
    return Context(out, dockerfile, requirements, runsite_req, digest, name, version, stage)


def _dockerfile(
    image: str,
    runsite_req: str,
    digest: str,
    name: str | None,
    version: int | None,
    stage: str | None,
) -> str:
    copy_wheels = "COPY wheels/ ./wheels/\n" if runsite_req.startswith("./wheels/") else ""
    labels = [f'LABEL io.runsite.model.hash="{digest}"']
    env = []
    if name is not None:
        labels.append(f'LABEL io.runsite.model.name="{name}" io.runsite.model.version="{version}"')
        env.append(f'ENV {ENV_NAME}="{name}" {ENV_VERSION}="{version}" {ENV_STAGE}="{stage}"')
    cmd = json.dumps(serve_command())
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
