"""``docs/configuration.md``, generated from the ``Settings`` class.

The configuration reference used to be a hand-written table that restated every default and
drifted from the code whenever a setting changed. Now each field's ``description=`` in
``gateway/settings.py`` is the one place a setting is explained; this module renders the fields
(name, type and bounds, default, description) as Markdown, and a test fails when the committed
page differs from what it renders. Regenerate the page after changing a setting::

    python -m gateway.configuration_doc --write

It reads only the class (``Settings.model_fields``), never the environment, so the page is the
same on every machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from gateway.settings import Settings

__all__ = ["DOCUMENT", "SECTIONS", "main", "render"]

#: The page this module writes, in the repository that holds this package.
DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"

ENV_PREFIX = "GATEWAY_"
UNSET = "—"

#: Sections in reading order, each with the field-name prefixes it gathers. A field belongs to
#: the section with its longest matching prefix (``oauth_introspection_`` beats ``oauth_``), and
#: keeps the order it has in ``Settings`` within it; a field no prefix matches goes to "Other".
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Environment", ("env", "data_dir")),
    ("Database", ("database_",)),
    ("Redis", ("redis_",)),
    ("Bearer tokens (OAuth2, JWT)", ("oauth_",)),
    ("Opaque tokens (RFC 7662 introspection)", ("oauth_introspection_", "oauth_client_")),
    ("Partner API keys", ("api_key_",)),
    ("Cost and budgets", ("rate_limit_", "cost_")),
    ("GraphiQL, introspection and suggestions", ("graphiql", "introspection", "field_")),
    ("Request protection", ("max_", "csrf_", "cors_", "limits_", "batch_")),
    ("Persisted operations", ("apq_", "persisted_")),
    ("Request deadline and REST upstreams", ("request_", "content_", "recommendations_")),
    ("Upstream connections, retries and breaker", ("upstream_",)),
    ("Content cache", ("content_cache_",)),
    ("Subscriptions (WebSocket and SSE)", ("subscription_", "websocket_")),
)
OTHER = "Other"

HEADER = f"""\
# Configuration

<!-- Generated from gateway/settings.py by `python -m gateway.configuration_doc --write`.
     Do not edit by hand: change a field's description= there and regenerate. -->

This page is generated from the `Settings` class in
[`gateway/settings.py`](../gateway/settings.py): to change it, edit a field's `description=`
there and run `python -m gateway.configuration_doc --write` (a test fails when this page and the
class disagree).

Every setting is an environment variable prefixed `{ENV_PREFIX}`, read by pydantic-settings
when the process starts (there is no configuration file). Lists are written as JSON
(`{ENV_PREFIX}CORS_ORIGINS='["https://app.example.com"]'`) and booleans as `true` / `false`.
A default of {UNSET} means unset; the description says what unset means. With no configuration
at all the gateway runs the embedded development setup (an SQLite file, an in-process cache and
its own token issuer), which is what `make run` uses; `{ENV_PREFIX}ENV=prod` refuses to start
until the shared services and real secrets are configured.
"""


def render() -> str:
    """The whole Markdown page for the current ``Settings`` class."""
    grouped: dict[str, list[tuple[str, FieldInfo]]] = {}
    for name, info in Settings.model_fields.items():
        grouped.setdefault(section_of(name), []).append((name, info))
    titles = [title for title, _ in SECTIONS] + [OTHER]
    parts = [HEADER]
    for title in titles:
        fields = grouped.get(title)
        if not fields:
            continue
        rows = [_row(name, info) for name, info in fields]
        parts.append(
            f"## {title}\n\n| Variable | Type | Default | Description |\n|---|---|---|---|\n"
            + "".join(f"| {' | '.join(row)} |\n" for row in rows)
        )
    return "\n".join(parts)


def section_of(name: str) -> str:
    """The title of the section a field belongs to (its longest matching prefix wins)."""
    best, best_length = OTHER, 0
    for title, prefixes in SECTIONS:
        for prefix in prefixes:
            if name.startswith(prefix) and len(prefix) > best_length:
                best, best_length = title, len(prefix)
    return best


def _row(name: str, info: FieldInfo) -> tuple[str, str, str, str]:
    return (
        f"`{ENV_PREFIX}{name.upper()}`",
        _cell(describe_type(info)),
        _cell(describe_default(info)),
        _cell(" ".join((info.description or "").split())),
    )


def _cell(text: str) -> str:
    """Table-safe text: a ``|`` would end the cell."""
    return text.replace("|", "\\|")


def _without_none(annotation: Any) -> Any:
    """``X`` for ``X | None`` (unset is the default's business, not the type's)."""
    if get_origin(annotation) in (Union, types.UnionType):
        remaining = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(remaining) == 1:
            return remaining[0]
    return annotation


def _type_name(annotation: Any) -> str:
    annotation = _without_none(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " | ".join(f"`{member.value}`" for member in annotation)
    if get_origin(annotation) in (tuple, list, frozenset, set):
        items = [arg for arg in get_args(annotation) if arg is not Ellipsis]
        inner = _type_name(items[0]) if items else "value"
        return f"JSON list of {inner}s"
    names: dict[Any, str] = {
        bool: "bool",
        int: "int",
        float: "number",
        str: "string",
        Path: "path",
        SecretStr: "secret",
    }
    if annotation in names:
        return names[annotation]
    return getattr(annotation, "__name__", str(annotation))


def describe_type(info: FieldInfo) -> str:
    """The field's type, with its bounds: ``int, ≥ 1``."""
    bounds: list[str] = []
    for constraint in info.metadata:
        if isinstance(constraint, Ge):
            bounds.append(f"≥ {_number(constraint.ge)}")
        elif isinstance(constraint, Gt):
            bounds.append(f"> {_number(constraint.gt)}")
        elif isinstance(constraint, Le):
            bounds.append(f"≤ {_number(constraint.le)}")
        elif isinstance(constraint, Lt):
            bounds.append(f"< {_number(constraint.lt)}")
    return ", ".join([_type_name(info.annotation), *bounds])


def describe_default(info: FieldInfo) -> str:
    """The default as one would write it in the environment; unset and secrets are a dash."""
    value: Any = info.get_default(call_default_factory=True)
    if value is None or isinstance(value, SecretStr):
        return UNSET
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = _number(value)
    elif isinstance(value, tuple | list | frozenset | set):
        text = json.dumps(list(value))
    elif isinstance(value, Path):
        text = value.as_posix()
    else:
        text = str(value)
    return f"`{text}`" if text else '`""`'


def _number(value: object) -> str:
    """``3600`` rather than ``3600.0``; other values as Python writes them."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.configuration_doc",
        description="Print the configuration reference generated from gateway/settings.py.",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help=f"write it to {DOCUMENT.parent.name}/{DOCUMENT.name} instead of printing it",
    )
    arguments = parser.parse_args(argv)
    page = render()
    if arguments.write:
        DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
        DOCUMENT.write_text(page, encoding="utf-8")
        print(f"wrote {DOCUMENT}", file=sys.stderr)
    else:
        sys.stdout.write(page)


if __name__ == "__main__":
    main()
