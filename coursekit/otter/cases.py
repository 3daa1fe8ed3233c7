"""How an otter test case runs a test cell's code: the text below `# --- inlined ---` is copied
into every generated test file (coursekit.otter.assignment), so a test file depends on nothing
a submission could replace between two checks.

A test file sets, before this code: `name` (otter's question name), `GRADING` (True in the
autograder's copy), `SETUP` (the test cell's hidden grading set-up, "" in students' copies),
`VISIBLE` (the visible tests), `CELL` (the whole test cell as nbgrader runs it: SETUP, then
visible and hidden tests; "" in students' copies) and `HIDDEN` ((first, last, words) of each
hidden check group, 1-based lines of CELL). Each case starts with the set-up, so the cases of
a file, and the files, do not depend on the order they run in.

A case passes under the rule nbgrader applies to a test cell: its code raises nothing
(`SystemExit` included) and writes nothing to stderr; warnings are ignored, as in the course's
grading kernels. Before anything else it asks the notebook's `_grading` (the shared checks) to
put back what student code replaced in NumPy, `builtins` and the checks, so otter's own
loading of the next test file is not fooled either.

Messages follow the feedback rules of coursekit.plugins.feedback: in the autograder's copy a
failing hidden check is named by its behaviour words and Python's own exception class, never
its message, inputs or expected values; a failing visible check by its line. Students' copies
(self-checks in their own notebook, no hidden tests) show the full message and traceback.
"""

# ruff: noqa: F821 - `name`, `GRADING`, `SETUP`, `VISIBLE`, `CELL`, `HIDDEN` come from the test file

# --- inlined ---
STDERR_RULE = (
    "The test wrote to stderr (a print to sys.stderr, a log message or a warning): like "
    "nbgrader, the course gives a test that writes to stderr 0 points even when every check "
    "passes."
)


def _builtin_errors():
    import builtins

    return {
        key
        for key, value in vars(builtins).items()
        if isinstance(value, type) and issubclass(value, BaseException)
    }


def _error_name(exc):
    kind = type(exc).__name__
    return kind if kind in _builtin_errors() else "an exception raised by your code"


def _first_line(exc, filename):
    """The line of the test code where the error surfaced (its outermost frame there)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            return tb.tb_lineno, tb
        tb = tb.tb_next
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        return exc.lineno, None
    return None, None


def _behaviour(line):
    for first, last, words in HIDDEN:
        if first <= line <= last:
            return words
    return None


def _message(exc, kind, source, offset, filename):
    line, tb = _first_line(exc, filename)
    ename = _error_name(exc)
    if not GRADING:
        import traceback

        shown = source.splitlines()[line - 1].strip() if line else ""
        trace = "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))
        where = f"line {line - offset} of the visible tests: {shown}\n" if line else ""
        return f"{where}{trace}".rstrip()
    if line is None or line <= offset:
        return f"The test could not run ({ename})."
    if kind == "hidden":
        words = _behaviour(line)
        if words is None:
            return "A visible check failed: see the visible tests of " + name + "."
        return f"A hidden test failed: {words} ({ename})."
    shown = source.splitlines()[line - 1].strip()
    return (
        f"Visible check failed at line {line - offset} ({ename}): {shown}\n"
        f'Run grader.check("{name}") in your notebook to read its full message.'
    )


def _verdict(env, kind):
    """Run the visible tests (kind "visible") or the whole test cell ("hidden") in `env`, the
    notebook's global names; raise AssertionError with a safe message when they fail."""
    grading = env.get("_grading")
    if grading is not None and hasattr(grading, "protect"):
        grading.protect()
    import contextlib
    import io
    import linecache
    import warnings

    if kind == "visible":
        source = (SETUP + "\n" if SETUP else "") + VISIBLE
    else:
        source = CELL  # it starts with SETUP
    offset = len(SETUP.splitlines())
    filename = f"<{name}: {kind} tests>"
    if not GRADING:  # tracebacks show the test's own lines
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    err = io.StringIO()
    failure = None
    try:
        code = compile(source, filename, "exec")
        with warnings.catch_warnings(), contextlib.redirect_stderr(err):
            warnings.simplefilter("ignore")
            exec(code, env)
    except BaseException as exc:  # noqa: BLE001 - a SystemExit fails the test, as in nbgrader
        failure = exc
    if failure is not None:
        raise AssertionError(_message(failure, kind, source, offset, filename)) from None
    if err.getvalue():
        raise AssertionError(STDERR_RULE)
