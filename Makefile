# The two commands of the README's quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO ?= demo-output
PYTEST_ARGS ?=

.PHONY: demo test install lint format benchmarks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	rm -rf $(DEMO)
	$(BIN)/clothret sample-data $(DEMO)/data
	$(BIN)/clothret fit experiment=smoke data.root=$(DEMO)/data run_dir=$(DEMO)/fit
	$(BIN)/clothret test --config $(DEMO)/fit/config.yaml ckpt_path=$(DEMO)/fit/checkpoints/last.ckpt run_dir=$(DEMO)/test
	$(BIN)/python -m json.tool $(DEMO)/test/metrics.json
	$(BIN)/clothret index --config $(DEMO)/fit/config.yaml ckpt_path=$(DEMO)/fit/checkpoints/last.ckpt run_dir=$(DEMO)/index-run --out $(DEMO)/index
	$(BIN)/clothret search $(DEMO)/index $$($(BIN)/python -m clothret.sample_data.first_query $(DEMO)/data) --k 5

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(DEMO) runs build dist *.egg-info
