"""ORM tables: portable types only (JSON, not JSONB; unix-second integers for time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
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


class ChannelKey(Base):
    __tablename__ = "channel_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str] = mapped_column(String(1024), default="")
    remark: Mapped[str] = mapped_column(String(255), default="")


class Group(Base):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(191), unique=True)
    mode: Mapped[str] = mapped_column(String(32), default="failover")
    active_item_id: Mapped[int] = mapped_column(Integer, default=0)
    relay_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[int] = mapped_column(BigInteger, default=0)


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
    max_cost: Mapped[float] = mapped_column(Float, default=0.0)
    supported_models: Mapped[str] = mapped_column(Text, default="")
    max_rpm: Mapped[int] = mapped_column(Integer, default=0)
    max_tpm: Mapped[int] = mapped_column(Integer, default=0)
    max_concurrency: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger, default=0)


class LlmInfo(Base):
    """Model prices in USD per 1M tokens; `manual` rows are never touched by a refresh."""

    __tablename__ = "llm_infos"
    name: Mapped[str] = mapped_column(String(191), primary_key=True)
    input: Mapped[float] = mapped_column(Float, default=0.0)
    output: Mapped[float] = mapped_column(Float, default=0.0)
    cache_read: Mapped[float] = mapped_column(Float, default=0.0)
    cache_write: Mapped[float] = mapped_column(Float, default=0.0)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=0)


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
    "Setting",
    "User",
]
