"""`tracker markets search`: find a prediction market to link a prediction to."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli.app import App, cli
from tracker.cli.errors import EXIT_FAILED, fail
from tracker.cli.output import listing
from tracker.formats import percent


@cli.group()
def markets() -> None:
    """Find prediction markets to link to a prediction."""


def _print_markets(found: list[dict[str, Any]], *, text: str, **_) -> None:
    from tracker.textsafe import visible

    if not found:
        click.echo(f"no Polymarket markets match {text!r}")
        return
    # A block per market, slug on its own line: it is what the user copies into a
    # prediction, so it is never wrapped or cut whatever the terminal's width.
    for market in found:
        facts = [f"Yes {percent(market['yes_price'])}", f"ends {(market['end_date'] or '-')[:10]}"]
        if market["closed"]:
            facts.append("closed")
        click.echo(f"{visible(market['slug'])}\n  {visible(market['question'])}\n  "
                   f"{' · '.join(facts)}")


def _words(_ctx, _param, text: str) -> str:
    """The search words; none at all is bad usage, not a search for everything."""
    if not text.strip():
        raise click.BadParameter("give some words to search for, e.g. \"wealth tax\"")
    return text.strip()


@markets.command("search")
@click.argument("text", callback=_words)
@listing(text=_print_markets)
def markets_search(app: App, text: str) -> list[dict[str, Any]]:
    """Search Polymarket: slug, question, Yes price, end date, closed."""
    import asyncio

    from tracker.sources import polymarket
    from tracker.sources.base import SourceError
    from tracker.sources.http import HttpClient

    async def go():
        async with HttpClient.from_settings(app.settings) as http:
            return await polymarket.search(http, app.settings, text)

    try:
        return asyncio.run(go())
    except SourceError as exc:
        fail(f"Polymarket search failed: {exc}", EXIT_FAILED)
