"""The Manifold service: settings, app factory, HTTP protocol, CLI."""
