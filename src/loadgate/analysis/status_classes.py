"""Expected versus unexpected responses: what a gateway test should and should not see.

Expected: 2xx and 3xx, and 4xx the script accepted (an intended 429, say).
Unexpected: every 5xx (even one a script accepted), status 0 (no response:
refused, reset, timed out) and every response recorded as a failure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

NO_RESPONSE = "0"


@dataclass(frozen=True, kw_only=True)
class StatusBreakdown:
    """Response counts by status, split into expected and unexpected."""

    expected: Mapping[str, int]
    unexpected: Mapping[str, int]

    @property
    def unexpected_total(self) -> int:
        return sum(self.unexpected.values())

    @property
    def expected_total(self) -> int:
        return sum(self.expected.values())


def is_server_error(status: str) -> bool:
    return status.startswith("5") and len(status) == 3


def status_breakdown(
    ok_status_counts: Mapping[str, int], failed_status_counts: Mapping[str, int]
) -> StatusBreakdown:
    """Split one endpoint's (or the total's) status counts into the two classes."""
    expected: Counter[str] = Counter()
    unexpected: Counter[str] = Counter(failed_status_counts)
    for status, count in ok_status_counts.items():
        if status == NO_RESPONSE or is_server_error(status):
            unexpected[status] += count
        else:
            expected[status] += count
    return StatusBreakdown(
        expected=dict(sorted(expected.items())), unexpected=dict(sorted(unexpected.items()))
    )


def status_class(status: str) -> str:
    """'2xx', '4xx', ... or 'no response' for status 0."""
    if status == NO_RESPONSE:
        return "no response"
    return f"{status[0]}xx"
