"""The floor of our stack for benchmarks/ingest.py: Flask under the same gunicorn settings, parsing
the JSON and doing one Redis write per request, nothing else."""

import os
import uuid

import redis
from flask import Flask, request

app = Flask(__name__)
store = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/v1/articles")
@app.post("/v1/articles/batch")
def accept():
    request.get_json()
    key = uuid.uuid4().hex
    store.set(f"floor:{key}", request.get_data())
    return {"id": key}, 202
