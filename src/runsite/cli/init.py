"""``runsite init``."""

from __future__ import annotations

from pathlib import Path

import click

from runsite.cli.common import store_default


@click.command("init")
@click.argument("path", default=".", type=click.Path(file_okay=False))
@click.option(
    "--store",
    default="runs",
    show_default=True,
    callback=store_default,
    help="The store folder, relative to PATH.",
)
@click.option(
    "--github",
    is_flag=True,
    help="Also write GitHub Actions workflows: publish the site on Pages, check registry PRs.",
)
@click.option(
    "--pip-spec",
    help="What the workflows pip-install (default: this runsite's git repository at its "
    "commit, when known).",
)
@click.option(
    "--branch",
    help="The branch whose pushes publish the site (default: the repository's default).",
)
def init_cmd(path: str, store: str, github: bool, pip_spec: str | None, branch: str | None) -> None:
    """Set up PATH (default: .) for runsite: the store's registry.yaml and site.yaml,
    .gitattributes, .gitignore and, with --github, the CI workflows. Never overwrites
    your files."""
    import runsite.init as init

    spec, known = (pip_spec, True) if pip_spec else init.install_spec()
    branch = branch or init.detect_branch(Path(path))
    done = init.init_project(path, store=store, github=github, spec=spec, branch=branch)
    width = max(len(action) for _, action in done)
    for target, action in done:
        click.echo(f"{action.ljust(width)}  {target}")
    if github:
        warning = init.git_root_warning(path)
        if warning:
            click.echo(f"warning: {warning}", err=True)
        if not known:
            click.echo(
                f"warning: the workflows install {spec!r}, a placeholder: runsite is not on a "
                "public index, so set RUNSITE_PIP_SPEC in both workflows to its git repository "
                "at a tag or commit (or re-run with --pip-spec)",
                err=True,
            )
    steps = [
        "",
        "Next steps:",
        "  1. Commit:  git add -A && git commit -m 'Set up runsite'",
    ]
    if github:
        steps += [
            "  2. Enable Pages: Settings → Pages → Source: GitHub Actions",
            f"     (the site is rebuilt on every push to {branch})",
            "  3. Require a review for registry changes: add this line to .github/CODEOWNERS",
            f"       {init.codeowners_line(store)}",
            "     (and protect the default branch: require review from code owners)",
            "",
            "A GitHub Pages site is public (even for a private repository, unless your plan",
            "offers private Pages): everyone can read every run's name, params, tags, metrics,",
            "notes, inputs, artifacts up to 10MB (model files included), command line, user,",
            "host, installed packages, git commit, branch and remote, and the registry.",
            "Values named like secrets (*password*, *secret*, *token*, api_key, …) and",
            "secret-looking command-line arguments are masked, and the uncommitted-changes diff",
            f"is not published. {store}/site.yaml decides what is published: add experiments,",
            "runs, params, tags and artifacts to its exclude: lists, and command, user, host,",
            "packages or git_remote to hide:, before you push.",
        ]
    else:
        steps.append(
            "  2. For CI on GitHub (site on Pages, registry checks): runsite init --github"
        )
    differ = [str(t) for t, action in done if action == init.KEPT]
    if differ:
        steps.append(
            "Kept as you have them (they differ from runsite's): "
            + ", ".join(differ)
            + ". To see what runsite would write now, run `runsite init` in an empty folder."
        )
    click.echo("\n".join(steps))
