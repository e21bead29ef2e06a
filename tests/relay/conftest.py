"""The relay tests share the fake upstream fixtures."""

from tests.fakes.fixtures import fake, world

__all__ = ["fake", "world"]
