"""`celery -A services.enrich.worker worker -Q enrich`."""

from celery.signals import worker_process_init

from services.enrich import gazetteer
from services.enrich.language import default_language
from services.enrich.nlp import pipeline_for
from services.enrich.pipeline import enrich
from shared.celery_app import make_celery
from shared.config import Settings
from shared.logs import configure_logging

settings = Settings.from_env()
configure_logging(settings.log_level)
celery = make_celery("enrich", settings)
celery.conf.imports = ("services.enrich.tasks",)
# A pool process loads the models before it says it is up (below), several seconds on a busy host: within Celery's
# default 4 s wait it would be killed and forked again, over and over.
celery.conf.worker_proc_alive_timeout = 60

# English with a person and places: one enrich() of it loads what the pipeline loads lazily.
WARM_UP_ARTICLE = {
    "title": "Talks in Islamabad",
    "body": "Anthony Blinken met the prime minister of Pakistan in Islamabad on Monday to discuss trade.",
}


@worker_process_init.connect
def load_model(**_) -> None:
    """Load the model when the pool process starts, not inside the first article's latency."""
    pipeline_for("en")
    default_language()  # loads the language identifier; a bad ENRICH_DEFAULT_LANGUAGE fails here, not per article
    gazetteer.warm_up()
    enrich(WARM_UP_ARTICLE)  # YAKE and spaCy's first call
