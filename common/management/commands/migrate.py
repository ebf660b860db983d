"""``migrate`` as the tables' owner (DATABASE_MIGRATE_URL) when that is another role than DATABASE_URL's,
then grants the application's role its rights (common/database.py). Otherwise Django's migrate as it is."""

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from common import database


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " Connects as DATABASE_MIGRATE_URL's role when set, then grants DATABASE_URL's role."

    def handle(self, *args, **options):
        using = options["database"]
        kept_password = connections[using].settings_dict.get("PASSWORD") or None
        with database.as_owner(using) as app_role:
            super().handle(*args, **options)
            if app_role:
                database.grant_app_role(connections[using], app_role, password=kept_password)
                if options["verbosity"]:
                    self.stdout.write(f"Granted the application's role {app_role} its rights (it owns nothing).")
