"""The course's nbgrader configuration: settings only.

Loading this file changes nothing on disk or in the environment: the grading code makes what
must exist when it starts (coursekit.plugins.preprocessors.PrepareSandbox). Every path is
resolved from this file's location, so a clone, a scratch copy made by the tests, or the
demo's copy each grade inside their own folder. The tooling reads these settings through
`coursekit.course.Course`; the class paths below are the course's nbgrader extensions:

    coursekit.plugins.preprocessors   autograde steps (sandbox, ungraded tail, outputs)
    coursekit.plugins.feedback        feedback without hidden tests
    coursekit.plugins.late            the late policy
    coursekit.plugins.exporters       Canvas, Moodle and plain CSV grade exports
    coursekit.grading.sandbox         the contained kernel (`c.Sandbox` limits)
"""

import hashlib
import os

c = get_config()  # noqa: F821  (provided by nbgrader's config loader)

ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "tinytorch"
c.CourseDirectory.root = ROOT
# One grader process: SQLite is right. Several graders at once want PostgreSQL here.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, "gradebook", "gradebook.db")
# Local exchange (single machine). On JupyterHub set TINYTORCH_EXCHANGE to the shared
# exchange folder, usually /srv/nbgrader/exchange.
c.Exchange.root = os.environ.get("TINYTORCH_EXCHANGE", os.path.join(ROOT, "exchange"))

# What nbgrader puts where a solution region was.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Grading: a cell gets this long before it is interrupted and marked as timed out. The
# heaviest module's solution cells run well under it; a student's infinite loop costs this.
c.Execute.timeout = 120
# A library warning on stderr would zero a correct test cell (docs/nbgrader-notes.md), so
# the grading kernel ignores warnings. Students still see them while they work.
c.Execute.extra_arguments = [
    "--HistoryManager.hist_file=:memory:",
    "--IPKernelApp.exec_lines=['import warnings', 'warnings.simplefilter(\"ignore\")']",
]

# Containment: every grading kernel runs in coursekit.grading.sandbox (namespaces without
# network, the course's secrets and the graded module's reference hidden, an unprivileged
# user, these limits). TINYTORCH_UNCONTAINED=1 grades without it (trusted code only).
c.Sandbox.memory_mb = 4096  # address space; a memory bomb gets MemoryError
c.Sandbox.cpu_seconds = 900  # CPU time for the whole notebook
c.Sandbox.processes = 256  # processes and threads of the kernel's user; stops a fork bomb
c.Sandbox.file_mb = 256  # largest file the student's code may write
c.Sandbox.tmp_mb = 256  # private /tmp
if os.environ.get("TINYTORCH_UNCONTAINED") != "1":
    c.Execute.kernel_name = "tinytorch-sandbox"
    c.KernelManager.transport = "ipc"
    # Kernel sockets: a short folder (a Unix socket path has at most 107 bytes) outside the
    # course, one per course; the socket name carries the grading process's id.
    sockets = "/tmp/tinytorch-grading-" + hashlib.sha256(ROOT.encode()).hexdigest()[:12]
    c.KernelManager.ip = os.path.join(sockets, f"kernel-{os.getpid()}")
    # Each student's kernel is a new contained process, pre-started while the previous
    # notebook runs (coursekit/grading/standby.py); killed once the notebook has run.
    c.Execute.kernel_manager_class = "coursekit.grading.standby.StandbyKernelManager"
    c.Execute.shutdown_kernel = "immediate"

# nbgrader's autograde steps, plus the course's (coursekit/plugins/preprocessors.py): the
# sandbox is prepared, cells after the last test (systems measurements) are not run while
# grading, test cells' displayed values (read as partial credit) are dropped, huge outputs
# are capped, and suspicious code marks the notebook for manual review.
c.Autograde.autograde_preprocessors = [
    "coursekit.plugins.preprocessors.PrepareSandbox",
    "coursekit.plugins.preprocessors.SkipUngradedTail",
    "nbgrader.preprocessors.Execute",
    "coursekit.plugins.preprocessors.DropResults",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "coursekit.plugins.preprocessors.TruncateOutputs",
    "nbgrader.preprocessors.SaveAutoGrades",
    "coursekit.plugins.preprocessors.FlagForReview",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# A student who deletes a test cell does not escape it: autograde puts it back.
c.OverwriteCells.add_missing_cells = True

# Feedback returned to students never shows hidden tests, hidden inputs or expected values.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "coursekit.plugins.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Late policy: 15 minutes' grace, then 10% of the notebook's max score per started day late,
# nothing after 5 days. Penalties are computed at autograde (coursekit/plugins/late.py), from
# the due date in schedule.toml (every grading command copies it into the gradebook).
c.AssignLatePenalties.plugin_class = "coursekit.plugins.late.CoursePolicyLatePenalty"
c.CoursePolicyLatePenalty.grace_minutes = 15
c.CoursePolicyLatePenalty.percent_per_day = 10
c.CoursePolicyLatePenalty.max_days = 5

# LMS exports: `coursekit export` (or `nbgrader export --exporter=...CanvasExportPlugin`).
# Each module's Canvas assignment id is in schedule.toml (`canvas = 123456`), with its dates;
# an assignment without one is written without it and Canvas creates a new column for it.
