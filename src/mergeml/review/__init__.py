"""Review: quality gates, the pull-request report, and verify-built (what is built)."""
