"""The gradebook's database: SQLite (embedded, the default) or PostgreSQL.

nbgrader reaches its gradebook through SQLAlchemy, so a PostgreSQL gradebook is a
`c.CourseDirectory.db_url = "postgresql://ROLE@HOST:PORT/DATABASE"` line in
nbgrader_config.py (driver: psycopg 3, pinned in requirements.lock; the password belongs in
the grader's `~/.pgpass`, which libpq reads). `scripts/postgres-gradebook.sh` creates the
role and the database on a server and the schema in it (docs/ta-guide.md, "A shared
gradebook").

This module also runs a private PostgreSQL server (`LocalPostgres`): Debian's binaries, a
data folder of its own, a free port on 127.0.0.1 and a Unix socket in the data folder. The
tests start one for the PostgreSQL gradebook tests; nothing else listens on it.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from nbgrader.api import Gradebook

POSTGRES_USER = "postgres"  # Debian's package runs its servers as this system user
INSTALL_HINT = "install Debian's package (apt-get install postgresql; make setup does it as root)"


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql:", "postgresql+", "postgres:"))


def socket_folder(url: str) -> Path | None:
    """The folder of a PostgreSQL gradebook's Unix socket (`?host=/path`), if it uses one.

    Grading kernels must not reach it (coursekit/grading/sandbox.py covers it)."""
    if not is_postgres(url):
        return None
    query = dict(p.split("=", 1) for p in urlsplit(url).query.split("&") if "=" in p)
    host = query.get("host") or ""
    return Path(host) if host.startswith("/") else None


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def init_schema(url: str, course_id: str = "tinytorch") -> None:
    """Create nbgrader's tables once, before several graders open the gradebook at once.

    nbgrader creates them on first use, but two processes doing it at the same moment on an
    empty PostgreSQL database race on its `alembic_version` table."""
    from ..tools import tool_env

    os.environ["PATH"] = tool_env()["PATH"]  # nbgrader runs `alembic` to stamp a new database
    with Gradebook(url, course_id=course_id):
        pass


def pg_bin(name: str) -> str:
    """A PostgreSQL server program (initdb, pg_ctl): on PATH, else Debian's newest."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not candidates:
        raise RuntimeError(f"PostgreSQL's {name} was not found: {INSTALL_HINT}")
    return candidates[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalPostgres:
    """A private PostgreSQL server: `start()`, `create_database()`, `stop()`.

    As root, the server runs as Debian's `postgres` user (PostgreSQL refuses to run as root).
    Local connections (the Unix socket, owner-only) are trusted; TCP on 127.0.0.1 needs the
    password of the role `create_database` makes, as a real deployment would.
    """

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder or tempfile.mkdtemp(prefix="tinytorch-pg-"))
        self.data = self.folder / "data"
        self.port = 0
        self.process_user = POSTGRES_USER if os.geteuid() == 0 else None

    @property
    def admin(self) -> dict:
        return {
            "host": str(self.folder),
            "port": self.port,
            "user": "postgres",
            "dbname": "postgres",
        }

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess:
        if self.process_user:
            runuser = shutil.which("runuser") or "/usr/sbin/runuser"
            argv = [runuser, "-u", self.process_user, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, cwd=self.folder)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")
        return result

    def start(self) -> LocalPostgres:
        initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
        if self.process_user:
            try:
                user = pwd.getpwnam(self.process_user)
            except KeyError:
                raise RuntimeError(
                    f"no '{self.process_user}' system user: {INSTALL_HINT}"
                ) from None
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self.folder.chmod(0o700)
        self._run(
            [initdb, "-D", str(self.data), "-U", "postgres", "--auth-local=trust",
             "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"]
        )  # fmt: skip
        self.port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.folder}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200"
        )
        self._run([pg_ctl, "-D", str(self.data), "-l", str(self.folder / "server.log"),
                   "-o", options, "-w", "-t", "60", "start"])  # fmt: skip
        return self

    def stop(self) -> None:
        if self.data.is_dir():
            try:
                self._run([pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
            except RuntimeError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def execute(self, *statements: str, dbname: str = "postgres") -> None:
        import psycopg

        conn = psycopg.connect(**{**self.admin, "dbname": dbname}, autocommit=True)
        try:
            with conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
        finally:
            conn.close()

    def create_database(self, name: str, role: str = "tinytorch") -> str:
        """A database owned by `role` (made with a random password if new); its TCP URL."""
        password = getattr(self, "_passwords", {}).get(role)
        if password is None:
            password = secrets.token_hex(12)
            self.execute(f"CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{password}'")
            self._passwords = {**getattr(self, "_passwords", {}), role: password}
        self.execute(f"CREATE DATABASE {name} OWNER {role}")
        return f"postgresql://{role}:{password}@127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def copy_database(url: str, name: str) -> str:
    """A copy of a PostgreSQL gradebook under a new database name (its role needs CREATEDB);
    returns the copy's URL. Nobody may be connected to the original meanwhile."""
    import psycopg

    parts = urlsplit(url)
    source = parts.path.lstrip("/")
    conn = psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)
    try:
        with conn.cursor() as cur:
            for _ in range(50):  # the last grader's connections may still be closing
                try:
                    cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
                    break
                except psycopg.errors.ObjectInUse:
                    time.sleep(0.1)
            else:
                raise RuntimeError(f"{source} stayed in use; cannot copy it")
    finally:
        conn.close()
    return urlunsplit(parts._replace(path=f"/{name}"))
