"""Revision scripts, named ``NNNN_slug.py`` with revision id ``NNNN``.

A package only so setuptools ships it; Alembic skips this file.
"""
