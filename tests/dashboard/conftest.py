"""The store tests' PostgreSQL fixtures (a server, then a fresh database per test), shared."""

from tests.store.test_postgres import pg_url, server_url

__all__ = ["pg_url", "server_url"]
