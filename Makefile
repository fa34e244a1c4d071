# The one command surface for people and CI.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Test processes (pytest-xdist; an idle one takes tests queued for the other, so the long e2e tests spread
# over both); each claims a Redis db and a RabbitMQ vhost of its own.
TEST_WORKERS ?= 2

.PHONY: install run test test-fast test-unit lint train bench bench-ingest bench-webhooks bench-soak bench-latency bench-feed bench-memory compose-check \
        alerts-check secrets backup clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)  ## the whole pipeline locally: Redis (found or embedded) + every Procfile process
	$(BIN)/python scripts/run_local.py

test: $(STAMP)  ## every test: unit, integration (real Redis + Celery workers), e2e (all processes)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal tests

test-fast: $(STAMP)  ## unit, the integration tests that start no workers, two smoke tests of real processes; Redis broker only, two test processes
	NEWSFLOW_TEST_BROKERS=redis $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal tests -m "not slow or smoke"

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

CORPUS ?= ../shared/corpus

train: $(STAMP)  ## rebuild the entity and topic models (services/enrich/data/*_model.json) from the gold corpus, seeded
	$(BIN)/python -m services.enrich.training $(CORPUS)/train.jsonl $(CORPUS)/dev.jsonl
	$(BIN)/python -m services.enrich.topic_training $(CORPUS)/train.jsonl $(CORPUS)/dev.jsonl

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

bench-memory: $(STAMP)  ## Redis KiB per published article by key family, before and after retention (1,310 dev excerpts)
	$(BIN)/python -m benchmarks.memory

bench-feed: $(STAMP)  ## the filtered feed (50 %, 1 %, 0.1 % of 10,000 articles) beside a single article read
	$(BIN)/python -m benchmarks.feed

PROFILES := rabbitmq backup proxy monitoring

compose-check:  ## validate docker-compose.yml, plain, with each profile and with all (docker-compose client, no engine)
	docker-compose -f docker-compose.yml config --quiet
	for profile in $(PROFILES); do docker-compose -f docker-compose.yml --profile $$profile config --quiet || exit 1; done
	docker-compose -f docker-compose.yml $(PROFILES:%=--profile %) config --quiet
	# a release tag and the host port ranges that `--scale ingest=4 --scale publish=2` needs
	VERSION=1.0.0 INGEST_PORTS=8001-8004 PUBLISH_PORTS=8011-8012 \
	  docker-compose -f docker-compose.yml config | grep -q -e '8001-8004:8001'

alerts-check:  ## validate the Prometheus config and alert rules, and run the rules' unit tests (Debian's promtool)
	promtool check config deploy/prometheus/prometheus.yml
	promtool test rules deploy/prometheus/alerts_test.yml

secrets:  ## random API keys and passwords into ./secrets for docker compose (BROKER=rabbitmq for that profile)
	sh scripts/make_secrets.sh

BACKUP_DIR ?= backups
backup:  ## a checked snapshot of the Redis at REDIS_URL into $(BACKUP_DIR) (the compose `backup` profile: daily)
	sh scripts/redis_backup.sh $(BACKUP_DIR)

clean:
	rm -rf $(VENV) var .pytest_cache
