"""The operation pipeline: one document, from request to result or refusal, for every transport.

HTTP (GET, POST, batches), WebSocket and SSE hand an ``OperationCall`` to
``OperationPipeline`` and turn its ``Outcome`` into their own framing; no transport parses,
limits, authorizes or executes anything itself.
"""
