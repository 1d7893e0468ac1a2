"""`python -m mergeml` runs the CLI."""

from mergeml.cli import main

main()
