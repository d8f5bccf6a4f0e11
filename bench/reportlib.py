"""Helpers shared by the bench's report writers (run-matrix.sh's inline report, browser/report.py)."""


def g(r, *path, default=None):
    """r[path[0]][path[1]]... or default where a level is missing."""
    for p in path:
        if not isinstance(r, dict) or p not in r:
            return default
        r = r[p]
    return r


def f(x, fmt="{:,.0f}"):
    """A number for a markdown table; '-' when not measured."""
    return "-" if x is None else fmt.format(x)
