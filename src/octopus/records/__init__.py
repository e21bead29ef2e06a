"""The request record model shared by the relay (which fills it) and the store (which keeps it)."""
