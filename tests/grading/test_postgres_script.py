"""scripts/postgres-gradebook.sh makes a role, a database and nbgrader's schema, and the
course's nbgrader reads and writes the gradebook there with the password from ~/.pgpass."""

import os
import re
import subprocess

import pytest
from nbgrader.api import Gradebook

from coursekit.grading.database import LocalPostgres
from coursekit.modules import REPO


def test_the_setup_script_gives_a_working_gradebook(tmp_path):
    server = LocalPostgres()
    try:
        server.start()
    except RuntimeError as err:
        pytest.fail(f"could not start PostgreSQL (make setup installs it): {err}")
    try:
        env = dict(os.environ, PGHOST=str(server.folder), PGPORT=str(server.port),
                   PGUSER="postgres", PGPASSFILE=str(tmp_path / "pgpass"))  # fmt: skip
        for _ in range(2):  # run twice: the second run keeps the database, renews the password
            result = subprocess.run(
                ["bash", str(REPO / "scripts" / "postgres-gradebook.sh"), "tt", "tt_gradebook"],
                env=env, capture_output=True, text=True,
            )  # fmt: skip
            assert result.returncode == 0, result.stdout + result.stderr
        out = result.stdout
        url = re.search(r'db_url = "(.+)"', out).group(1)
        assert url == f"postgresql://tt@127.0.0.1:{server.port}/tt_gradebook"  # no secret
        assert (tmp_path / "pgpass").stat().st_mode & 0o077 == 0
        os.environ["PGPASSFILE"] = str(tmp_path / "pgpass")
        try:
            with Gradebook(url, course_id="tinytorch") as gb:
                gb.add_student("ada")
                assert [s.id for s in gb.students] == ["ada"]
        finally:
            del os.environ["PGPASSFILE"]
    finally:
        server.stop()
