"""mergeml: Git-centric, declarative MLOps."""

__version__ = "0.1.0"
