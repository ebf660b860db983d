"""The project's URLs plus one API view that fails, to see what a server error answers."""

from django.urls import path

from config.urls import *  # noqa: F403  (the handlers too)
from config.urls import urlpatterns as project_urlpatterns


def broken(request):
    raise RuntimeError("a fault on our side")


urlpatterns = [path("api/v1/broken/", broken), *project_urlpatterns]
