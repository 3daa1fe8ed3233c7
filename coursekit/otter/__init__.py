"""The second deployment target: otter-grader assignments for Gradescope, from the same masters.

nbgrader and JupyterHub stay the course's first target; this package owns everything otter:

- `assignment`: each module's otter assignment under `otter/NN_name/` (the student notebook
  with `grader.check(...)` self-checks and `grader.export()`, the public test files, the
  autograder folder and the Gradescope autograder zip), built by `make release` from the
  same source notebook nbgrader reads, and drift-checked by `make check`;
- `cases`: the code every otter test file carries to run a test case the way nbgrader runs
  a test cell (grading set-up first, stderr fails, messages that never echo hidden values);
- `tinytorch_otter`: the otter plugin shipped in every autograder zip, which puts back the
  given cells of a submission before it runs (what nbgrader's OverwriteCells does);
- `grade`: `otter run` on submissions (one at a time, no Docker), its results as points per
  test cell, and those points written into the nbgrader gradebook, so the Canvas CSV and the
  TA report read otter's grades exactly like nbgrader's;
- `gates`: the integrity gates of a module under otter.
"""
