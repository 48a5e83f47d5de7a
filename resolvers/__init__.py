"""Use cases per domain: plain async functions over loaders and the principal, no GraphQL."""
