"""Celery tasks. Each one only calls a service, which keeps all state in the database.

Tasks carry request IDs, never personal data, so the broker's queue holds nothing to erase.
"""

from hub.celery import app
from hub.services.privacy_export import privacy_exports_purge as _exports_purge
from hub.services.privacy_steps import privacy_steps_run_due


@app.task(name="hub.tasks.privacy_request_steps_run")
def privacy_request_steps_run(request_id: int) -> int:
    """Run the due steps of one privacy request (queued when it starts or is retried)."""
    return privacy_steps_run_due(request_id=request_id)


@app.task(name="hub.tasks.privacy_steps_run_due")
def privacy_steps_run_due_task() -> int:
    """Periodic: run every privacy step whose attempt is due (retries, or after a restart)."""
    return privacy_steps_run_due()


@app.task(name="hub.tasks.privacy_exports_purge")
def privacy_exports_purge() -> int:
    """Periodic: delete export bundles whose download link has expired."""
    return _exports_purge()
