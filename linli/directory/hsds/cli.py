"""`linli hsds` commands."""
