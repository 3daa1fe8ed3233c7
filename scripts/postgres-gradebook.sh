#!/usr/bin/env bash
# Create a PostgreSQL gradebook for the course: a role, a database it owns, nbgrader's schema.
#
#   scripts/postgres-gradebook.sh [ROLE] [DATABASE]      (defaults: tinytorch tinytorch_gradebook)
#
# Run it as root on the database server (Debian's package: it connects as the `postgres`
# system user over the local socket), or anywhere with PGHOST/PGPORT/PGUSER naming a
# superuser connection. The role gets a random password, written to the grader's ~/.pgpass
# (libpq reads it; the URL in nbgrader_config.py then carries no secret). It prints the
# line to put in nbgrader_config.py. Set DB_HOST (default 127.0.0.1) and DB_PORT (default
# PGPORT or 5432) to the address graders reach the server at.
set -euo pipefail
cd "$(dirname "$0")/.."
ROLE=${1:-tinytorch}
DATABASE=${2:-tinytorch_gradebook}
DB_HOST=${DB_HOST:-127.0.0.1}
DB_PORT=${DB_PORT:-${PGPORT:-5432}}
[[ "$ROLE$DATABASE" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "role and database: lower-case letters, digits, _" >&2; exit 2; }
if [ -n "${PGHOST:-}" ]; then
    psql_admin() { psql -v ON_ERROR_STOP=1 -qtA "$@"; }
else
    psql_admin() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtA "$@"; }
fi
PASSWORD=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(18))')
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" = 1 ]; then
    psql_admin -c "ALTER ROLE $ROLE LOGIN PASSWORD '$PASSWORD'"
else
    psql_admin -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != 1 ]; then
    psql_admin -c "CREATE DATABASE $DATABASE OWNER $ROLE"
fi
PGPASS=${PGPASSFILE:-$HOME/.pgpass}
umask 077  # the password file and its replacement: owner only (libpq ignores it otherwise)
touch "$PGPASS" && chmod 600 "$PGPASS"
grep -v "^$DB_HOST:$DB_PORT:$DATABASE:$ROLE:" "$PGPASS" > "$PGPASS.new" || true
echo "$DB_HOST:$DB_PORT:$DATABASE:$ROLE:$PASSWORD" >> "$PGPASS.new" && mv "$PGPASS.new" "$PGPASS"
URL="postgresql://$ROLE@$DB_HOST:$DB_PORT/$DATABASE"
# nbgrader's tables, created once (several graders opening an empty database at once race).
PATH="$PWD/.venv/bin:$PATH" .venv/bin/python -c 'import sys; from coursekit.grading.database import init_schema; init_schema(sys.argv[1])' "$URL"
echo "gradebook ready; put this in nbgrader_config.py (the password is in $PGPASS):"
echo "c.CourseDirectory.db_url = \"$URL\""
