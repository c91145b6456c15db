"""The unit of every series, and how a value prints in it: $58.10, 3.75%, 6,845.5 (index
points), 45% (a market's probability), 164,600 (a count); and of the headline values a
kind of prediction works out itself: an outperform's spread of returns, +5.2 pp. Standard
library only: the quick CLI path may use it."""

from __future__ import annotations

USD, PERCENT, INDEX, PROBABILITY, NUMBER = "USD", "percent", "index points", "probability", "number"
PERCENTAGE_POINTS = "percentage points"  # a difference of two returns, stored as a fraction
PENCE = "GBp"  # Yahoo's currency for London prices, quoted in pence: 4,250p

# Kinds whose headline value is not a value of their series but worked out from several.
HEADLINE_UNITS = {"outperform": PERCENTAGE_POINTS}

# Series whose source does not say (FRED's CSV has no units) or says it in other words.
KNOWN = {
    "fred:DCOILWTICO": USD,
    "fred:DFEDTARU": PERCENT,
    "fred:A191RL1Q225SBEA": PERCENT,
    "fred:A191RL1A225NBEA": PERCENT,
    "fred:GDPNOW": PERCENT,
    "fred:LNS14000036": PERCENT,
    "fred:UNRATE": PERCENT,
    "fred:CPIAUCSL": INDEX,
    "fred:DTWEXBGS": INDEX,
    "fred:CSUSHPISA": INDEX,
    "fred:SFXRSA": INDEX,
    "fred:LXXRSA": INDEX,
    "fred:SFXRHTSA": INDEX,
    "fred:LXXRHTSA": INDEX,
    "yahoo:DX-Y.NYB": INDEX,
}
MARKET_SOURCES = ("polymarket", "kalshi")


def unit_of(series_id: str, stated: str | None = None) -> str:
    """Ours where we know it; a market's probability; an index's points; Yahoo's prices
    in dollars unless Yahoo states another currency (pence, or a currency code); else a
    plain number."""
    if series_id in KNOWN:
        return KNOWN[series_id]
    source, _, symbol = series_id.partition(":")
    if source in MARKET_SOURCES:
        return PROBABILITY
    if symbol.startswith("^"):
        return INDEX
    if source == "yahoo":
        if stated is None or stated.upper() == "USD":
            return USD
        return stated if stated == PENCE or _currency_code(stated) else NUMBER
    return NUMBER


def _currency_code(unit: str | None) -> bool:
    """EUR, JPY: three capital letters, as ISO 4217 writes them."""
    return unit is not None and len(unit) == 3 and unit.isascii() and unit.isalpha() and unit.isupper()


def headline_unit(kind: str) -> str | None:
    """The unit of a kind's headline value when it is its own (not its series')."""
    return HEADLINE_UNITS.get(kind)


def money(value: float) -> str:
    """A price: $58.10, $4,512, $0.0123."""
    if abs(value) >= 1000:
        return f"${value:,.0f}"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    return f"${value:.4g}"


def plain(x: float) -> str:
    """A number without a unit sign: 4.6, 2.75, 312.4, 5.0, 29,184.9; whole from 100,000
    up (164,600 payrolls, in thousands), where a decimal says nothing."""
    if abs(x) >= 100_000:
        return f"{x:,.0f}"
    text = f"{x:,.3f}".rstrip("0")
    if text.endswith("."):
        text += "0"
    return "0.0" if text == "-0.0" else text


def show(value: float, unit: str | None) -> str:
    """``value`` as people read it in ``unit``."""
    if unit == USD:
        return money(value)
    if unit == PERCENT:
        return f"{plain(value)}%"
    if unit == PROBABILITY:
        return f"{100 * value:.0f}%"
    if unit == PERCENTAGE_POINTS:
        return f"{100 * value:+.1f} pp"
    if unit == PENCE:
        return f"{plain(value)}p"
    if _currency_code(unit):
        return f"{plain(value)} {unit}"
    return plain(value)
