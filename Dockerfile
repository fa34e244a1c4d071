# One image for every Newsflow process; compose picks the process with `command`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml constraints.txt README.md gunicorn.conf.py ./
COPY shared/ shared/
COPY services/ services/
RUN pip install -c constraints.txt . \
 && useradd --create-home --uid 10001 newsflow

USER newsflow
EXPOSE 8001 8002
CMD ["gunicorn", "--bind", "0.0.0.0:8001", "services.ingest.app:create_app()"]
