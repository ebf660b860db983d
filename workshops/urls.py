from django.urls import path

from . import views

app_name = "workshops"

urlpatterns = [
    path("", views.course_list, name="list"),
    path("new/", views.course_create, name="create"),
    path("waiting/", views.waiting, name="waiting"),
    path("<int:pk>/", views.course_detail, name="course"),
    path("<int:pk>/status/", views.course_status, name="status"),
    path("<int:pk>/diaries/", views.hold_diaries, name="diaries"),
    path("<int:pk>/enrol/", views.enrol, name="enrol"),
    path("sessions/<int:pk>/register/", views.register, name="register"),
    path("entries/<uuid:pk>/correct/", views.correct_entry, name="correct"),
    path("enrolments/<uuid:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("offer/<uuid:referral_id>/", views.offer, name="offer"),
]
