# TinyTorch course: the instructor's and TA's interface. `make help` lists the targets.
# Each target is one `coursekit` verb (`.venv/bin/coursekit VERB --help` says more).
PY      := .venv/bin/python
CK      := $(PY) -m coursekit
export PATH := $(CURDIR)/.venv/bin:$(PATH)
JOBS    ?= 2
ASSIGNMENT ?= 01_tensor
STUDENTS ?= 300
LINTED  := coursekit tests milestones tito datasets

.PHONY: help setup test test-full lint release check gates demo hub hub-stop autograde feedback export report roster bench-grading bench-training bench-conv bench-tokenizer release-solutions clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 20

setup:  ## create .venv with the pinned grading environment and register its kernels
	bash scripts/setup.sh

test: lint  ## lint, then the whole test suite with fast settings (what CI runs)
	$(PY) -m pytest -n $(JOBS) --dist loadscope -q

test-full:  ## the whole suite with full settings (long training, full-class grading)
	TINYTORCH_FULL=1 $(PY) -m pytest -n $(JOBS) --dist loadscope -q

lint:  ## ruff lint and format check of the tooling and tests
	$(PY) -m ruff check $(LINTED) && $(PY) -m ruff format --check $(LINTED)

release:  ## regenerate source/, release/, tinytorch/, solutions/ from masters/
	$(CK) build

check:  ## fail if any generated file differs from what the masters produce
	$(CK) check

gates:  ## integrity gates per module, with a table (MODULES="01 05" for some)
	$(CK) gates $(MODULES)

demo:  ## a simulated class of 13 students through the whole pipeline on module 01
	$(CK) demo

hub:  ## a local JupyterHub for the course on 127.0.0.1:8000 (root): prints the accounts and passwords
	$(CK) hub start

hub-stop:  ## stop the local JupyterHub and everything it started
	$(CK) hub stop

autograde:  ## grade submitted/ for ASSIGNMENT with JOBS workers, contained, resumable
	$(CK) autograde $(ASSIGNMENT) --jobs $(JOBS)

feedback:  ## generate feedback (hidden tests removed) and release it to students
	$(CK) feedback $(ASSIGNMENT)

export:  ## write the Canvas import CSV and a plain CSV into gradebook/
	$(CK) export

release-solutions:  ## after the deadline: publish solutions/ASSIGNMENT to students' exchange
	$(CK) release-solutions $(ASSIGNMENT)

report:  ## TA report for ASSIGNMENT: totals, test-cell pass rates, histogram, HTML
	$(CK) report $(ASSIGNMENT)

roster:  ## create/update students from a Canvas gradebook export: make roster CSV=canvas.csv
	$(CK) roster $(CSV)

bench-grading:  ## grade a generated class of STUDENTS: nbgrader serial vs JOBS workers
	$(CK) bench grading --students $(STUDENTS) --jobs $(JOBS)

bench-training:  ## one training step of the digits MLP: tinytorch, numpy by hand, PyTorch
	$(CK) bench training

bench-conv:  ## Conv2d forward+backward (im2col, loops), a LeNet step, vs PyTorch
	$(CK) bench conv

bench-tokenizer:  ## BPE: train 512 merges on 1 MB of Shakespeare, encode it; vs Rust tokenizers
	$(CK) bench tokenizer

clean:  ## remove scratch output (build/); never touches the gradebook
	rm -rf build
