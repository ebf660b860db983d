"""Dispatch the work left in the outbox (reviews queued by writes while the broker was away)."""

from django.core.management.base import BaseCommand

from common import outbox
from common.models import PendingTask


class Command(BaseCommand):
    help = "Hand pending tasks (e.g. reviews after a logged session) to the broker, or run them here."

    def handle(self, *args, **options):
        waiting = PendingTask.objects.count()
        sent = outbox.dispatch_pending(limit=max(waiting, 1))
        self.stdout.write(f"{sent} of {waiting} pending task(s) dispatched")
