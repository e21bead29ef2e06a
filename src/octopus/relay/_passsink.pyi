from octopus.upstream.transport import Sink

def has_usage(data: bytes) -> bool: ...

class PassSink:
    def __init__(
        self,
        slow: Sink,
        cutter: object,
        meter: object,
        out: object,
        quiet: object,
        now: object,
        direct: object,
        cycle: object,
        write: object,
        flow: object,
        limit: int,
        stamp_every: float,
    ) -> None: ...
    def __call__(self, chunk: bytes) -> bool: ...
    @property
    def taken(self) -> int: ...
    def settle(self) -> None: ...

class RunSink:
    def __init__(
        self,
        slow: Sink,
        reader: object,
        encoder: object,
        out: object,
        quiet: object,
        now: object,
        direct: object,
        cycle: object,
        write: object,
        flow: object,
        stamp_every: float,
    ) -> None: ...
    def __call__(self, chunk: bytes) -> bool: ...
    @property
    def taken(self) -> int: ...
    def settle(self) -> None: ...
