"""Parameter composition (Hydra) and typed schemas."""
