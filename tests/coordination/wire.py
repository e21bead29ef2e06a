"""What a lean Redis connection writes: every `transport.write`, recorded as it goes out."""

from __future__ import annotations

from octopus.coordination.resp import LeanRedis


def record_writes(lean: LeanRedis) -> list[bytes]:
    """The writes of `lean`'s current connection from now on (it must be connected)."""
    conn = lean._conn
    assert conn is not None
    transport = conn._transport
    assert transport is not None
    writes: list[bytes] = []
    real_write = transport.write

    def counted(data: bytes | bytearray | memoryview) -> None:
        writes.append(bytes(data))
        real_write(data)

    transport.write = counted  # type: ignore[method-assign]
    return writes
