# TinyTorch course: the instructor's and TA's interface. `make help` lists the targets.
PY      := .venv/bin/python
export PATH := $(CURDIR)/.venv/bin:$(PATH)
JOBS    ?= 2
ASSIGNMENT ?= 01_tensor

.PHONY: help setup test test-full lint release check gates demo autograde feedback export report roster bench-grading bench-training bench-conv release-solutions clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

setup:  ## create .venv with the pinned grading environment and register its kernel
	bash scripts/setup.sh

test: lint  ## lint, then the whole test suite with fast settings (what CI runs)
	$(PY) -m pytest -n $(JOBS) --dist loadscope -q

test-full:  ## the whole suite with full settings (long training, full-class grading)
	TINYTORCH_FULL=1 $(PY) -m pytest -n $(JOBS) --dist loadscope -q

lint:  ## ruff lint and format check of the tooling and tests
	$(PY) -m ruff check coursekit tests milestones tito datasets
	$(PY) -m ruff format --check coursekit tests milestones tito datasets

release:  ## regenerate source/, release/, tinytorch/, solutions/ from masters/
	$(PY) -m coursekit build

check:  ## fail if any generated file differs from what the masters produce
	$(PY) -m coursekit check

gates:  ## integrity gates per module with a table (solution, blank, mutant kill rate, leaks)
	$(PY) -m coursekit gates

demo:  ## a simulated class of 13 students through the whole pipeline on module 01
	$(PY) -m coursekit demo

autograde:  ## grade submitted/ for ASSIGNMENT with JOBS workers, contained, resumable
	$(PY) -m coursekit autograde $(ASSIGNMENT) --jobs $(JOBS)

feedback:  ## generate feedback (hidden tests removed) and release it to students
	$(PY) -m nbgrader generate_feedback $(ASSIGNMENT)
	$(PY) -m nbgrader release_feedback $(ASSIGNMENT)

export:  ## write the Canvas import CSV and a plain CSV into gradebook/
	$(PY) -m nbgrader export --exporter=coursekit.lms_export.CanvasExportPlugin --to=gradebook/canvas_grades.csv
	$(PY) -m nbgrader export --exporter=coursekit.lms_export.PlainCsvExportPlugin --to=gradebook/grades.csv

release-solutions:  ## after the deadline: publish solutions/ASSIGNMENT to students' exchange
	$(PY) -m coursekit release-solutions $(ASSIGNMENT)

report:  ## TA report for ASSIGNMENT: totals, test-cell pass rates, histogram, HTML (gradebook/reports/)
	$(PY) -m coursekit.report $(ASSIGNMENT)

roster:  ## create/update students from a Canvas gradebook export: make roster CSV=canvas.csv
	@test -n "$(CSV)" || { echo "usage: make roster CSV=canvas_export.csv"; exit 2; }
	$(PY) -m coursekit.roster $(CSV)

STUDENTS ?= 300
bench-grading:  ## grade a generated class of STUDENTS: nbgrader serial vs JOBS workers
	$(PY) -m coursekit.bench_grading --students $(STUDENTS) --jobs $(JOBS)

bench-training:  ## time one training step of the digits MLP: tinytorch, numpy by hand, PyTorch (if installed)
	$(PY) -m coursekit.bench_training

bench-conv:  ## time Conv2d forward+backward (im2col, loops) and a LeNet step vs PyTorch (if installed)
	$(PY) -m coursekit.bench_conv

clean:  ## remove scratch output (build/); never touches the gradebook
	rm -rf build
