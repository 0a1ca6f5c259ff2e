"""``runsite init``."""

from __future__ import annotations

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
def init_cmd(path: str, store: str, github: bool) -> None:
    """Set up PATH (default: .) for runsite: the store's registry.yaml and site.yaml,
    .gitattributes and, with --github, the CI workflows. Never overwrites your files."""
    from runsite.init import codeowners_line, git_root_warning, init_project

    done = init_project(path, store=store, github=github)
    width = max(len(action) for _, action in done)
    for target, action in done:
        click.echo(f"{action.ljust(width)}  {target}")
    if github:
        warning = git_root_warning(path)
        if warning:
            click.echo(f"warning: {warning}", err=True)
    steps = [
        "",
        "Next steps:",
        "  1. Commit:  git add -A && git commit -m 'Set up runsite'",
    ]
    if github:
        steps += [
            "  2. Enable Pages: Settings → Pages → Source: GitHub Actions",
            "  3. Require a review for registry changes: add this line to .github/CODEOWNERS",
            f"       {codeowners_line(store)}",
            "     (and protect the default branch: require review from code owners)",
        ]
    else:
        steps.append(
            "  2. For CI on GitHub (site on Pages, registry checks): runsite init --github"
        )
    if any(action != "created" and action != "unchanged" for _, action in done):
        steps.append(
            "Files marked 'kept' differ from runsite's; compare them with a fresh "
            "`runsite init` in an empty folder and merge by hand."
        )
    click.echo("\n".join(steps))
