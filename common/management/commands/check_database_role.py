"""Fails (exit 1) when the role the application connects as could rewrite the clinical record: a superuser,
an owner of tables, a role that may truncate, add triggers or delete history (common/database.py)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from common.database import app_role_problems


class Command(BaseCommand):
    help = "Check that DATABASE_URL's role owns nothing and cannot truncate, disable triggers or delete history."

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("Not PostgreSQL: nothing to check.")
            return
        problems = app_role_problems(connection)
        if problems:
            raise CommandError("The application's database role is too strong: " + "; ".join(problems))
        self.stdout.write(self.style.SUCCESS(f"{connection.settings_dict['USER']}: owns nothing, as it should."))
