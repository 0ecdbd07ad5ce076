"""`linli network import-osm` and `linli network generate`."""
