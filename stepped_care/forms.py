"""Forms of the stepped-care core: resolving a review flag."""

from django import forms

from referrals.codes import EndCode

from .models import Step


class FlagResolveForm(forms.Form):
    """Accept or dismiss a flag. The service checks the rest (a reason to dismiss, an end code to step
    out) and its messages are shown on these fields."""

    action = forms.ChoiceField(
        choices=[("accept", "Accept the recommendation"), ("dismiss", "Dismiss the flag")],
        widget=forms.RadioSelect,
        label="Decision",
    )
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to dismiss; kept with the decision and in the audit trail.",
    )
    end_code = forms.ChoiceField(
        required=False,
        choices=[("", "Choose an end code"), *EndCode.choices],
        label="Referral end code",
        help_text="Needed when accepting a step out: the referral is discharged with it.",
    )
    step = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "One step up or down"), *Step.choices],
        label="New step",
        help_text="For a step up or down: leave as is for the next step, or choose another.",
    )

    def __init__(self, *args, flag=None, **kwargs):
        super().__init__(*args, **kwargs)
        if flag is not None:
            if flag.recommendation != "step_out":
                del self.fields["end_code"]
            if flag.recommendation not in ("step_up", "step_down"):
                del self.fields["step"]
