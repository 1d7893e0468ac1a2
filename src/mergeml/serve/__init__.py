"""Serving: the model of a stage or revision, fetched from the DVC remote and verified."""
