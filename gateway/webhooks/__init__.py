"""Endpoints other services call back: signed, verified before anything is read or written."""
