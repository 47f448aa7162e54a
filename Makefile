# The two front-door commands: `make run` (the main job) and `make test`.
PY := .venv/bin/python

.PHONY: setup run test test-fast lint clean listen-demo
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

# A listening test on the main job's runs, answered by simulated raters over loopback HTTP;
# then the report with the MOS column filled. For real raters: sabench listen --job mini --serve
listen-demo: run
	$(PY) -m harness.cli listen --job mini --simulate 20
	$(PY) -m harness.cli report
