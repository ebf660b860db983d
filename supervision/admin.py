from django.contrib import admin

from .models import CaseDecision, SessionAttendance, SupervisionRelationship, SupervisionSession


@admin.register(SupervisionRelationship)
class SupervisionRelationshipAdmin(admin.ModelAdmin):
    list_display = ["supervisor", "supervisee", "kind", "frequency_days", "minutes", "started_on", "ended_on"]
    list_filter = ["kind"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Sessions and decisions are clinical history: recorded and corrected through the services
    (which act and audit), never edited or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AttendanceInline(admin.TabularInline):
    model = SessionAttendance
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SupervisionSession)
class SupervisionSessionAdmin(ReadOnlyAdmin):
    list_display = ["date", "kind", "supervisor", "minutes", "signed_off_at", "entered_in_error"]
    list_filter = ["kind", "entered_in_error"]
    date_hierarchy = "date"
    inlines = [AttendanceInline]


@admin.register(CaseDecision)
class CaseDecisionAdmin(ReadOnlyAdmin):
    list_display = ["session", "decision", "to_step", "end_code", "recorded_by", "created_at", "entered_in_error"]
    list_filter = ["decision", "entered_in_error"]
    raw_id_fields = ["referral", "session", "step_assignment", "corrects"]
