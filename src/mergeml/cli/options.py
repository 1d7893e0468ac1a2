"""Command-line options shared by several mergeml commands."""

from __future__ import annotations

import click

api_url_option = click.option(
    "--api-url",
    envvar="GITHUB_API_URL",
    default="https://api.github.com",
    show_default=True,
    help="GitHub REST API base URL (env GITHUB_API_URL).",
)
