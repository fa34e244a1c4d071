"""Command-line values the APIs want in another shape."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import click

_RELATIVE = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def since_iso(value: str, now: datetime) -> str:
    """'90m', '2h', '7d' (that long before `now`) or an ISO 8601 time (no zone = UTC) → ISO 8601 in UTC."""
    relative = _RELATIVE.match(value.strip())
    if relative:
        moment = now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    else:
        moment = datetime.fromisoformat(value.strip())
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


class Since(click.ParamType):
    name = "TIME"

    def convert(self, value, param, ctx) -> str:
        try:
            return since_iso(value, datetime.now(UTC))
        except ValueError:
            self.fail(f"{value!r} is neither a duration like 2h, 30m, 7d nor an ISO 8601 time.", param, ctx)
