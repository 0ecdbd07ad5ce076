"""Settings by environment: base (shared), local (embedded default), production, test."""
