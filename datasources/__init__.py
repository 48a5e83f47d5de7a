"""Backends behind the schema: PostgreSQL/SQLite, the shared cache and per-request loaders."""
