"""`tracker digest`: build the daily digest, preview it, print it or send it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import click

from tracker.cli.app import App, cli, pass_app
from tracker.cli.errors import EXIT_FAILED, fail, handle_errors
from tracker.cli.output import emit_json


def _in_a_folder(path: str | None) -> str | None:
    """Refuse a file in a folder that does not exist before the work, not after it."""
    from pathlib import Path

    if path is not None and not Path(path).absolute().parent.is_dir():
        raise click.BadParameter(f"no folder {str(Path(path).parent)!r} to write {path!r} in",
                                 param_hint="--preview")
    return path


@cli.command()
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE",
              help="The local date the digest is for (default: today in [email] timezone).")
@click.option("--preview", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              callback=lambda _ctx, _param, value: _in_a_folder(value),
              help="Write the HTML digest to FILE, charts inline, to open in a browser.")
@click.option("--text", "show_text", is_flag=True, help="Print the plain-text digest.")
@click.option("--send", "do_send", is_flag=True, help="Send it, once a day (see --force).")
@click.option("--to", "to", multiple=True, metavar="ADDR",
              help="Send a one-off copy to ADDR instead (repeatable; not logged).")
@click.option("--force", is_flag=True, help="Send even if this date's digest was sent already.")
@click.option("--json", "as_json", is_flag=True,
              help="Print what the digest says as JSON (with --send: what was sent).")
@pass_app
@handle_errors
def digest(app: App, day: datetime | None, preview: str | None, show_text: bool,
           do_send: bool, to: tuple[str, ...], force: bool, as_json: bool) -> None:
    """Build, preview or send the daily digest. Without options, print it as text."""
    from jobs.digest import local_day

    if as_json and show_text:
        raise click.UsageError("--json and --text both print the digest: choose one")
    now = datetime.now(UTC)
    local = day.date() if day else local_day(now, app.settings.email.timezone)
    sending = bool(do_send or to)
    if sending:
        _send(app, local, now, to, force, as_json)
    if preview or show_text or not sending:
        _build(app, local, now, preview, show_text=show_text or not (preview or sending),
               as_json=as_json and not sending)
        if day is None and not sending:
            from tracker.quick import remember

            remember("digest", app.settings, app.registry)  # the next preview is quick
    _done(app)


def _done(app: App) -> None:
    """The work is done and the process ends next. The database is closed first (SQLite
    folds its log back in as the last connection closes); then what is left is frozen:
    the interpreter's garbage collections on its way out skip frozen objects, and so do
    not walk everything SQLAlchemy, pydantic and Jinja made."""
    import gc

    app.engine.dispose()
    gc.freeze()


def _send(app: App, local: date, now: datetime, to: tuple[str, ...], force: bool,
          as_json: bool) -> None:
    """Send ``local``'s digest (or a one-off copy ``to`` others) and say what happened."""
    from jobs.digest import deliver
    from tracker.digest.send import SendError

    try:
        delivery = deliver(app.settings, app.registry, app.engine, local, force=force,
                           to=list(to) or None, now=now)
    except SendError as exc:
        fail(f"digest for {local} not sent: {exc}", EXIT_FAILED)
    recipients = list(to) if to else list(app.settings.email.to)
    if as_json:
        emit_json({"date": local, "sent": delivery.sent, "to": recipients if delivery.sent else [],
                   "message_id": delivery.message_id, "reason": delivery.reason or None})
    elif delivery.sent:
        click.echo(f"digest for {local} sent to {', '.join(recipients)} ({delivery.message_id})")
    else:
        click.echo(delivery.reason)


def _build(app: App, local: date, now: datetime, preview: str | None, show_text: bool,
           as_json: bool = False) -> None:
    """Write the HTML preview to ``preview``, print the text digest or its content as
    JSON: only what is shown is rendered (no email is built, and the text only for
    ``show_text``)."""
    from jobs.digest import gather
    from tracker.digest.render import preview_html, render_text

    built, charts = gather(app.settings, app.registry, app.engine, local, now,
                           charts=bool(preview))  # the text digest has none
    if preview:
        with open(preview, "w", encoding="utf-8") as out:
            out.write(preview_html(built, charts, app.settings.web.public_url))
        if not as_json:
            click.echo(f"wrote {preview}")
    if as_json:
        emit_json(built.as_dict())
    elif show_text:
        click.echo(render_text(built, app.settings.web.public_url))
