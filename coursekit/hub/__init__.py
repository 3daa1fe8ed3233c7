"""The course on a real JupyterHub: `coursekit hub start|stop|status|grade|remove`.

`make hub` brings up a JupyterHub on loopback for one *instance* of the course (the demo's
is named `demo`; the browser test makes its own). Everything an instance needs lives in one
folder, `$TINYTORCH_HUB_ROOT/<instance>/` (default `/srv/tinytorch-hub/`), outside the
repository, because real Linux users must be able to reach it while the repository (and the
reference solutions inside it) stays out of their reach.

Who owns what:

- `layout.py`: an instance: its folders, ports and people (one instructor, a few students).
- `accounts.py`: the real Linux accounts of those people and their passwords.
- `environment.py`: what the single-user servers run on: the Python environment built from
  `requirements.lock` without the course package (no reference tinytorch, no coursekit);
  the students' share (`tito/`, `milestones/`, `datasets/`, a `tito` launcher); and the
  instructor's private copy of the course (masters, source, release, solutions, gradebook,
  the course code) in the instructor's home.
- `config.py`: `jupyterhub_config.py` and each role's Jupyter configuration (extensions on
  or off, nbgrader's course id and exchange), generated from `Course`: the course id comes
  from `nbgrader_config.py`, the exchange path from the instance, nowhere else.
- `spawner.py`: the spawner the hub runs (a local process per person, as that person, with
  the repository hidden and the role's environment).
- `server.py`: starting, watching and stopping the hub process and what it started.

Grading still needs root (the sandbox): `coursekit hub grade` runs the course's own grading
command on the instructor's course as root, then hands the files back to the instructor.
"""
