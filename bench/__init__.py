"""The benchmark: one gateway worker, measured against its own plain-JSON endpoint.

Absolute requests per second depend on the machine; the ratio of a GraphQL query's throughput
to ``/healthz`` on the same server, in the same run, mostly does not, and the SQL statements
per request must not depend on anything but the query. Those are the numbers to compare.
Run it with ``python -m bench`` (or ``make bench``).
"""
