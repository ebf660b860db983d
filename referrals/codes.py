"""Code lists of the NHS Talking Therapies data set (IDS201 care contacts, referral end codes) and
long-term conditions (IDS602). Keep the codes, show the words (DOMAIN.md §4, §7)."""

from django.db import models


class Attendance(models.TextChoices):
    ATTENDED = "5", "Attended on time"
    LATE_SEEN = "6", "Arrived late but was seen"
    LATE_NOT_SEEN = "7", "Arrived late and could not be seen"
    CANCELLED_BY_PATIENT = "2", "Cancelled by the patient"
    CANCELLED_BY_PROVIDER = "4", "Cancelled or postponed by the provider"
    DID_NOT_ATTEND = "3", "Did not attend"


ATTENDED_CODES = (Attendance.ATTENDED, Attendance.LATE_SEEN)


class AppointmentType(models.TextChoices):
    ASSESSMENT = "01", "Assessment"
    TREATMENT = "02", "Treatment"
    ASSESSMENT_AND_TREATMENT = "03", "Assessment and treatment"
    REVIEW_AND_TREATMENT = "05", "Review and treatment"


TREATMENT_TYPES = (
    AppointmentType.TREATMENT,
    AppointmentType.ASSESSMENT_AND_TREATMENT,
    AppointmentType.REVIEW_AND_TREATMENT,
)


class Mechanism(models.TextChoices):
    FACE_TO_FACE = "01", "Face to face"
    TELEPHONE = "02", "Telephone"
    VIDEO = "11", "Video consultation"
    EMAIL = "05", "Email"
    SMS = "06", "Short message service (SMS)"
    OTHER = "98", "Other"


class TherapyMode(models.TextChoices):
    INDIVIDUAL = "1", "Individual"
    COUPLE = "2", "Couple"
    GROUP = "3", "Group"


class EndCode(models.TextChoices):
    COMPLETED = "46", "Mutually agreed completion of treatment"
    ENDED_EARLY_PROFESSIONAL = "47", "Ended earlier than the professional planned"
    ENDED_EARLY_PATIENT = "48", "Ended earlier than the patient requested"
    REFERRED_ON = "13", "Referred to another therapy service"
    DECLINED = "14", "Declined treatment offered"
    NOT_SUITABLE = "10", "Not suitable for the service"
    NOT_SUITABLE_OTHER = "11", "Not suitable: signposted elsewhere"
    ADVICE_AND_SUPPORT = "12", "Discharged after advice and support"


class ReferralSource(models.TextChoices):
    SELF = "self", "Self-referral"
    GP = "gp", "GP"
    OTHER = "other", "Other health or care professional"


class PresentingProblem(models.TextChoices):
    DEPRESSION = "depression", "Depression"
    GAD = "gad", "Generalised anxiety disorder"
    MIXED = "mixed", "Mixed anxiety and depressive disorder"
    SOCIAL_ANXIETY = "social_anxiety", "Social anxiety disorder"
    PTSD = "ptsd", "Post-traumatic stress disorder"
    AGORAPHOBIA = "agoraphobia", "Agoraphobia"
    OCD = "ocd", "Obsessive-compulsive disorder"
    PANIC = "panic", "Panic disorder"
    HEALTH_ANXIETY = "health_anxiety", "Health anxiety"
    SPECIFIC_PHOBIA = "specific_phobia", "Specific phobia"
    OTHER_ANXIETY = "other_anxiety", "Other anxiety or stress-related disorder"
    OTHER = "other", "Other"


class Significance(models.TextChoices):
    """IDS603 PresCompCodSig: primary (1) or secondary (2)."""

    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"


class ReferralStatus(models.TextChoices):
    AWAITING_ASSESSMENT = "awaiting_assessment", "Awaiting assessment"
    AWAITING_TREATMENT = "awaiting_treatment", "Awaiting treatment"
    IN_TREATMENT = "in_treatment", "In treatment"
    DISCHARGED = "discharged", "Discharged"


ACTIVE_STATUSES = (
    ReferralStatus.AWAITING_ASSESSMENT,
    ReferralStatus.AWAITING_TREATMENT,
    ReferralStatus.IN_TREATMENT,
)
WAITING_STATUSES = (ReferralStatus.AWAITING_ASSESSMENT, ReferralStatus.AWAITING_TREATMENT)


class LongTermCondition(models.TextChoices):
    DIABETES = "diabetes", "Diabetes"
    COPD = "copd", "Chronic obstructive pulmonary disease (COPD)"
    CARDIAC = "cardiac", "Coronary heart disease or heart failure"
    CHRONIC_PAIN = "chronic_pain", "Chronic pain"
    IBS = "ibs", "Irritable bowel syndrome"
    ASTHMA = "asthma", "Asthma"
    CANCER = "cancer", "Cancer"
    MSK = "msk", "Musculoskeletal condition"
    LONG_COVID = "long_covid", "Long COVID"
    CFS = "cfs", "Chronic fatigue syndrome / ME"
    NEUROLOGICAL = "neurological", "Neurological condition"
    OTHER = "other", "Other long-term physical condition"
