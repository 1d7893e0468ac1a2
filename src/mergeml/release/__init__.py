"""Releases: the registry read from git tags, and promotion by gated merge.

`registry` (GTO-grammar tags, each version's model md5 and metrics), `policy` (the stages
and their order, from the remote's main), `plans` (the typed requests and plans),
`promotion` (planning: every check, nothing written), `push` (the atomic push, retried),
`card` (the model card), `check_ref` (what a pushed tag records, for the deploy workflow).
"""
