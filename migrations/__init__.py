"""Alembic migrations for the users and orders schema (``datasources.tables``).

Run them with ``gateway db upgrade`` or ``datasources.migrate.upgrade_database``; the
``alembic`` CLI works too from a checkout (see ``alembic.ini``). This is a package so that the
scripts ship inside the wheel and are found next to this file, with no ini file needed.
"""
