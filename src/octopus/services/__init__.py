"""Application services: what the HTTP layer calls and the relay reports to, built once at start."""
