"""Per-process limits of the streaming transports, without a socket."""

from __future__ import annotations

from auth.principal import Principal, PrincipalKind
from gateway.subscriptions.limits import Occupancy, TokenBucket, principal_key


def test_a_burst_is_allowed_then_refused():
    bucket = TokenBucket(rate=1.0, burst=3)
    assert [bucket.take(now=bucket._last) for _ in range(4)] == [True, True, True, False]


def test_the_bucket_refills_at_its_rate():
    bucket = TokenBucket(rate=10.0, burst=1)
    start = bucket._last
    assert bucket.take(now=start)
    assert not bucket.take(now=start + 0.05)
    assert bucket.take(now=start + 0.2)


def test_connections_stop_at_the_maximum_and_free_on_close():
    occupancy = Occupancy(max_connections=1, max_per_principal=5)
    assert occupancy.open_connection()
    assert not occupancy.open_connection()
    occupancy.close_connection()
    assert occupancy.open_connection()


def test_subscriptions_are_counted_per_principal():
    occupancy = Occupancy(max_connections=10, max_per_principal=2)
    assert occupancy.add_subscription("user:a")
    assert occupancy.add_subscription("user:a")
    assert not occupancy.add_subscription("user:a")
    assert occupancy.add_subscription("user:b")
    occupancy.remove_subscription("user:a")
    assert occupancy.add_subscription("user:a")
    assert occupancy.subscriptions == 3


def test_anonymous_callers_are_counted_by_address():
    anonymous = Principal.anonymous()
    assert principal_key(anonymous, "203.0.113.7") == "anonymous:203.0.113.7"
    user = Principal(kind=PrincipalKind.USER, subject="s-1")
    assert principal_key(user, "203.0.113.7") == "user:s-1"
