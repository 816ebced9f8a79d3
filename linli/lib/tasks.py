"""Recovery for background tasks whose worker died mid-task.

django-tasks' database backend marks a claimed task RUNNING and never looks at it again, so a
worker killed with `kill -9` would strand it. Our tasks are idempotent (each side effect is
keyed, e.g. Notification's unique dedupe key), so putting a stale RUNNING task back to READY
and running it again delivers every side effect exactly once.
"""

import datetime as dt

from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult


def requeue_stale_tasks(older_than: dt.timedelta = dt.timedelta(minutes=5)) -> int:
    """Put tasks RUNNING for longer than `older_than` back in the queue; returns how many."""
    cutoff = timezone.now() - older_than
    return DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff).update(
        status=TaskResultStatus.READY, started_at=None
    )
