"""Every database.path form from the user's guide, Go-driver style and SQLAlchemy URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from octopus.store.dsn import DsnError, database_url, masked


def test_sqlite_relative_path() -> None:
    url = database_url("sqlite", "data/data.db")
    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == "data/data.db"


def test_sqlite_base_dir_and_url(tmp_path: Path) -> None:
    assert database_url("sqlite", "x.db", tmp_path).database == str(tmp_path / "x.db")
    assert database_url("sqlite", "sqlite:////tmp/a.db").database == "/tmp/a.db"


@pytest.mark.parametrize(
    ("path", "host", "port", "db", "query"),
    [
        (
            "root:password@tcp(127.0.0.1:3306)/octopus",
            "127.0.0.1",
            3306,
            "octopus",
            {"charset": "utf8mb4"},
        ),
        (
            "root:password@tcp(db.local:3307)/octopus?charset=utf8mb4&parseTime=True&loc=Local",
            "db.local",
            3307,
            "octopus",
            {"charset": "utf8mb4"},
        ),
        (
            "root:password@tcp(localhost)/octopus?charset=latin1",
            "localhost",
            None,
            "octopus",
            {"charset": "latin1"},
        ),
        (
            "mysql://root:password@127.0.0.1:3306/octopus",
            "127.0.0.1",
            3306,
            "octopus",
            {"charset": "utf8mb4"},
        ),
        (
            "mysql+asyncmy://root:password@h:1/o?charset=utf8mb4",
            "h",
            1,
            "o",
            {"charset": "utf8mb4"},
        ),
    ],
)
def test_mysql_forms(
    path: str, host: str, port: int | None, db: str, query: dict[str, str]
) -> None:
    url = database_url("mysql", path)
    assert url.drivername == "mysql+asyncmy"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "root",
        "password",
        host,
        port,
        db,
    )
    assert dict(url.query) == query


def test_mysql_unix_socket() -> None:
    url = database_url("mysql", "root:pw@unix(/run/mysqld/mysqld.sock)/octopus")
    assert url.query["unix_socket"] == "/run/mysqld/mysqld.sock"


@pytest.mark.parametrize(
    "path",
    [
        "postgresql://user:password@localhost:5432/octopus?sslmode=disable",
        "postgres://user:password@localhost:5432/octopus?sslmode=disable",
        "host=localhost user=user password=password dbname=octopus port=5432 sslmode=disable",
    ],
)
def test_postgres_forms(path: str) -> None:
    for kind in ("postgres", "postgresql"):
        url = database_url(kind, path)
        assert url.drivername == "postgresql+asyncpg"
        assert (url.username, url.password, url.host, url.port, url.database) == (
            "user",
            "password",
            "localhost",
            5432,
            "octopus",
        )
        assert url.query == {"ssl": "disable"}


def test_masked_hides_password() -> None:
    url = database_url("postgres", "postgresql://user:s3cret@localhost:5432/octopus")
    assert "s3cret" not in masked(url)
    assert "***" in masked(url)


@pytest.mark.parametrize(
    ("kind", "path"), [("mysql", "::::"), ("postgres", "nonsense"), ("oracle", "x")]
)
def test_unusable_paths_raise_clear_errors(kind: str, path: str) -> None:
    with pytest.raises(DsnError):
        database_url(kind, path)
