"""What the operator sees: log lines with request ids, credentials redacted, Prometheus metrics."""
