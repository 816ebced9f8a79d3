"""A task worker killed with kill -9 mid-task: after a restart every notification exists once."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from linli import testing as t
from linli.accounts.models import Notification
from linli.accounts.tasks import deliver_notification
from linli.lib.tasks import requeue_stale_tasks

ROOT = Path(__file__).resolve().parent.parent


def _worker_env():
    env = dict(os.environ)
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        env["LINLI_SQLITE_PATH"] = str(settings_dict["NAME"])
        env.pop("DATABASE_URL", None)
    else:
        user = settings_dict["USER"] or ""
        host = settings_dict["HOST"] or "127.0.0.1"
        port = settings_dict["PORT"] or 5432
        env["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}"
    env["LINLI_SMS_BACKEND"] = "tests.support.slow_sms.SlowBackend"
    env["LINLI_TASKS_BACKEND"] = "django_tasks_db.backend.DatabaseBackend"
    env["PYTHONPATH"] = str(ROOT)
    return env


def _worker(*extra):
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.1", *extra],
        cwd=ROOT,
        env=_worker_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killed_worker_delivers_each_notification_exactly_once(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    users = []
    for _ in range(4):
        member = t.make_member(user=t.make_user(), consent_contact=True)  # consent → an SMS per user
        users.append(member.user)
    deliver_notification.enqueue([u.pk for u in users], "测试通知", "", "", "test:killed-worker")

    worker = _worker()
    try:
        deadline = time.monotonic() + 180  # generous: CI machines are shared and noisy
        while Notification.objects.filter(dedupe_key="test:killed-worker").count() < 1:
            assert time.monotonic() < deadline, "the worker never started the task"
            time.sleep(0.05)
    finally:
        os.kill(worker.pid, signal.SIGKILL)  # mid-task: it is sleeping in the SMS backend
        worker.wait()
    delivered_before_restart = Notification.objects.filter(dedupe_key="test:killed-worker").count()
    assert delivered_before_restart < len(users), "the worker finished before it was killed"

    assert requeue_stale_tasks(older_than=dt.timedelta(0)) == 1
    restarted = _worker("--batch")  # runs what is queued, then exits
    assert restarted.wait(timeout=120) == 0

    for user in users:
        assert Notification.objects.filter(user=user, dedupe_key="test:killed-worker").count() == 1
