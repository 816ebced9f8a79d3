"""An SMS backend that takes its time, so a test can kill a worker in the middle of a task."""

import time


class SlowBackend:
    def send(self, phone: str, text: str) -> None:
        time.sleep(1.5)
