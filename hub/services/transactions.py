"""Running a service body in one transaction, retried when the database reports a conflict."""

import functools
import logging
import random
import time

from django.db import OperationalError, transaction

logger = logging.getLogger(__name__)

# PostgreSQL SQLSTATEs that mean "nothing was done, try again": deadlock, serialization failure.
_RETRYABLE_SQLSTATES = {"40P01", "40001"}
MAX_ATTEMPTS = 5


def _is_retryable(error: OperationalError) -> bool:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) in _RETRYABLE_SQLSTATES


def atomic_with_retry(func):
    """Run ``func`` in ``transaction.atomic`` and rerun it after a deadlock.

    Two services locking overlapping rows in different orders (a batch ingest and a merge, say)
    can deadlock; the database then aborts one of them with nothing written, so running it again
    is safe. Inside an outer transaction there is nothing to retry: the error propagates.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    return func(*args, **kwargs)
            except OperationalError as error:
                outer = transaction.get_connection().in_atomic_block
                if outer or not _is_retryable(error) or attempt == MAX_ATTEMPTS:
                    raise
                logger.info("retrying %s after a database conflict (attempt %d)",
                            func.__name__, attempt)
                time.sleep(random.uniform(0, 0.02 * attempt))
        raise AssertionError("unreachable")

    return wrapper
