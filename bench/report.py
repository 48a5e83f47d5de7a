"""Turning load results into the numbers the benchmark is for, as a table and as JSON.

Latency percentiles are wrk's, over every request of the measured window (warm-up excluded);
statements per request come from the server's own counter, so they are exact whatever the
client's overhead; peak RSS is the server process's high-water mark so far (``VmHWM``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.load import LoadResult
from bench.scenarios import UPSTREAMS

#: Statements (or upstream calls) per request may differ from the expectation by this much
#: before it is flagged (a pool pre-ping or a readiness probe landing inside the window adds a
#: fraction, and so does a content cache entry expiring during a long window).
STATEMENT_TOLERANCE = 0.05
#: Column headings for the upstream calls per request.
_UPSTREAM_HEADINGS = {"content": "content/req", "recommendations": "recs/req"}


@dataclass(frozen=True, slots=True)
class ScenarioReport:
    name: str
    description: str
    requests: int
    errors: int
    elapsed_seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    statements_per_request: float
    expected_statements: float
    #: Upstream REST calls per request, and the expectation, by upstream (every one of
    #: ``UPSTREAMS``).
    upstream_calls_per_request: dict[str, float]
    expected_upstream_calls: dict[str, float]
    #: Requests per second over the reference's, as measured.
    ratio_to_reference: float
    #: The reference's server CPU per request over this one's: the throughput ratio when the
    #: server's core is the only limit, which the shared machine may hide from the req/s.
    cpu_ratio_to_reference: float | None
    #: Server CPU per request in ms, and server and client CPU as a share of one core
    #: (``None`` where the platform does not expose another process's CPU time).
    server_cpu_ms_per_request: float | None
    server_cpu_share: float | None
    client_cpu_share: float
    #: The server's peak resident memory so far, in MiB (``None`` off Linux).
    peak_rss_mib: float | None = None
    error_samples: list[str] = field(default_factory=list)

    @property
    def statements_as_expected(self) -> bool:
        return abs(self.statements_per_request - self.expected_statements) <= STATEMENT_TOLERANCE

    def upstream_calls_as_expected(self, upstream: str) -> bool:
        measured = self.upstream_calls_per_request[upstream]
        return abs(measured - self.expected_upstream_calls[upstream]) <= STATEMENT_TOLERANCE


@dataclass(frozen=True, slots=True)
class RunReport:
    setup: dict[str, Any]
    scenarios: list[ScenarioReport]
    #: In-process cost per resolved field (``bench.inprocess`` rows), next to the floor.
    in_process: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "setup": self.setup,
            "in_process": self.in_process,
            "scenarios": [
                asdict(scenario)
                | {
                    "statements_as_expected": scenario.statements_as_expected,
                    "upstream_calls_as_expected": all(
                        scenario.upstream_calls_as_expected(upstream) for upstream in UPSTREAMS
                    ),
                }
                for scenario in self.scenarios
            ],
        }


def summarize(
    *,
    name: str,
    description: str,
    result: LoadResult,
    statements: float,
    expected_statements: float,
    upstream_calls: Mapping[str, float],
    expected_upstream_calls: Mapping[str, float],
    server_cpu_seconds: float | None,
    reference: ScenarioReport | None,
    peak_rss_mib: float | None = None,
) -> ScenarioReport:
    """One scenario's row; ``reference`` is ``None`` for the reference itself.

    ``statements`` and ``upstream_calls`` are the window's totals; an upstream missing from
    ``upstream_calls`` was not called, and one missing from the expectation should not be.
    """
    rps = result.requests / result.elapsed_seconds if result.elapsed_seconds > 0 else 0.0
    elapsed = result.elapsed_seconds or math.nan
    server_ms = server_share = None
    if server_cpu_seconds is not None:
        server_ms = server_cpu_seconds * 1000 / result.requests if result.requests else math.nan
        server_share = server_cpu_seconds / elapsed
    reference_rps = rps if reference is None else reference.requests_per_second
    reference_ms = server_ms if reference is None else reference.server_cpu_ms_per_request
    ratio = rps / reference_rps if reference_rps > 0 else math.nan
    cpu_ratio = None
    if reference_ms is not None and server_ms is not None:
        cpu_ratio = reference_ms / server_ms if server_ms > 0 else math.nan
    return ScenarioReport(
        name=name,
        description=description,
        requests=result.requests,
        errors=result.errors,
        elapsed_seconds=result.elapsed_seconds,
        requests_per_second=rps,
        p50_ms=result.p50_seconds * 1000,
        p99_ms=result.p99_seconds * 1000,
        statements_per_request=_per_request(statements, result.requests),
        expected_statements=expected_statements,
        upstream_calls_per_request={
            upstream: _per_request(upstream_calls.get(upstream, 0.0), result.requests)
            for upstream in UPSTREAMS
        },
        expected_upstream_calls={
            upstream: float(expected_upstream_calls.get(upstream, 0)) for upstream in UPSTREAMS
        },
        ratio_to_reference=ratio,
        cpu_ratio_to_reference=cpu_ratio,
        server_cpu_ms_per_request=server_ms,
        server_cpu_share=server_share,
        client_cpu_share=result.client_cpu_seconds / elapsed,
        peak_rss_mib=peak_rss_mib,
        error_samples=list(result.error_samples),
    )


def _per_request(total: float, requests: int) -> float:
    return total / requests if requests else math.nan


_COLUMNS = (
    "scenario", "requests", "req/s", "p50 ms", "p99 ms", "errors", "SQL/req",
    *(_UPSTREAM_HEADINGS.get(upstream, f"{upstream}/req") for upstream in UPSTREAMS),
    "srv CPU ms/req", "srv CPU", "wrk CPU", "peak RSS MiB", "vs ref", "vs ref by CPU",
)  # fmt: skip
#: Above this share of one core the load generator, not the server, may set the pace.
CLIENT_BOUND_SHARE = 0.9


def _optional(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _measured(value: float, expected: float, as_expected: bool) -> str:
    return f"{value:.2f}" + ("" if as_expected else f" (!{expected:g})")


def _row(scenario: ScenarioReport) -> tuple[str, ...]:
    return (
        scenario.name,
        f"{scenario.requests:,}",
        f"{scenario.requests_per_second:,.0f}",
        f"{scenario.p50_ms:.1f}",
        f"{scenario.p99_ms:.1f}",
        f"{scenario.errors:,}",
        _measured(
            scenario.statements_per_request,
            scenario.expected_statements,
            scenario.statements_as_expected,
        ),
        *(
            _measured(
                scenario.upstream_calls_per_request[upstream],
                scenario.expected_upstream_calls[upstream],
                scenario.upstream_calls_as_expected(upstream),
            )
            for upstream in UPSTREAMS
        ),
        _optional(scenario.server_cpu_ms_per_request, ".2f"),
        _optional(scenario.server_cpu_share, ".0%"),
        f"{scenario.client_cpu_share:.0%}",
        _optional(scenario.peak_rss_mib, ".0f"),
        f"{scenario.ratio_to_reference:.3f}",
        _optional(scenario.cpu_ratio_to_reference, ".3f"),
    )


def render(report: RunReport) -> str:
    """The report as plain text: the setup, a table, then whatever needs a closer look."""
    lines = ["Manifold benchmark", ""]
    width = max(len(key) for key in report.setup)
    lines += [f"  {key.ljust(width)}  {value}" for key, value in report.setup.items()]
    lines.append("")

    rows = [_COLUMNS, *(_row(scenario) for scenario in report.scenarios)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  " + "  ".join(cells))
        if index == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    lines.append("")

    reference = report.scenarios[0].name if report.scenarios else "reference"
    for scenario in report.scenarios[1:]:
        by_cpu = scenario.cpu_ratio_to_reference
        lines.append(
            f"  {scenario.name}: {scenario.ratio_to_reference:.1%} of {reference} req/s"
            + ("" if by_cpu is None else f", {by_cpu:.1%} by server CPU per request")
            + f" - {scenario.description}"
        )
    for scenario in report.scenarios:
        if not scenario.statements_as_expected:
            lines.append(
                f"  ! {scenario.name}: {scenario.statements_per_request:.2f} SQL statements per"
                f" request, expected {scenario.expected_statements:g}"
            )
        for upstream in UPSTREAMS:
            if not scenario.upstream_calls_as_expected(upstream):
                lines.append(
                    f"  ! {scenario.name}: {scenario.upstream_calls_per_request[upstream]:.2f}"
                    f" {upstream} calls per request, expected"
                    f" {scenario.expected_upstream_calls[upstream]:g}"
                )
        if scenario.client_cpu_share >= CLIENT_BOUND_SHARE:
            lines.append(
                f"  ! {scenario.name}: the load generator used {scenario.client_cpu_share:.0%} of"
                " a core, so this req/s is partly the client's limit, not the server's"
            )
        for sample in scenario.error_samples:
            lines.append(f"  ! {scenario.name} error: {sample}")
    if report.in_process:
        lines += ["", *_in_process_table(report.in_process)]
    return "\n".join(lines)


def _in_process_table(rows: list[dict[str, Any]]) -> list[str]:
    """CPU per resolved field, in this process, without HTTP: the execution engine's cost."""
    lines = [
        "  In-process (no HTTP, no token check; median of many runs):",
        "",
        "  query  variant                       fields  CPU ms/exec  µs/field  x floor",
        "  -----  ----------------------------  ------  -----------  --------  -------",
    ]
    floors = {row["query"]: row["cpu_us_per_field"] for row in rows if "floor" in row["variant"]}
    for row in rows:
        floor = floors.get(row["query"])
        times = f"{row['cpu_us_per_field'] / floor:.2f}" if floor else "-"
        lines.append(
            f"  {row['query']:<5}  {row['variant']:<28}  {row['fields']:>6}  "
            f"{row['cpu_ms']:>11.3f}  {row['cpu_us_per_field']:>8.3f}  {times:>7}"
        )
    return lines
