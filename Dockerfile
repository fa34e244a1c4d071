# One image for every Newsflow process; compose picks the process with `command`.
# The base is pinned to an exact release: bump it on purpose, in its own commit (docs/operations.md).
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies first, from the pinned lists alone: a code change rebuilds only the layers below.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
 && pip install -c constraints.txt -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt \
 && useradd --create-home --uid 10001 newsflow

# Then the code, installed without touching the dependencies.
COPY README.md gunicorn.conf.py ./
COPY shared/ shared/
COPY services/ services/
RUN pip install --no-deps -c constraints.txt .

USER newsflow
EXPOSE 8001 8002
CMD ["gunicorn", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8001", "services.ingest.app:create_app()"]
