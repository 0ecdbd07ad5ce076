"""`linli directory` spreadsheet commands."""
