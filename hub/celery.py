"""The Celery application: background work when ``CELERY_BROKER_URL`` is set.

Start a worker with its scheduler (the periodic privacy-step runner and export purge) with
``celery -A hub.celery worker --beat``. Without a broker nothing here is used: services run
their background work in-process and ``manage.py run_privacy_steps`` replaces the scheduler.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

app = Celery("hub")
# Every CELERY_* Django setting configures the app (broker URL, beat schedule, acks late).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["hub"])
