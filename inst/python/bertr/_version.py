"""The version of bertr's Python core (the R package's DESCRIPTION carries the same number)."""

__version__ = "0.1.0"
