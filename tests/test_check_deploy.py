"""`manage.py check --deploy` with production settings (set through the environment) is clean."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_reports_nothing(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        # Start from none of Linli's or Django's variables: another test in this process may have
        # set one (DJANGO_ALLOW_ASYNC_UNSAFE for the browser tests), which production would not.
        if not key.startswith(("LINLI_", "DJANGO_")) and key != "DATABASE_URL"
    }
    env.update(
        LINLI_SECURE="1",
        LINLI_DEBUG="0",
        LINLI_SECRET_KEY=secrets.token_urlsafe(64),
        LINLI_FIELD_KEY=secrets.token_urlsafe(32),
        LINLI_ALLOWED_HOSTS="linli.example.org",
        # Nothing of the checkout's var/ is read or written.
        LINLI_VAR_DIR=str(tmp_path),
    )
    assert len(env["LINLI_SECRET_KEY"]) >= 50
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert list(tmp_path.iterdir()) == []  # no secret generated: production brings its own
