# The one command surface for people and CI.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-unit lint train bench bench-ingest bench-webhooks bench-soak bench-latency compose-check clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)  ## the whole pipeline locally: Redis (found or embedded) + every Procfile process
	$(BIN)/python scripts/run_local.py

test: $(STAMP)  ## every test: unit, integration (real Redis + Celery workers), e2e (all processes)
	$(BIN)/python -m pytest tests

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

CORPUS ?= ../shared/corpus

train: $(STAMP)  ## rebuild the entity model (services/enrich/data/entity_model.json) from the gold corpus, seeded
	$(BIN)/python -m services.enrich.training $(CORPUS)/train.jsonl $(CORPUS)/dev.jsonl

bench: $(STAMP)  ## cross-validated enrichment quality (train+dev), speed and RSS, side by side with plain spaCy
	$(BIN)/python -m benchmarks.quality --corpus $(CORPUS)/train.jsonl $(CORPUS)/dev.jsonl

bench-ingest: $(STAMP)  ## ingest requests/s and latency beside a minimal Flask+Redis floor (needs wrk)
	$(BIN)/python -m benchmarks.ingest

bench-webhooks: $(STAMP)  ## webhook deliveries/s beside a bare httpx sender (200-subscriber fan-out; 1,000 articles)
	$(BIN)/python -m benchmarks.webhooks

bench-soak: $(STAMP)  ## 2,000 articles through every process while workers, Redis and a subscriber fail on a timer
	$(BIN)/python -m benchmarks.soak

bench-latency: $(STAMP)  ## 202-to-webhook p50/p95/p99 by stage beside in-process enrich() (300 articles at 10/s)
	$(BIN)/python -m benchmarks.latency

compose-check:  ## validate docker-compose.yml, plain and with the rabbitmq profile (docker-compose client, no engine)
	INGEST_API_KEYS=ci:x PUBLISH_API_KEY=x docker-compose -f docker-compose.yml config --quiet
	INGEST_API_KEYS=ci:x PUBLISH_API_KEY=x BROKER_URL=amqp://newsflow:newsflow@rabbitmq:5672// \
	  docker-compose -f docker-compose.yml --profile rabbitmq config --quiet

clean:
	rm -rf $(VENV) var .pytest_cache
