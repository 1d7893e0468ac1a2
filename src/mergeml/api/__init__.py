"""The API: one function per `mergeml` command; the CLI parses, calls one, prints.

`params` (compose, check, experiments, repro), `review` (gate, verify-built, report,
comment), `model` (check) and `release` (promote, rollback, release-tags, registry, history,
card, publish-release).
"""
