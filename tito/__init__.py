"""tito: the student's command line for the TinyTorch course.

A student fetches each module's notebook with nbgrader, fills in the code, and uses tito to
check it (`tito test`), export it into their own tinytorch package (`tito export`), see where
they stand (`tito status`), install a released solution for a module they could not finish
(`tito install-solution`) and run the historical milestones on their own framework
(`tito milestone`). tito is self-contained: it needs only the standard library and rich, never
the course's instructor tooling.
"""

__version__ = "0.1.0"
