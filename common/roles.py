"""The roles staff hold. Who may do what with them is decided in ``common.permissions``."""

from django.db import models


class Role(models.TextChoices):
    PWP = "pwp", "Psychological Wellbeing Practitioner"
    PWP_TRAINEE = "pwp_trainee", "PWP trainee"
    HI_THERAPIST = "hi_therapist", "High intensity therapist"
    HI_TRAINEE = "hi_trainee", "High intensity trainee"
    STEP4 = "step4", "Step 4 specialist"
    COUNSELLOR = "counsellor", "Counsellor"
    MANAGER = "manager", "Service manager"
    ADMINISTRATOR = "administrator", "Administrator"


CLINICAL_ROLES = {
    Role.PWP,
    Role.PWP_TRAINEE,
    Role.HI_THERAPIST,
    Role.HI_TRAINEE,
    Role.STEP4,
    Role.COUNSELLOR,
}
LOW_INTENSITY_ROLES = {Role.PWP, Role.PWP_TRAINEE}

# Managers and administrators see their whole team; they are not clinicians.
MANAGEMENT_ROLES = {Role.MANAGER, Role.ADMINISTRATOR}
