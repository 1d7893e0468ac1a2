"""Model construction and safe persistence."""
