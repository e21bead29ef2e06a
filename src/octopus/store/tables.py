"""ORM tables: portable types only (JSON, not JSONB; unix-second integers for time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(191), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # bumped on password or username change: every earlier token stops verifying
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    # the first-start admin/admin account: nothing but a password change until it is cleared
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)


class RevokedToken(Base):
    """Sessions ended by logout before their expiry; rows past `expires_at` are pruned."""

    __tablename__ = "revoked_tokens"
    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class ConfigVersion(Base):
    """One row: bumped by every admin write, so each instance can tell its catalog is stale."""

    __tablename__ = "config_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class Meta(Base):
    """Install-level values that are not user settings (the token signing secret)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(191), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Setting(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(191), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Channel(Base):
    __tablename__ = "channels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(191), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    base_url: Mapped[str] = mapped_column(String(1024))
    model: Mapped[str] = mapped_column(Text, default="")
    custom_model: Mapped[str] = mapped_column(Text, default="")
    proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_sync: Mapped[bool] = mapped_column(Boolean, default=False)
    custom_header: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    param_override: Mapped[str | None] = mapped_column(Text, nullable=True)
    channel_proxy: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    match_regex: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=0)
    # the Go v0.13 model: "generic" = one base URL serving the protocols in protocol_paths
    # ({protocol: path}), each model × key allowed the protocols its grant's bitmask names
    dialect: Mapped[str] = mapped_column(String(32), default="", server_default="")
    protocol_paths: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    grants: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)


class ChannelKey(Base):
    __tablename__ = "channel_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str] = mapped_column(String(1024), default="")
    remark: Mapped[str] = mapped_column(String(255), default="")
    name: Mapped[str] = mapped_column(String(191), default="", server_default="")  # v0.13


class Group(Base):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(191), unique=True)
    mode: Mapped[str] = mapped_column(String(32), default="failover")
    active_item_id: Mapped[int] = mapped_column(Integer, default=0)
    relay_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[int] = mapped_column(BigInteger, default=0)
    # auto-add picks the channel models this regex matches (Go v0.9); empty = name substring
    match_regex: Mapped[str | None] = mapped_column(String(1024), nullable=True)


class GroupItem(Base):
    __tablename__ = "group_items"
    __table_args__ = (
        UniqueConstraint("group_id", "channel_id", "model_name", name="uq_group_channel_model"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    model_name: Mapped[str] = mapped_column(String(191))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[int] = mapped_column(Integer, default=1)


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(191))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    expire_at: Mapped[int] = mapped_column(BigInteger, default=0)
    max_cost: Mapped[float] = mapped_column(Double, default=0.0)
    supported_models: Mapped[str] = mapped_column(Text, default="")
    max_rpm: Mapped[int] = mapped_column(Integer, default=0)
    max_tpm: Mapped[int] = mapped_column(Integer, default=0)
    max_concurrency: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger, default=0)


class LlmInfo(Base):
    """Model prices in USD per 1M tokens; `manual` rows are never touched by a refresh."""

    __tablename__ = "llm_infos"
    name: Mapped[str] = mapped_column(String(191), primary_key=True)
    input: Mapped[float] = mapped_column(Double, default=0.0)
    output: Mapped[float] = mapped_column(Double, default=0.0)
    cache_read: Mapped[float] = mapped_column(Double, default=0.0)
    cache_write: Mapped[float] = mapped_column(Double, default=0.0)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=0)


# SQLite only auto-increments a plain INTEGER primary key
LogId = BigInteger().with_variant(Integer(), "sqlite")
# MySQL TEXT stops at 64 KiB; request bodies may be larger
BodyText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


class RequestLog(Base):
    """One row per client request; bodies live in request_log_bodies so the list stays small."""

    __tablename__ = "request_logs"
    __table_args__ = (
        Index("ix_request_logs_time", "time", "id"),
        Index("ix_request_logs_model_time", "model", "time", "id"),
        Index("ix_request_logs_channel_time", "channel_id", "time", "id"),
        Index("ix_request_logs_key_time", "api_key_id", "time", "id"),
        Index("ix_request_logs_status_time", "status", "time", "id"),
        Index("ix_request_logs_request_id", "request_id"),
    )
    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64))
    time: Mapped[int] = mapped_column(BigInteger)  # unix seconds (UTC) when the request arrived
    api_key_id: Mapped[int] = mapped_column(Integer, default=0)
    api_key_name: Mapped[str] = mapped_column(String(191), default="")
    model: Mapped[str] = mapped_column(String(191), default="")  # the group the client asked for
    group_id: Mapped[int] = mapped_column(Integer, default=0)
    channel_id: Mapped[int] = mapped_column(Integer, default=0)
    channel_name: Mapped[str] = mapped_column(String(191), default="")
    upstream_model: Mapped[str] = mapped_column(String(191), default="")
    client_format: Mapped[str] = mapped_column(String(32), default="")
    upstream_format: Mapped[str] = mapped_column(String(32), default="")
    stream: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    http_status: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    total_attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_token_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    reasoning_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    # Double: MySQL's FLOAT is single precision, too coarse for money
    input_cost: Mapped[float] = mapped_column(Double, default=0.0)
    output_cost: Mapped[float] = mapped_column(Double, default=0.0)
    losses: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(Text, default="")


class RequestLogBody(Base):
    """Optional request/response bodies, kept for fewer days than the log rows."""

    __tablename__ = "request_log_bodies"
    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    time: Mapped[int] = mapped_column(BigInteger, index=True)
    request_body: Mapped[str | None] = mapped_column(BodyText, nullable=True)
    response_body: Mapped[str | None] = mapped_column(BodyText, nullable=True)


class StatsHourly(Base):
    """Usage per UTC hour, key, channel, group and upstream model; every stats view sums it."""

    __tablename__ = "stats_hourly"
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    api_key_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    channel_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    group_name: Mapped[str] = mapped_column(String(191), primary_key=True)
    upstream_model: Mapped[str] = mapped_column(String(191), primary_key=True)
    request_success: Mapped[int] = mapped_column(BigInteger, default=0)
    request_failed: Mapped[int] = mapped_column(BigInteger, default=0)
    # attempts on this channel that failed over to another member (not counted as requests)
    attempt_failed: Mapped[int] = mapped_column(BigInteger, default=0)
    input_token: Mapped[int] = mapped_column(BigInteger, default=0)
    output_token: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_read_token: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_token: Mapped[int] = mapped_column(BigInteger, default=0)
    reasoning_token: Mapped[int] = mapped_column(BigInteger, default=0)
    input_cost: Mapped[float] = mapped_column(Double, default=0.0)
    output_cost: Mapped[float] = mapped_column(Double, default=0.0)
    wait_time: Mapped[int] = mapped_column(BigInteger, default=0)  # milliseconds, summed


__all__ = [
    "ApiKey",
    "Base",
    "Channel",
    "ChannelKey",
    "Group",
    "GroupItem",
    "Index",
    "LlmInfo",
    "Meta",
    "RequestLog",
    "RequestLogBody",
    "Setting",
    "StatsHourly",
    "User",
]
