"""The diary pages, at /appointments/."""

from django.urls import path

from . import views

app_name = "appointments"

urlpatterns = [
    path("today/", views.my_day, name="my_day"),
    path("waiting/", views.waiting, name="waiting"),
    path("slots/", views.free_slots, name="free_slots"),
    path("calendar/", views.calendar, name="calendar"),
    path("leave/", views.leave, name="leave"),
    path("leave/<int:pk>/withdraw/", views.withdraw_leave, name="withdraw_leave"),
    path("patterns/", views.working_patterns, name="working_patterns"),
    path("patterns/<int:pk>/end/", views.end_working_pattern, name="end_pattern"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
    path("referrals/<uuid:pk>/book/", views.book, name="book"),
    path("<uuid:pk>/outcome/", views.record_outcome, name="record_outcome"),
    path("<uuid:pk>/session/", views.attended, name="attended"),
    path("<uuid:pk>/reschedule/", views.reschedule, name="reschedule"),
    path("<uuid:pk>/cancel/", views.cancel, name="cancel"),
]
