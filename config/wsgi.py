import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from common.database import limit_web_statements  # noqa: E402  (needs the settings loaded above)

limit_web_statements()  # web connections only: workers and commands run long statements by design
