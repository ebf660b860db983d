"""Read-mostly admin: registers and enrolments change only through the services (audited)."""

from django.contrib import admin

from .models import CourseSession, Enrolment, GroupCourse, RegisterEntry


class SessionInline(admin.TabularInline):
    model = CourseSession
    extra = 0


@admin.register(GroupCourse)
class GroupCourseAdmin(admin.ModelAdmin):
    list_display = ["title", "team", "topic", "step", "capacity", "delivery", "status"]
    list_filter = ["team", "topic", "step", "status", "delivery"]
    search_fields = ["title", "venue"]
    filter_horizontal = ["facilitators"]
    inlines = [SessionInline]
    readonly_fields = ["created_at", "created_by"]


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ["course", "referral", "enrolled_on", "withdrawn_on", "withdrawal_reason"]
    list_filter = ["course__team", "withdrawal_reason"]
    raw_id_fields = ["course", "referral"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RegisterEntry)
class RegisterEntryAdmin(admin.ModelAdmin):
    list_display = ["session", "enrolment", "contact", "entered_in_error", "created_at"]
    raw_id_fields = ["session", "enrolment", "contact"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
