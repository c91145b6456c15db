"""tracker: a registry of public predictions, scored against market data."""

__version__ = "0.1.0"
