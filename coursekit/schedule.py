"""The semester's schedule: when each module is released and when it is due (`schedule.toml`).

One file at the course root, one table per module, read through `Course.schedule`:

    timezone = "Europe/London"      # for times written without an offset (default UTC)

    [01_tensor]
    release = 2027-01-18T09:00:00   # `make release-assignment` refuses before this
    due = 2027-01-25T23:59:00       # grading's late penalties count from this
    canvas = 123456                 # the Canvas assignment id, for `make export`

Who reads it: `coursekit release-assignment` (not before `release`, never without `due`),
every grading command (the gradebook's due date is set from `due`, and nbgrader's late
penalties count from it), `coursekit release-solutions` (not before the late window after
`due` has closed) and `coursekit export` (the Canvas column ids). `coursekit schedule` prints
it. Loading it reads one file and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SCHEDULE_FILE = "schedule.toml"
KEYS = ("release", "due", "canvas")
UTC = dt.UTC


class ScheduleError(ValueError):
    """schedule.toml says something that cannot be right; the message names the entry."""


class Refused(ValueError):
    """An action the schedule says is too early (or undated); the message says why and how
    to force it."""


@dataclass(frozen=True)
class Dates:
    """One module's entry (every field None when the schedule does not mention it)."""

    assignment: str
    release: dt.datetime | None = None  # aware, UTC
    due: dt.datetime | None = None  # aware, UTC
    canvas: str | None = None  # the Canvas assignment id

    def released(self, now: dt.datetime) -> bool:
        """True when the release date has passed (a module without one is never due out)."""
        return self.release is not None and self.release <= now


@dataclass(frozen=True)
class Schedule:
    path: Path
    timezone: str = "UTC"
    entries: dict[str, Dates] = field(default_factory=dict)

    def __getitem__(self, assignment: str) -> Dates:
        return self.entries.get(assignment, Dates(assignment))

    def exists(self) -> bool:
        return self.path.is_file()

    def local(self, moment: dt.datetime | None) -> str:
        """A time as the schedule's readers expect it: in its timezone, to the minute."""
        if moment is None:
            return "-"
        shown = moment.astimezone(ZoneInfo(self.timezone))
        return shown.strftime("%Y-%m-%d %H:%M ") + (shown.tzname() or self.timezone)

    def problems(self, assignments: list[str]) -> list[str]:
        """What looks wrong for a course with these assignments (none of it stops anything)."""
        found = [
            f"{name}: in {self.path.name}, but the course has no such module"
            for name in self.entries
            if name not in assignments
        ]
        for name in assignments:
            dates = self[name]
            if dates.due is None:
                found.append(
                    f"{name}: no due date, so no late penalties and no solutions "
                    f"(add `due = ...` under [{name}] in {self.path.name})"
                )
        return found


def _moment(value, zone: ZoneInfo, where: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return aware.astimezone(UTC)
    if isinstance(value, dt.date):
        raise ScheduleError(f"{where}: {value} has no time of day; write {value}T23:59:00")
    raise ScheduleError(f"{where}: {value!r} is not a date and time (2027-01-25T23:59:00)")


def parse(text: str, path: Path) -> Schedule:
    """A schedule from TOML text; ScheduleError names the first entry that is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScheduleError(f"{path}: not valid TOML: {err}") from err
    zone_name = data.pop("timezone", "UTC")
    try:
        zone = ZoneInfo(str(zone_name))
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ScheduleError(f"{path}: unknown timezone {zone_name!r}") from err
    entries = {}
    for name, entry in data.items():
        where = f"{path.name} [{name}]"
        if not isinstance(entry, dict):
            raise ScheduleError(f"{path.name}: {name} = ... must be a table: [{name}]")
        unknown = sorted(set(entry) - set(KEYS))
        if unknown:
            raise ScheduleError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {KEYS}")
        release = _moment(entry["release"], zone, where) if "release" in entry else None
        due = _moment(entry["due"], zone, where) if "due" in entry else None
        if release and due and due < release:
            raise ScheduleError(f"{where}: due {due:%Y-%m-%d %H:%M} is before its release")
        canvas = str(entry["canvas"]).strip() if "canvas" in entry else None
        entries[name] = Dates(name, release, due, canvas or None)
    return Schedule(path, str(zone_name), entries)


def load(root: Path) -> Schedule:
    """The course's schedule; an empty one when the file does not exist."""
    path = Path(root) / SCHEDULE_FILE
    if not path.is_file():
        return Schedule(path)
    return parse(path.read_text(encoding="utf-8"), path)


def dump(entries: dict[str, dict], timezone: str = "UTC") -> str:
    """TOML text for a schedule (used by the demo and the tests to write one)."""
    lines = [f'timezone = "{timezone}"', ""]
    for name, values in entries.items():
        lines.append(f"[{name}]")
        for key, value in values.items():
            if isinstance(value, dt.datetime):
                value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            else:
                value = f'"{value}"' if key == "canvas" else value
            lines.append(f"{key} = {value}")
        lines.append("")
    return "\n".join(lines)
