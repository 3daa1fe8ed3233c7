"""The course's late-submission policy as an nbgrader :class:`LateSubmissionPlugin`.

Policy, for a submission ``total_seconds_late`` after its due date (extensions included, as
nbgrader computes it):

* up to ``grace_minutes`` late (inclusive): no penalty;
* otherwise the submission is late by ``ceil(total_seconds_late / 86400)`` *started* days,
  counted from the due date (the grace period waives a small delay, it does not move the
  deadline): 1 s after the grace period is day 1, 1 day + 1 s is day 2;
* each started day costs ``percent_per_day`` percent of the maximum score;
* more than ``max_days`` started days: the score becomes 0 (the penalty is the whole score);
* the penalty is never more than the score obtained, so a score never goes below 0.

nbgrader's ``AssignLatePenalties`` preprocessor (part of ``nbgrader autograde``) calls the
plugin once per submitted notebook with that notebook's score; the plugin reads the
notebook's maximum score from the gradebook the preprocessor has open. With one notebook
per assignment (as in this course) that is the assignment's maximum score; with several,
each notebook loses the same percentage of its own maximum, which sums to that percentage of
the assignment's maximum.

Wiring, in ``nbgrader_config.py``::

    c.AssignLatePenalties.plugin_class = "coursekit.plugins.late.CoursePolicyLatePenalty"
    c.CoursePolicyLatePenalty.grace_minutes = 15
    c.CoursePolicyLatePenalty.percent_per_day = 10
    c.CoursePolicyLatePenalty.max_days = 5
"""

from __future__ import annotations

import datetime
import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float, Int

__all__ = ["SECONDS_PER_DAY", "CoursePolicyLatePenalty"]

SECONDS_PER_DAY = 24 * 60 * 60


class CoursePolicyLatePenalty(LateSubmissionPlugin):
    """Grace period, then a fixed percentage of the maximum score per started day late, then 0."""

    grace_minutes = Float(
        15.0,
        min=0.0,
        help="Minutes after the due date during which a submission gets no penalty.",
    ).tag(config=True)

    percent_per_day = Float(
        10.0,
        min=0.0,
        max=100.0,
        help="Penalty per started day late, in percent of the maximum score.",
    ).tag(config=True)

    max_days = Int(
        5,
        min=0,
        help="Started days late that are still graded; later submissions score 0.",
    ).tag(config=True)

    def days_late(self, total_seconds_late: float) -> int:
        """Started days late (0 inside the grace period), counted from the due date."""
        seconds = float(total_seconds_late or 0.0)
        if seconds <= self.grace_minutes * 60:
            return 0
        return math.ceil(seconds / SECONDS_PER_DAY)

    def window(self) -> datetime.timedelta:
        """How long after the due date a submission can still earn points: the grace period
        plus ``max_days`` days (days count from the due date, so this bound is up to
        ``grace_minutes`` generous). Solutions are published only after it."""
        return datetime.timedelta(minutes=self.grace_minutes, days=self.max_days)

    def penalty_for(self, score: float, max_score: float, total_seconds_late: float) -> float:
        """Points to subtract from ``score`` (out of ``max_score``) under this policy."""
        score = max(0.0, float(score or 0.0))
        days = self.days_late(total_seconds_late)
        if days == 0:
            return 0.0
        if days > self.max_days:
            return score
        penalty = float(max_score) * self.percent_per_day * days / 100.0
        # Rounded so float noise (0.30000000000000004) never reaches the gradebook.
        return min(score, round(penalty, 6))

    def max_score_in_context(self) -> float:
        """The maximum score of the notebook that nbgrader is assigning a penalty to.

        Read from the ``AssignLatePenalties`` preprocessor that created this plugin (its
        ``gradebook``, ``notebook_id`` and ``assignment_id``); outside that context there is
        nothing to read, and :class:`RuntimeError` says so.
        """
        parent = self.parent
        gradebook = getattr(parent, "gradebook", None)
        notebook_id = getattr(parent, "notebook_id", None)
        assignment_id = getattr(parent, "assignment_id", None)
        if gradebook is None or notebook_id is None or assignment_id is None:
            raise RuntimeError(
                "CoursePolicyLatePenalty needs the maximum score: call it from nbgrader's "
                "AssignLatePenalties (autograde) or pass max_score explicitly"
            )
        return float(gradebook.find_notebook(notebook_id, assignment_id).max_score or 0.0)

    def late_submission_penalty(
        self,
        student_id: str,
        score: float,
        total_seconds_late: float,
        max_score: float | None = None,
    ) -> float:
        """The points to subtract from ``score`` (``0 <= penalty <= score``).

        nbgrader passes the first three arguments; ``max_score`` defaults to the maximum
        score of the notebook being graded (see :meth:`max_score_in_context`).
        """
        days = self.days_late(total_seconds_late)
        if days == 0:
            return 0.0
        if max_score is None and days <= self.max_days:
            max_score = self.max_score_in_context()
        penalty = self.penalty_for(score, max_score or 0.0, total_seconds_late)
        self.log.info(
            "Late penalty for %s: %.0f s late = %d started day(s) -> %s of %s point(s)",
            student_id,
            total_seconds_late,
            days,
            penalty,
            score,
        )
        return penalty
