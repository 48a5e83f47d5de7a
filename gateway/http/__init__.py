"""The HTTP transport: everything before and after a GraphQL operation that only HTTP has
(request bodies, media types, CSRF, cache headers, request ids, health endpoints)."""
