"""The Manifold service, in subpackages by concern.

``runtime`` opens what a process holds (database, cache, upstreams, identity) in the lifespan;
``http`` is the HTTP transport; ``operations`` is the transport-neutral pipeline every transport
hands its operations to; ``demand`` prices and charges them; ``observability`` logs and counts;
``cli`` is the ``gateway`` command. ``app.py`` composes them into one Starlette app.
"""
