"""The database goes away behind a TCP proxy: records wait up to the bound, the rest are dropped
and counted (log + metrics), everything waiting is written once it is back."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import URL

from octopus.services.metrics import GatewayMetrics
from octopus.store import logs, stats
from octopus.store.database import Database
from octopus.store.engine import make_engine, session_factory
from octopus.store.migrate import upgrade
from octopus.store.writer import BatchWriter, WriterConfig
from tests.logs.factory import record


class TcpProxy:
    """127.0.0.1:<port> → the database server; `down()` refuses and cuts every connection."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._streams: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for stream in list(self._streams):
            stream.close()
        self._streams.clear()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._streams |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()


def _samples(metrics: GatewayMetrics) -> dict[str, float]:
    text = metrics.exposition().decode()
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}


async def _wait(predicate, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("db_url", ["postgres", "mysql"], indirect=True)
async def test_records_wait_drop_and_recover(db_url: URL, caplog: pytest.LogCaptureFixture) -> None:
    direct_engine = make_engine(db_url)
    direct = Database(direct_engine, session_factory(direct_engine))
    await upgrade(direct.engine)
    proxy = TcpProxy(db_url.port or 0)
    await proxy.up()
    engine = make_engine(db_url.set(port=proxy.port))
    config = WriterConfig(interval=0.05, max_pending=20, max_backoff=0.2, flush_attempts=2)
    writer = BatchWriter(session_factory(engine), config)
    metrics = GatewayMetrics(writer)
    try:
        for _ in range(5):
            writer.finished(record())
        assert await writer.drain()
        assert writer.written == 5

        await proxy.down()
        writer.start()
        for _ in range(30):
            writer.finished(record())  # never blocks, never raises
        assert (writer.pending, writer.dropped) == (20, 10)
        await _wait(lambda: writer.write_errors >= 2)
        assert writer.written == 5
        assert writer.pending == 20
        seen = _samples(metrics)
        assert seen["octopus_log_queue_depth"] == 20
        assert seen["octopus_log_dropped_total"] == 10
        assert seen["octopus_log_write_errors_total"] >= 2
        assert any("log queue full" in r.message for r in caplog.records)
        assert any("log batch not written" in r.message for r in caplog.records)

        await proxy.up()
        await _wait(lambda: writer.pending == 0)
        assert writer.written == 25
        async with direct.sessions() as session:
            assert (await logs.list_logs(session, logs.LogFilter(), 1, 1))["total"] == 25
            total = await stats.total(session)
        assert total["request_success"] == 25, "stats were written with the same batches"

        await proxy.down()
        for _ in range(3):
            writer.finished(record())
        await writer.flush()  # gives up after its attempts, counting what is lost
        assert writer.dropped == 13
        assert writer.pending == 0
        assert any("lost at shutdown" in r.message for r in caplog.records)
    finally:
        await writer.flush()
        await engine.dispose()
        await direct.close()
