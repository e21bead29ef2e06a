"""The admin API fixtures (real gateway on each database, logged-in client)."""

from tests.admin.conftest import admin, admin_db, gateway, gateway_db

__all__ = ["admin", "admin_db", "gateway", "gateway_db"]
