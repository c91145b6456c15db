"""Names people use for the series in the registry, for explanation lines and tables."""

MARKET_PREFIXES = ("polymarket:", "kalshi:")

LABELS = {
    "yahoo:CL=F": "WTI crude",
    "yahoo:BZ=F": "Brent crude",
    "yahoo:HG=F": "Copper",
    "yahoo:GC=F": "Gold",
    "yahoo:SI=F": "Silver",
    "yahoo:^GSPC": "S&P 500",
    "yahoo:^IXIC": "Nasdaq Composite",
    "yahoo:DX-Y.NYB": "US dollar index",
    "yahoo:BTC-USD": "Bitcoin",
    "fred:DCOILWTICO": "WTI spot",
    "fred:DFEDTARU": "Fed funds target (top)",
    "fred:A191RL1Q225SBEA": "Real GDP growth",
    "fred:CPIAUCSL": "CPI",
    "fred:DTWEXBGS": "Broad dollar index",
    "fred:A191RL1A225NBEA": "Real GDP growth (annual)",
    "fred:GDPC1": "Real GDP",
    "fred:GDPNOW": "GDPNow",
    "fred:SFXRSA": "Case-Shiller San Francisco",
    "fred:LXXRSA": "Case-Shiller Los Angeles",
    "fred:CSUSHPISA": "Case-Shiller US national",
    "fred:PAYEMS": "Nonfarm payrolls",
    "fred:LNS14000036": "Unemployment rate, ages 20-24",
    "yahoo:PL=F": "Platinum",
    "yahoo:AMZN": "Amazon",
    "yahoo:NFLX": "Netflix",
    "yahoo:HOOD": "Robinhood",
    "yahoo:COIN": "Coinbase",
    "yahoo:IGV": "Software ETF (IGV)",
    "yahoo:XLK": "Tech sector ETF (XLK)",
    "yahoo:IPO": "Renaissance IPO ETF",
    "yahoo:TLT": "Long Treasuries ETF (TLT)",
    "yahoo:SPY#total": "US stocks (SPY, total return)",
    "yahoo:TLT#total": "Long Treasuries (TLT, total return)",
    "yahoo:XLK#total": "Tech sector (XLK, total return)",
    "yahoo:GLD": "Gold (GLD)",
    "yahoo:SLV": "Silver (SLV)",
    "fred:SFXRHTSA": "Case-Shiller San Francisco, high tier",
    "fred:LXXRHTSA": "Case-Shiller Los Angeles, high tier",
}


def label(series_id: str, source_name: str | None = None) -> str:
    """A market's question as its source asks it, quoted (Polymarket's question, Kalshi's
    title); for other series our name, else the name its source gives; else the id."""
    if source_name and series_id.startswith(MARKET_PREFIXES):
        return quoted(source_name)
    return LABELS.get(series_id) or source_name or series_id


def quoted(text: str) -> str:
    """Someone else's words, marked as such: “text”."""
    return f"\u201c{text}\u201d"
