"""Percentiles and small summaries, computed the same way for every figure of the benchmark."""

import math


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `share` of the values at or below it.

    Nearest rank, not interpolation: a p99.9 of 500 samples is then the largest one, which is the
    honest answer for so few samples."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def latency_summary(values_ms: list[float]) -> dict[str, float | int | None]:
    """p50/p90/p99/p99.9 and the max of latencies in milliseconds, with the sample count."""

    def rounded(x):
        return None if x is None else round(x, 1)

    return {
        "n": len(values_ms),
        "p50": rounded(percentile(values_ms, 0.50)),
        "p90": rounded(percentile(values_ms, 0.90)),
        "p99": rounded(percentile(values_ms, 0.99)),
        "p99_9": rounded(percentile(values_ms, 0.999)),
        "max": rounded(max(values_ms)) if values_ms else None,
    }


def ratio(value: float | None, ceiling: float | None, digits: int = 3) -> float | None:
    if value is None or not ceiling:
        return None
    return round(value / ceiling, digits)


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (t, y) points: how fast a backlog grows, per second."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    return sum((t - mean_t) * (y - mean_y) for t, y in points) / var
