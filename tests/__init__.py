"""Cross-service tests: end to end through the nginx gateway of a running stack."""
