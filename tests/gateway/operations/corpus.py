"""Random valid GraphQL documents over the real schema, for comparing execution paths.

Each document is built from the schema itself: random selections of every field an object
type has, aliases, named and inline fragments (with and without type conditions, on the Node
interface too), ``@skip``/``@include`` with literals and variables, variables for arguments,
``__typename``, and arguments that are sometimes wrong on purpose (``first: 0``, a malformed
cursor or id) so error paths are compared as well as data. Documents that do not validate are
thrown away; the generator is seeded, so a failure reproduces.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
)


def global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


@dataclass
class Known:
    """Ids and values that exist in the test's data, so lookups find something."""

    user_ids: list[int]
    order_ids: list[int]
    content_ids: list[int]
    slugs: list[str]
    tags: list[str]

    def ids_of(self, type_name: str) -> list[str]:
        pks = {"User": self.user_ids, "Order": self.order_ids, "Content": self.content_ids}
        return [global_id(type_name, pk) for pk in pks.get(type_name, [])]


@dataclass
class _Builder:
    schema: GraphQLSchema
    known: Known
    rng: random.Random
    max_depth: int
    variables: dict[str, Any] = field(default_factory=dict)
    definitions: list[str] = field(default_factory=list)
    fragments: list[str] = field(default_factory=list)
    aliases: int = 0

    def variable(self, graphql_type: str, value: Any) -> str:
        name = f"v{len(self.variables)}"
        self.variables[name] = value
        self.definitions.append(f"${name}: {graphql_type}")
        return f"${name}"

    def directive(self) -> str:
        roll = self.rng.random()
        if roll < 0.8:
            return ""
        which = self.rng.choice(["include", "skip"])
        if roll < 0.9:
            return f" @{which}(if: {self.rng.choice(['true', 'false'])})"
        return f" @{which}(if: {self.variable('Boolean!', self.rng.random() < 0.5)})"

    def alias(self) -> str:
        if self.aliases < 10 and self.rng.random() < 0.15:
            self.aliases += 1
            return f"a{self.aliases}: "
        return ""

    def argument_value(self, name: str, graphql_type: Any) -> str | None:
        named = get_named_type(graphql_type)
        required = isinstance(graphql_type, GraphQLNonNull)
        rng = self.rng
        if name == "first":
            value = rng.choice([1, 2, 3, None, None, 0])
            if value is None:
                return None
            return self.variable("Int", value) if rng.random() < 0.3 else str(value)
        if name == "after":
            return None if rng.random() < 0.9 else '"not-a-cursor"'
        if name in ("id", "ids"):
            return None if name == "id" and not required and rng.random() < 0.5 else self.ids()
        if name == "slug":
            return None
        if name == "tag":
            return None if rng.random() < 0.7 else f'"{rng.choice(self.known.tags)}"'
        if isinstance(named, GraphQLEnumType):
            if not required and rng.random() < 0.6:
                return None
            value = rng.choice(list(named.values))
            return self.variable(named.name, value) if rng.random() < 0.3 else value
        return None

    def ids(self) -> str:
        pool = self.known.ids_of("User") + self.known.ids_of("Order") + self.known.ids_of("Content")
        choice = self.rng.random()
        if choice < 0.08:
            return '"not base64 at all"'
        if choice < 0.12:
            return f'"{global_id("Nothing", 1)}"'
        return f'"{self.rng.choice(pool)}"'

    def arguments(self, name: str, definition: GraphQLField) -> str | None:
        """The argument list for a field, or None when it cannot be asked for here."""
        parts: list[str] = []
        if name == "content":
            if self.rng.random() < 0.5 and self.known.slugs:
                return f'(slug: "{self.rng.choice(self.known.slugs)}")'
            return f'(id: "{global_id("Content", self.rng.choice(self.known.content_ids))}")'
        for argument_name, argument in definition.args.items():
            if argument_name == "ids":
                ids = ", ".join(self.ids() for _ in range(self.rng.randint(1, 3)))
                parts.append(f"ids: [{ids}]")
                continue
            if argument_name == "id" and name in ("user", "order", "node"):
                type_name = {"user": "User", "order": "Order"}.get(name)
                pool = self.known.ids_of(type_name) if type_name else []
                value = (
                    f'"{self.rng.choice(pool)}"'
                    if pool and self.rng.random() < 0.85
                    else self.ids()
                )
                parts.append(f"id: {value}")
                continue
            written = self.argument_value(argument_name, argument.type)
            if written is None:
                if isinstance(argument.type, GraphQLNonNull) and argument.default_value is None:
                    return None
                continue
            parts.append(f"{argument_name}: {written}")
        return f"({', '.join(parts)})" if parts else ""

    def selection(self, object_type: Any, depth: int) -> str:
        """A non-empty selection set of ``object_type``."""
        items: list[str] = []
        fields = list(object_type.fields.items())
        self.rng.shuffle(fields)
        wanted = self.rng.randint(1, min(4, len(fields)))
        for name, definition in fields:
            if len(items) >= wanted:
                break
            text = self.field(name, definition, depth)
            if text:
                items.append(text)
        if not items:
            items.append("__typename")
        if self.rng.random() < 0.2:
            items.append("__typename")
        if self.rng.random() < 0.15:
            items.append(self.fragment(object_type, depth))
        implements_node = isinstance(object_type, GraphQLInterfaceType) or object_type.interfaces
        if implements_node and self.rng.random() < 0.4:
            items.append(self.inline_on_implementations(object_type, depth))
        return "{ " + " ".join(items) + " }"

    def field(self, name: str, definition: GraphQLField, depth: int) -> str:
        named = get_named_type(definition.type)
        arguments = self.arguments(name, definition)
        if arguments is None:
            return ""
        head = f"{self.alias()}{name}{arguments}{self.directive()}"
        if is_leaf_type(named):
            return head
        if depth >= self.max_depth:
            return ""
        return f"{head} {self.selection(named, depth + 1)}"

    def fragment(self, object_type: Any, depth: int) -> str:
        if self.rng.random() < 0.5 or depth >= self.max_depth:
            return f"... {self.selection(object_type, depth)}"
        name = f"F{len(self.fragments)}"
        self.fragments.append(
            f"fragment {name} on {object_type.name} {self.selection(object_type, depth + 1)}"
        )
        return f"...{name}{self.directive()}"

    def inline_on_implementations(self, object_type: Any, depth: int) -> str:
        candidates = self.schema.get_possible_types(
            self.schema.get_type("Node")  # type: ignore[arg-type]
        )
        target = self.rng.choice(list(candidates))
        return f"... on {target.name} {self.selection(target, depth + 1)}"


def generate(
    schema: GraphQLSchema, known: Known, *, count: int, seed: int = 1, max_depth: int = 5
) -> list[tuple[str, dict[str, Any]]]:
    """``count`` valid query documents with their variables."""
    rng = random.Random(seed)
    query_type = schema.query_type
    assert isinstance(query_type, GraphQLObjectType)
    documents: list[tuple[str, dict[str, Any]]] = []
    attempts = 0
    while len(documents) < count:
        attempts += 1
        assert attempts < count * 20, "the generator makes too few valid documents"
        builder = _Builder(schema, known, rng, rng.randint(2, max_depth))
        selection = builder.selection(query_type, 1)
        header = f"({', '.join(builder.definitions)})" if builder.definitions else ""
        text = " ".join([f"query Q{header} {selection}", *builder.fragments])
        try:
            document = parse(text)
        except Exception:
            continue
        if validate(schema, document):
            continue
        documents.append((text, builder.variables))
    return documents


__all__ = ["GraphQLList", "Known", "generate", "global_id"]
