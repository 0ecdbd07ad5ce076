"""The planning engine: numpy arrays and sparse matrices, no Django (CONVENTIONS #12)."""
