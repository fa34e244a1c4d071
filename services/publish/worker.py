"""`celery -A services.publish.worker worker --queues publish,deliver`: the previous release's publish tasks."""

from shared.celery_app import make_celery
from shared.config import Settings
from shared.logs import configure_logging

settings = Settings.from_env()
configure_logging(settings.log_level)
celery = make_celery("publish", settings)
celery.conf.imports = ("services.publish.tasks",)
