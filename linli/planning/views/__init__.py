"""Pages of the planning app, one module per subject."""
