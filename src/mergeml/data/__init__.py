"""Data sources, the synthetic generator, validation and splitting."""
