"""``runsite models serve`` and ``runsite models dockerfile``: deploying a model."""

from __future__ import annotations

from pathlib import Path

import click

from runsite.cli.common import store_option


@click.command("serve")
@click.argument("model_uri", metavar="MODEL-URI")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", "-p", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", "-w", default=1, show_default=True, type=int, help="Worker processes.")
@click.option(
    "--max-request-mb",
    default=8.0,
    show_default=True,
    type=float,
    help="Largest request body accepted; larger ones get HTTP 413.",
)
@click.option(
    "--trust-pickle",
    is_flag=True,
    help="Load it even when a pickle imports more than its flavor needs (a model you trust).",
)
@store_option
def serve_cmd(
    model_uri: str,
    host: str,
    port: int,
    workers: int,
    max_request_mb: float,
    trust_pickle: bool,
    store: str,
) -> None:
    """Serve MODEL-URI over HTTP with MLflow's scoring protocol.

    MODEL-URI is models:/NAME/STAGE, models:/NAME/VERSION, models:/NAME@ALIAS, runs:/RUN/NAME
    or a model folder. POST /invocations (JSON dataframe_split, dataframe_records,
    instances, inputs, or CSV), GET /ping, GET /version. Stops on Ctrl-C or SIGTERM after
    the requests in flight."""
    from runsite.serving.server import serve

    def ready(app: object) -> None:
        info = getattr(app, "info", None)
        what = model_uri
        if info is not None and getattr(info, "name", None):
            what = f"{info.name} v{info.version} ({info.stage})"
        click.echo(f"serving {what} on http://{host}:{port} (POST /invocations)", err=True)

    serve(
        model_uri,
        host=host,
        port=port,
        workers=workers,
        store=store,
        max_body=int(max_request_mb * 1024 * 1024),
        ready=ready,
        trust=trust_pickle,
    )


@click.command("dockerfile")
@click.argument("model_uri", metavar="MODEL-URI")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="New or empty folder.")
@click.option(
    "--install-spec",
    metavar="SPEC",
    help="How the image installs runsite (a pip requirement, e.g. "
    "'runsite @ git+https://github.com/ORG/runsite@v0.1.0'). Default: where this runsite "
    "came from (its git commit, a wheel built from this checkout, or its version).",
)
@click.option("--base-image", metavar="IMAGE", help="Default: python:<model's Python>-slim.")
@click.option(
    "--trust-pickle",
    is_flag=True,
    help="Copy it even when a pickle imports more than its flavor needs (a model you "
    "trust); the image then serves it with --trust-pickle.",
)
@store_option
def dockerfile_cmd(
    model_uri: str,
    out: str,
    install_spec: str | None,
    base_image: str | None,
    trust_pickle: bool,
    store: str,
) -> None:
    """Write a Docker build context (Dockerfile, requirements, the verified model) that
    runs `runsite models serve` for MODEL-URI on port 8080.

    The model's hashes are checked, files kept in object storage are fetched by hash and
    checked, and its pickles are scanned before anything is written."""
    from runsite.serving.container import write_context

    ctx = write_context(
        model_uri,
        Path(out),
        store,
        install_spec=install_spec,
        base_image=base_image,
        trust=trust_pickle,
    )
    what = f"{ctx.name} v{ctx.version}" if ctx.name else model_uri
    click.echo(
        f"build context for {what} in {out}\n"
        f"  docker build -t model-server {out}\n"
        f"  docker run -p 8080:8080 model-server"
    )
