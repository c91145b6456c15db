"""`tracker site build DIR`: the web view as static files (tracker/web/site.py)."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.app import App, cli, pass_app
from tracker.cli.errors import EXIT_FAILED, EXIT_USAGE, fail, handle_errors


@cli.group()
def site() -> None:
    """The web view as static files, to publish anywhere."""


@site.command()
@click.argument("folder", type=click.Path(path_type=Path))
@pass_app
@handle_errors
def build(app: App, folder: Path) -> None:
    """Write every page, the JSON answers and the feed into FOLDER, with relative links:
    it works from any address and opened from disk. FOLDER is new, empty, or a previous
    build, which is replaced whole once the new one is written."""
    from tracker.web.data import Source
    from tracker.web.site import PageError, SiteError
    from tracker.web.site import build as build_site

    try:
        count = build_site(Source(app.engine, app.registry, app.settings), folder)
    except SiteError as exc:
        fail(str(exc), EXIT_FAILED if isinstance(exc, PageError) else EXIT_USAGE)
    click.echo(f"wrote {count} files to {folder}")
