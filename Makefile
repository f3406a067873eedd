# The two entry points: `make run` (the main job) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/runwire validate configs
	$(BIN)/runwire emulate bedrock -- \
	  $(BIN)/runwire run configs/quickstart.yaml --input @configs/inputs/quickstart.json
	$(BIN)/runwire emulate bedrock -- \
	  $(BIN)/runwire run configs/agent.yaml --input @configs/inputs/agent.json
	$(BIN)/runwire emulate bedrock -- \
	  $(BIN)/runwire run configs/rag_graph.yaml --input @configs/inputs/rag_graph.json

test: $(STAMP)
	bash tests/tools/ensure_chromium.sh
	bash tests/tools/ensure_postgres.sh
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[dev,bench]"
	$(BIN)/python benchmarks/bench_serialization.py
	$(BIN)/python benchmarks/bench_runtime.py
	$(BIN)/python benchmarks/bench_authoring.py
	$(BIN)/python benchmarks/bench_bedrock.py
	$(BIN)/python benchmarks/bench_server.py
	$(BIN)/python benchmarks/bench_graph.py
	$(BIN)/python benchmarks/bench_retrieval.py
	$(BIN)/python benchmarks/bench_oci.py
	$(BIN)/python benchmarks/bench_memorydb.py
	$(BIN)/python benchmarks/bench_batch_ray.py
	bash tests/tools/ensure_postgres.sh
	$(BIN)/python benchmarks/bench_graph_serve.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
