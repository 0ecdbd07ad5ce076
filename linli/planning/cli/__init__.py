"""`linli network …` and `linli plan …`: planning from the command line, one module per group."""

from . import network, sites

__all__ = ["network", "sites"]
