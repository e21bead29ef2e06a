from collections.abc import Callable

class Receiver:
    def __init__(
        self,
        conn: object,
        pieces: list[bytes],
        feed: Callable[[bytes], object],
        clock: Callable[[], float],
        slow: Callable[[bytes], None],
        fault: type[BaseException],
    ) -> None: ...
    def __call__(self, data: bytes) -> None: ...
    @property
    def taken(self) -> int: ...
