"""Privacy steps on a real Celery worker over the Redis broker CI provides.

The in-process and eager paths are tested elsewhere; this proves the queued task really leaves
the web process, crosses Redis and runs on a worker that finds everything in the database.
Runs where ``CELERY_BROKER_URL`` names a Redis server (``.ci/run`` sets it to the local one).
"""

import os
import time

import pytest
from django.utils import timezone

from hub.models import PrivacyRequest
from hub.services import privacy as services
from tests.hub.test_privacy_support import (
    CODES,
    SUBJECT_KEYS,
    Clock,
    approved_request,
    script_erase,
)

BROKER = os.environ.get("CELERY_BROKER_URL", "")

pytestmark = pytest.mark.skipif(not BROKER.startswith("redis://"),
                                reason="needs a Redis broker in CELERY_BROKER_URL (CI sets it)")


def test_an_erasure_started_in_the_web_process_completes_on_a_celery_worker(
        transactional_db, servers, subject, officer, settings):
    import threading

    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_prerun

    from hub.celery import app

    ran_on = []

    def record(sender=None, **kwargs):
        ran_on.append((sender.name, threading.current_thread() is threading.main_thread()))

    task_prerun.connect(record, weak=False)

    for code in CODES:
        script_erase(servers[code], SUBJECT_KEYS[code])
    settings.CELERY_BROKER_URL = BROKER
    app.conf.broker_url = BROKER
    request = approved_request("erasure", subject, officer, Clock(timezone.now()))

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        services.privacy_request_run(request_id=request.pk, actor=officer)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            request.refresh_from_db()
            if request.state == PrivacyRequest.State.COMPLETED:
                break
            time.sleep(0.2)
    task_prerun.disconnect(record)

    assert ("hub.tasks.privacy_request_steps_run", False) in ran_on  # on the worker's thread
    assert request.state == PrivacyRequest.State.COMPLETED
    assert all(step.state == "done" for step in request.steps.all())
