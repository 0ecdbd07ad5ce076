"""`linli network …` and `linli plan …`: planning from the command line, one module per group."""

from . import access, network, report, sites

__all__ = ["access", "network", "report", "sites"]
