"""Turn `database.type` + `database.path` (the guide's forms or SQLAlchemy URLs) into a URL."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, quote

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

_GO_MYSQL = re.compile(
    r"^(?P<user>[^:@/]*)(?::(?P<password>[^@]*))?@(?P<proto>tcp|unix)\((?P<addr>[^)]*)\)"
    r"/(?P<db>[^?]*)(?:\?(?P<params>.*))?$"
)
# Go-driver parameters asyncmy does not understand; charset is kept
_GO_ONLY_PARAMS = {
    "parsetime",
    "loc",
    "timeout",
    "readtimeout",
    "writetimeout",
    "allownativepasswords",
}


class DsnError(ValueError):
    """The database address cannot be understood; the message never contains the password."""


def database_url(database_type: str, path: str, base_dir: Path | None = None) -> URL:
    kind = "postgres" if database_type in ("postgres", "postgresql") else database_type
    if kind == "sqlite":
        return _sqlite(path, base_dir)
    if kind == "mysql":
        return _mysql(path)
    if kind == "postgres":
        return _postgres(path)
    raise DsnError(f"unknown database type {database_type!r}")


def _sqlite(path: str, base_dir: Path | None) -> URL:
    if "://" in path:
        url = _parse(path)
        return url.set(drivername="sqlite+aiosqlite")
    file = Path(path)
    if not file.is_absolute() and base_dir is not None:
        file = base_dir / file
    return URL.create("sqlite+aiosqlite", database=str(file))


def _mysql(path: str) -> URL:
    match = _GO_MYSQL.match(path)
    if match is None:
        url = _parse(path if "://" in path else "mysql://" + path)
        return _with_charset(url.set(drivername="mysql+asyncmy"))
    params = {
        k: v
        for k, v in parse_qsl(match["params"] or "", keep_blank_values=True)
        if k.lower() not in _GO_ONLY_PARAMS
    }
    query: dict[str, str] = dict(params)
    host, port = match["addr"] or "127.0.0.1:3306", None
    if match["proto"] == "unix":
        query["unix_socket"] = host
        host = "localhost"
    elif ":" in host:
        host, port_text = host.rsplit(":", 1)
        port = _port(port_text)
    url = URL.create(
        "mysql+asyncmy",
        username=match["user"] or None,
        password=match["password"],
        host=host,
        port=port,
        database=match["db"] or None,
        query=query,
    )
    return _with_charset(url)


def _with_charset(url: URL) -> URL:
    if "charset" in url.query:
        return url
    return url.update_query_dict({"charset": "utf8mb4"})


def _postgres(path: str) -> URL:
    if "://" not in path:
        path = _keyword_dsn_to_url(path)
    url = _parse(path).set(drivername="postgresql+asyncpg")
    query = dict(url.query)
    sslmode = query.pop("sslmode", None)
    if isinstance(sslmode, str):
        query["ssl"] = sslmode
    return url.set(query=query)


def _keyword_dsn_to_url(dsn: str) -> str:
    """libpq / gorm style `host=... user=... dbname=...` to a URL."""
    parts = dict(re.findall(r"(\w+)=('[^']*'|\S+)", dsn))
    if not parts:
        raise DsnError("postgres database.path is neither a URL nor key=value pairs")
    values = {k: v.strip("'") for k, v in parts.items()}
    user = quote(values.pop("user", ""), safe="")
    password = values.pop("password", None)
    auth = user + (":" + quote(password, safe="") if password is not None else "")
    host = values.pop("host", "localhost")
    port = values.pop("port", "5432")
    db = values.pop("dbname", "")
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in values.items() if k != "TimeZone")
    return f"postgresql://{auth}@{host}:{port}/{db}" + (f"?{query}" if query else "")


def _parse(text: str) -> URL:
    try:
        return make_url(text)
    except (ArgumentError, ValueError):
        raise DsnError("database.path is not a valid database URL") from None


def _port(text: str) -> int:
    if not text.isdigit():
        raise DsnError(f"invalid port {text!r} in database.path")
    return int(text)


def masked(url: URL) -> str:
    return url.render_as_string(hide_password=True)
