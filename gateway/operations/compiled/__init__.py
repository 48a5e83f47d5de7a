"""The compiled execution path: a plan built once per validated document, run per request.

``plan`` works out once what graphql-core's executor works out for every field of every
request; ``executor`` runs it with graphql-core's completion rules and Strawberry's own
resolvers, so an answer is byte for byte the interpreted path's (``tests/gateway/operations/
test_compiled_differential.py`` holds it to that). A document the plan does not support
(mutations, subscriptions, introspection, ``@defer``) raises ``Unsupported`` when it is
compiled, and the pipeline runs it interpreted.
"""

from gateway.operations.compiled.executor import Execution
from gateway.operations.compiled.plan import OperationPlan, Unsupported

__all__ = ["Execution", "OperationPlan", "Unsupported"]
