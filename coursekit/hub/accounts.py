"""The hub's people as real Linux accounts, with passwords JupyterHub checks through PAM.

nbgrader's exchange relies on file ownership and modes (a submission belongs to its
student; `collect` checks that), so every person is a real account. The accounts this
module makes carry `tinytorch-hub <instance> <hub root>` in their comment field; it never
changes, gives a password to or removes an account without that mark.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import subprocess
from pathlib import Path

from .layout import HubError, Instance, Person

MARK = "tinytorch-hub"


def _run(*command: str, stdin: str | None = None) -> None:
    result = subprocess.run(command, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise HubError(f"{' '.join(command[:1])} failed: {result.stderr.strip()}")


def owner_mark(instance: Instance) -> str:
    """The comment field of the instance's accounts: the instance and its hub root."""
    return f"{MARK} {instance.name} {instance.root}"


def existing(account: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(account)
    except KeyError:
        return None


def ensure(instance: Instance, person: Person) -> pwd.struct_passwd:
    """The person's account with its home in the instance, made when missing."""
    home = instance.home(person.account)
    found = existing(person.account)
    if found is None:
        home.parent.mkdir(parents=True, exist_ok=True)
        _run(
            "useradd",
            "--create-home",
            "--home-dir",
            str(home),
            "--shell",
            "/bin/bash",
            "--user-group",
            "--comment",
            owner_mark(instance),
            person.account,
        )
    elif found.pw_gecos != owner_mark(instance):
        raise HubError(
            f"the account {person.account!r} exists and is not this hub's (its comment is "
            f"{found.pw_gecos!r}); choose other names (--prefix) or another instance"
        )
    elif Path(found.pw_dir) != home or not home.is_dir():
        home.mkdir(parents=True, exist_ok=True)
        _run("usermod", "--home", str(home), person.account)
    entry = pwd.getpwnam(person.account)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    home.chmod(0o700)
    return entry


def passwords(instance: Instance) -> dict[str, str]:
    """Each person's password: made once per instance, kept in the hub folder (root only)."""
    path = instance.passwords_file
    known = json.loads(path.read_text()) if path.is_file() else {}
    for person in instance.people:
        known.setdefault(person.account, secrets.token_urlsafe(9))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(known, indent=1) + "\n")
    return {p.account: known[p.account] for p in instance.people}


def set_passwords(instance: Instance) -> dict[str, str]:
    """Make every account's password the instance's (chpasswd), and return them."""
    chosen = passwords(instance)
    for account in chosen:
        found = existing(account)
        if found is None or found.pw_gecos != owner_mark(instance):
            raise HubError(f"refusing to set the password of {account!r}: not this hub's account")
    _run("chpasswd", stdin="".join(f"{a}:{p}\n" for a, p in chosen.items()))
    return chosen


def remove(instance: Instance) -> list[str]:
    """Delete this instance's accounts (their homes are the instance's and go with it)."""
    removed = []
    for person in instance.people:
        found = existing(person.account)
        if found is not None and found.pw_gecos == owner_mark(instance):
            _run("userdel", person.account)
            removed.append(person.account)
    return removed
