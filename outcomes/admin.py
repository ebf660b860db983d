from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import OutcomeSummary, QuestionnaireResponse


@admin.register(QuestionnaireResponse)
class QuestionnaireResponseAdmin(ReadOnlyAdmin):
    list_display = ["referral", "measure", "total", "completed_on", "entered_in_error"]
    list_filter = ["measure", "entered_in_error"]


@admin.register(OutcomeSummary)
class OutcomeSummaryAdmin(ReadOnlyAdmin):
    list_display = ["referral", "phq9_first", "phq9_last", "gad7_first", "gad7_last", "recovered", "finished_treatment"]
