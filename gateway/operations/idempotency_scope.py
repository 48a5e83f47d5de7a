"""A pipeline step: an ``Idempotency-Key`` header names one request, so it may cover one keyed
mutation.

Mutations run one after another. With the header's key applying to every keyed mutation of a
document, ``a: placeOrder(…) b: placeOrder(…)`` would place (and charge) ``a`` under the key,
then refuse ``b`` for reusing it with another input, and every retry would replay that
refusal: a charge the client can never see. So a document with more than one keyed mutation
and a header key is refused before anything runs; each may still carry its own
``input.idempotencyKey``.

Which mutations are keyed is read off the schema (those whose ``input`` has an
``idempotencyKey`` field), so a new keyed mutation is covered without a list to keep.
"""

from __future__ import annotations

from graphql import GraphQLInputObjectType, GraphQLSchema, OperationType, get_named_type

from contract.errors import ErrorCode
from gateway.operations.analysis import OperationAnalysis
from gateway.operations.refusal import Refused

__all__ = ["check_header_key_scope", "keyed_mutations"]

KEY_FIELD = "idempotencyKey"


def keyed_mutations(schema: GraphQLSchema) -> frozenset[str]:
    """The mutation fields that take an idempotency key in their input."""
    mutation = schema.mutation_type
    if mutation is None:
        return frozenset()
    keyed: set[str] = set()
    for name, field in mutation.fields.items():
        argument = field.args.get("input")
        input_type = None if argument is None else get_named_type(argument.type)
        if isinstance(input_type, GraphQLInputObjectType) and KEY_FIELD in input_type.fields:
            keyed.add(name)
    return frozenset(keyed)


def check_header_key_scope(
    operation: OperationAnalysis, keyed: frozenset[str], header_key: str | None
) -> None:
    """Refuse a header key over more than one keyed mutation, before anything runs."""
    if header_key is None or operation.kind is not OperationType.MUTATION:
        return
    if operation.executions_of(keyed) > 1:
        raise Refused.because(
            400,
            ErrorCode.BAD_USER_INPUT,
            "An Idempotency-Key header covers one keyed mutation per request: send the others"
            f" in requests of their own, or give each its own input.{KEY_FIELD}.",
        )
