"""The API: one function per command (the CLI prints what they return)."""
