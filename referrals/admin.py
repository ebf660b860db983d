from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import CareContact, Patient, Referral, ReferralEvent


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["family_name", "given_name", "date_of_birth", "team"]
    search_fields = ["family_name", "given_name", "nhs_number"]
    list_filter = ["team"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["patient", "team", "received_on", "status", "current_step", "care_coordinator"]
    list_filter = ["team", "status", "current_step", "presenting_problem"]
    raw_id_fields = ["patient", "care_coordinator"]


@admin.register(ReferralEvent)
class ReferralEventAdmin(ReadOnlyAdmin):
    list_display = ["referral", "kind", "from_value", "to_value", "by", "at"]


@admin.register(CareContact)
class CareContactAdmin(ReadOnlyAdmin):
    list_display = ["referral", "date", "appointment_type", "attendance", "clinician", "entered_in_error"]
    list_filter = ["appointment_type", "attendance", "entered_in_error"]
