# The two commands of the README: `make protos` and `make test`. CI runs `make test` only
# (through .ci/run), so a newcomer runs exactly what CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Generated trees that linters leave alone (they are checked by `protobuild check` and mypy).
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: protos test lint typecheck unit check bench bench-contentd clean

$(STAMP): pyproject.toml constraints.txt fixtures/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,buf]' -e fixtures
	touch $@

protos: $(STAMP)
	$(BIN)/protobuild

test: lint typecheck unit check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy src tests fixtures/src fixtures/tests benchmarks

unit: $(STAMP)
	$(BIN)/pytest -q

check: $(STAMP)
	$(BIN)/protobuild check

# Ratios against plain protoc measured in one run; results in benchmarks/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python benchmarks/protobuild_bench.py --scaling

# The content service: LocalStore and RemoteStore against plain file I/O (1 GiB blobs).
bench-contentd: $(STAMP)
	$(BIN)/python benchmarks/contentd_bench.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .protobuild-cache build dist
