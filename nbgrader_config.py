"""The course's nbgrader configuration (instructor and TA side).

Every path is resolved from this file's location, so a clone, a scratch copy made by the
tests, or the demo's copy each grade inside their own folder.
"""

import hashlib
import json
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
# A library warning on stderr would zero a correct test cell (see NBGRADER_NOTES.md), so the
# grading kernel ignores warnings. Students still see them while they work.
c.Execute.extra_arguments = [
    "--HistoryManager.hist_file=:memory:",
    "--IPKernelApp.exec_lines=['import warnings', 'warnings.simplefilter(\"ignore\")']",
]
# Containment: every grading kernel runs in coursekit.sandbox (namespaces without network,
# the course's secrets hidden, an unprivileged user, these limits). The defaults fit the
# heaviest module's solution. TINYTORCH_UNCONTAINED=1 grades without it (trusted code only).
SANDBOX = {
    "memory_mb": 4096,  # address space; a memory bomb gets MemoryError
    "cpu_seconds": 900,  # CPU time for the whole notebook
    "processes": 256,  # processes and threads of the sandbox user; a fork bomb stops here
    "file_mb": 256,  # largest file the student's code may write
    "tmp_mb": 256,  # private /tmp
}
if os.environ.get("TINYTORCH_UNCONTAINED") != "1":
    c.Execute.kernel_name = "tinytorch-sandbox"
    c.KernelManager.transport = "ipc"
    os.environ["TINYTORCH_SANDBOX"] = json.dumps(
        {**SANDBOX, "course_root": ROOT, "hide": [c.Exchange.root]}
    )
    # Kernel sockets live here: writable by the sandbox users, not listable by anyone else,
    # and short (a Unix socket path has at most 107 bytes), so not under the course root.
    runtime = os.path.join(
        "/tmp", "tinytorch-grading-" + hashlib.sha256(ROOT.encode()).hexdigest()[:12]
    )
    os.makedirs(runtime, exist_ok=True)
    if os.stat(runtime).st_uid != os.getuid():
        raise SystemExit(f"{runtime} belongs to another user; remove it and grade again")
    os.chmod(runtime, 0o1733)
    os.environ["JUPYTER_RUNTIME_DIR"] = runtime
    # An absolute socket path: the kernel's working folder is not the grader's.
    c.KernelManager.ip = os.path.join(runtime, f"kernel-{os.getpid()}")

# nbgrader's autograde steps, plus two of the course's (coursekit/preprocessors.py): cells
# after the last test (systems measurements) are not run while grading, and huge outputs
# are capped (a 20 MB print would otherwise end up in the autograded notebook and feedback).
c.Autograde.autograde_preprocessors = [
    "coursekit.preprocessors.SkipUngradedTail",
    "nbgrader.preprocessors.Execute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "coursekit.preprocessors.TruncateOutputs",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# A student who deletes a test cell does not escape it: autograde puts it back.
c.OverwriteCells.add_missing_cells = True

# Feedback returned to students never shows hidden tests, hidden inputs or expected values.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "coursekit.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Late policy: 15 minutes' grace, then 10% of the notebook's max score per started day late,
# nothing after 5 days. Penalties are computed at autograde (coursekit/late.py).
c.AssignLatePenalties.plugin_class = "coursekit.late.CoursePolicyLatePenalty"
c.CoursePolicyLatePenalty.grace_minutes = 15
c.CoursePolicyLatePenalty.percent_per_day = 10
c.CoursePolicyLatePenalty.max_days = 5

# LMS exports: `nbgrader export --exporter=coursekit.lms_export.CanvasExportPlugin`.
# Map assignment names to Canvas assignment ids (the number in the assignment's URL); an
# assignment without an id is written without one and Canvas creates a new column for it.
c.CanvasExportPlugin.assignment_ids = {}
