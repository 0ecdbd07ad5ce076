"""`linli plan sites`: where to build next."""
