"""Fixtures for the promotion and registry tests."""

from tests.scm.repos import origin

__all__ = ["origin"]
