# Backprop Lab — convenience targets. Each one is a plain command you can also type yourself.
PYTHON ?= python3
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
SOURCES := $(patsubst notebooks/%.ipynb,nbsrc/%.py,$(NOTEBOOKS))

.PHONY: help setup setup-dev lab studio test test-fast test-browser bench sync notebooks student figures gallery train-digits selfcheck autograder clean

help:        ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup:       ## install what the notebooks need
	$(PYTHON) -m pip install -r requirements.txt

setup-dev: setup  ## install what the tests need too
	$(PYTHON) -m pip install -r requirements-dev.txt

lab: setup   ## open JupyterLab on the notebooks (the main job)
	$(PYTHON) -m jupyter lab notebooks/

studio: setup  ## the studio alone as a web page, no code (Voilà): open http://127.0.0.1:8866
	$(PYTHON) -m voila notebooks/studio_app.ipynb --no-browser --Voila.ip=127.0.0.1 --Voila.port=8866

test: setup-dev  ## the full test suite: unit tests, nbval over every notebook, browser test
	$(PYTHON) -m pytest

test-fast:   ## unit tests only (no notebooks, no browser)
	$(PYTHON) -m pytest tests -m "not browser"

test-browser: ## the real-browser tests of the studio, JupyterLab and Voilà (needs /usr/bin/chromium), print latencies
	$(PYTHON) -m pytest tests/test_browser.py -s

bench:       ## benchmarks: mlp.py vs autograd, gd.py speed, notebook execution times, the TA checkers on a class
	$(PYTHON) benchmarks/bench_mlp.py
	$(PYTHON) benchmarks/bench_gd.py
	$(PYTHON) benchmarks/bench_notebooks.py
	$(PYTHON) benchmarks/bench_grade.py

sync:        ## carry the edited text sources nbsrc/NN_*.py into their notebooks/NN_*.ipynb (outputs kept)
	for src in $(SOURCES); do $(PYTHON) -m jupytext --update --to ipynb --output notebooks/$$(basename $$src .py).ipynb $$src || exit 1; done

notebooks: sync  ## sync every pair from its .py, then store fresh outputs (fresh kernels), saved as JupyterLab saves them
	$(PYTHON) -m jupyter nbconvert --to notebook --execute --inplace $(NOTEBOOKS)
	$(PYTHON) tools/normalize_notebooks.py $(NOTEBOOKS)

student:     ## the student edition in dist/student/: notebooks 01-06 without worked answers, checks, starter mlp.py
	$(PYTHON) tools/make_student.py --out dist/student

figures: gallery  ## export every figure to figures/ (runs the notebooks, leaves them unchanged)
	BACKPROP_SAVE_FIGURES=1 $(PYTHON) -m jupyter nbconvert --to notebook --execute --output-dir /tmp/backprop-lab-nbout $(NOTEBOOKS)
	BACKPROP_SAVE_FIGURES=1 $(PYTHON) -m pytest tests/test_browser.py -s

gallery:     ## the digit galleries made by gd.py's CLI (robust and standard model) into out/ (git-ignored), with the judge's readings
	$(PYTHON) gd.py --model digits --out out/digits --gallery out/digits_gallery.png
	$(PYTHON) gd.py --model digits_standard --out out/digits_standard --gallery out/digits_standard_gallery.png

train-digits: ## retrain the embedded digits classifier (seeded, < 2 min)
	$(PYTHON) tools/train_digits.py

autograder:  ## Gradescope autograders dist/autograder/mlp.zip and gd.zip (upload: Configure Autograder -> Zip file)
	$(PYTHON) tools/make_autograder.py --out dist/autograder

selfcheck:   ## course-style check of mlp.py (TAs: python mlp.py --check FOLDER_OR_FILES; python gd.py --check ...)
	$(PYTHON) mlp.py --check

clean:       ## remove caches and test artifacts
	rm -rf .pytest_cache .hypothesis artifacts dist __pycache__ */__pycache__
