# TinyTorch course: the instructor's and TA's interface. `make help` lists the targets.
# Each target is one `coursekit` verb (`.venv/bin/coursekit VERB --help` says more).
PY      := .venv/bin/python
CK      := $(PY) -m coursekit
export PATH := $(CURDIR)/.venv/bin:$(PATH)
JOBS    ?= 2
ASSIGNMENT ?= 01_tensor
STUDENTS ?= 300
SCALE   ?= 20
LINTED  := coursekit tests milestones tito datasets

# FORCE=1 overrides a guard (the schedule, the resume record); its help line says what it risks.
FORCE_FLAG = $(if $(FORCE),--force)

.PHONY: help setup test test-full lint release check gates otter otter-gates otter-grade demo hub hub-stop schedule release-assignment collect autograde flags feedback export report roster bench-grading bench-training bench-conv bench-tokenizer bench-transformer bench-generation bench-acceleration milestones-2017 milestone-quantize milestone-olympics release-solutions clean

help:  ## list the targets
	@awk -F ':.*## ' '/^[a-z0-9-]+:.*## / { printf "%-20s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

setup:  ## create .venv with the pinned grading environment and register its kernels
	bash scripts/setup.sh

test: lint  ## lint, then the whole test suite with fast settings (what CI runs)
	$(PY) -m pytest -n $(JOBS) --dist loadscope -q --durations=30

test-full:  ## the whole suite with full settings (long training, full-class grading)
	TINYTORCH_FULL=1 $(PY) -m pytest -n $(JOBS) --dist loadscope -q --durations=30

lint:  ## ruff lint and format check of the tooling and tests
	$(PY) -m ruff check $(LINTED) && $(PY) -m ruff format --check $(LINTED)

release:  ## regenerate source/, release/, tinytorch/, solutions/, otter/ from masters/
	$(CK) build

check:  ## fail if any generated file differs from what the masters produce
	$(CK) check

gates:  ## integrity gates per module, with a table (MODULES="01 05" for some)
	$(CK) gates $(MODULES)

otter:  ## rewrite otter/ (otter-grader assignments, Gradescope zips) from source/ and release/
	$(CK) otter build $(MODULES)

otter-gates:  ## integrity gates through otter run on each autograder zip (MODULES="01 05")
	$(CK) otter gates $(MODULES)

otter-grade:  ## otter run every submission in otter-submitted/ for ASSIGNMENT, into the gradebook
	$(CK) otter grade $(ASSIGNMENT)

demo:  ## a simulated class of 13 students through the whole pipeline on module 01
	$(CK) demo

hub:  ## a local JupyterHub for the course on 127.0.0.1:8000 (root): prints the accounts and passwords
	$(CK) hub start

hub-stop:  ## stop the local JupyterHub and everything it started
	$(CK) hub stop

schedule:  ## each module's release and due dates (schedule.toml) and where it stands
	$(CK) schedule

release-assignment:  ## put ASSIGNMENT in the exchange once schedule.toml says (FORCE=1: early)
	$(CK) release-assignment $(ASSIGNMENT) $(FORCE_FLAG)

collect:  ## copy every student's latest submission of ASSIGNMENT into submitted/
	$(CK) collect $(ASSIGNMENT)

autograde:  ## grade ASSIGNMENT with JOBS workers, contained, resumable (FORCE=1: regrade all; CLUSTER=local or tcp://host:8786: on Dask)
	$(CK) autograde $(ASSIGNMENT) --jobs $(JOBS) $(FORCE_FLAG) $(if $(CLUSTER),--cluster $(CLUSTER))

flags:  ## what needs a human on ASSIGNMENT; CLEAR=student once you have looked
	$(CK) flags $(ASSIGNMENT) $(if $(CLEAR),--clear $(CLEAR))

feedback:  ## generate feedback (hidden tests removed) and release it to students
	$(CK) feedback $(ASSIGNMENT)

export:  ## Canvas and plain CSVs of the released or graded modules (MODULES="01 02" to choose)
	$(CK) export $(MODULES)

release-solutions:  ## publish ASSIGNMENT's solution once its late window closed (FORCE=1: now)
	$(CK) release-solutions $(ASSIGNMENT) $(FORCE_FLAG)

report:  ## TA report for ASSIGNMENT: totals, test-cell pass rates, histogram, HTML
	$(CK) report $(ASSIGNMENT)

roster:  ## create/update students from a Canvas gradebook export: make roster CSV=canvas.csv
	$(CK) roster $(CSV)

bench-grading:  ## grade STUDENTS generated notebooks: nbgrader serial (launcher kernels, standby kernels), JOBS workers, JOBS Dask workers; then SCALE per worker on 1..cores Dask workers
	$(CK) bench grading --students $(STUDENTS) --jobs $(JOBS) --baseline --scale $(SCALE)

bench-training:  ## one training step of the digits MLP: tinytorch, numpy by hand, PyTorch
	$(CK) bench training

bench-conv:  ## Conv2d forward+backward (im2col, loops), a LeNet step, vs PyTorch
	$(CK) bench conv

bench-tokenizer:  ## BPE: train 512 merges on 1 MB of Shakespeare, encode it; vs Rust tokenizers
	$(CK) bench tokenizer

bench-transformer:  ## the Shakespeare GPT: a training step and a generation step vs PyTorch
	$(CK) bench transformer

bench-generation:  ## the Shakespeare GPT generating 256 tokens with and without the KV cache
	$(CK) bench generation

bench-acceleration:  ## Module 16: GFLOP/s of loops, rows, tiles and BLAS by size; plot in build/bench/
	$(CK) bench acceleration

milestones-2017:  ## the 2017 milestones with their full settings (about 10 min of CPU)
	$(PY) milestones/05_2017_transformer/attention_proof.py
	$(PY) milestones/05_2017_transformer/vaswani_shakespeare.py
	$(PY) milestones/05_2017_transformer/vaswani_chatgpt.py
	$(PY) milestones/05_2017_transformer/vaswani_copilot.py

milestone-quantize:  ## the Shakespeare GPT quantized to int8: measured bytes and val loss (about 2 min)
	$(PY) milestones/06_2018_optimization/quantize_gpt.py

milestone-olympics:  ## CNN and GPT profiled, quantized, pruned, distilled, benchmarked: Pareto tables in build/olympics/
	$(PY) milestones/06_2018_optimization/optimization_olympics.py --out build/olympics

clean:  ## remove scratch output (build/); never touches the gradebook
	rm -rf build
