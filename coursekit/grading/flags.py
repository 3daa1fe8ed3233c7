"""What needs a human, kept until a human clears it: `gradebook/flags-<assignment>.csv`.

One row per flag: the student, the flag in words, the submission it was raised on (a short
digest of what the student handed in), when it was raised and, once a person has looked,
who cleared it and when. Grading merges each run into the file instead of rewriting it:

- a student graded again with the same submission keeps every row (a cleared flag stays
  cleared; a flag raised again is not repeated);
- a student whose submission changed loses the rows of the old submission;
- "grading failed" and "not on the roster" describe a run, not a submission: they are
  replaced each time the student is considered;
- students the run did not touch keep their rows as they are.

A person clears a student's flags with `coursekit flags ASSIGNMENT --clear STUDENT` (or by
writing their name in the `cleared` column).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, fields, replace
from pathlib import Path

FAILED = "grading failed: "
NOT_ON_ROSTER = "not on the roster"
TRANSIENT = (FAILED, NOT_ON_ROSTER)


@dataclass(frozen=True)
class Flag:
    student: str
    assignment: str
    flag: str
    submission: str = ""  # short digest of the submission it was raised on
    raised: str = ""  # UTC, to the second
    cleared: str = ""  # who cleared it and when; empty while open

    @property
    def open(self) -> bool:
        return not self.cleared.strip()


FIELDS = [f.name for f in fields(Flag)]


def short(fingerprint: str) -> str:
    return fingerprint[:12]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def load(path: Path) -> list[Flag]:
    """The flags in the file (none when it does not exist); missing columns read as empty."""
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return [Flag(**{k: (row.get(k) or "") for k in FIELDS}) for row in csv.DictReader(f)]


def save(path: Path, flags: list[Flag]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        for flag in sorted(flags, key=lambda x: (x.student, x.raised)):  # stable: run order
            writer.writerow({k: getattr(flag, k) for k in FIELDS})
    return path


def merge(
    existing: list[Flag],
    assignment: str,
    seen: dict[str, str],
    raised: dict[str, list[str]],
    now: str | None = None,
) -> list[Flag]:
    """The flags after a run that considered the students in `seen` (student -> submission
    fingerprint) and raised `raised` (student -> flags in words)."""
    now = now or _now()
    kept = []
    for flag in existing:
        if flag.student in seen and (
            flag.submission != short(seen[flag.student]) or flag.flag.startswith(TRANSIENT)
        ):
            continue
        kept.append(flag)
    have = {(f.student, f.flag, f.submission) for f in kept}
    for student, texts in raised.items():
        submission = short(seen.get(student, ""))
        for text in dict.fromkeys(texts):
            if (student, text, submission) not in have:
                kept.append(Flag(student, assignment, text, submission, now))
                have.add((student, text, submission))
    return kept


def clear(flags: list[Flag], student: str, who: str, now: str | None = None) -> tuple[list, int]:
    """Mark the student's open flags cleared by `who`; (the flags, how many were cleared)."""
    stamp = f"{who}, {now or _now()}"
    out, count = [], 0
    for flag in flags:
        if flag.student == student and flag.open:
            flag, count = replace(flag, cleared=stamp), count + 1
        out.append(flag)
    return out, count


def open_by_student(flags: list[Flag]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for flag in flags:
        if flag.open:
            found.setdefault(flag.student, []).append(flag.flag)
    return found
