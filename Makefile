# The two front-door commands: `make run` (the main job) and `make test`.
PY := .venv/bin/python

.PHONY: setup run test test-fast lint clean
setup:
	bash scripts/setup.sh

run: setup
	$(PY) -m harness.cli run

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

# Linter and type checker, configured in pyproject.toml ([tool.ruff], [tool.mypy]); run by .ci/run.
lint: setup
	.venv/bin/ruff check .
	.venv/bin/mypy
