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


class TherapyType(models.TextChoices):
    """The therapy delivered at a contact, as the data set codes it (IDS202 CodeProcAndProcStatus,
    SNOMED CT; DOMAIN.md §9). Low intensity first, then high intensity, then employment support."""

    GUIDED_SELF_HELP_BOOK = "748051000000105", "Guided self-help (book)"
    GUIDED_SELF_HELP_COMPUTER = "748041000000107", "Guided self-help (computer)"
    NON_GUIDED_SELF_HELP_BOOK = "748101000000105", "Non-guided self-help (book)"
    NON_GUIDED_SELF_HELP_COMPUTER = "748091000000102", "Non-guided self-help (computer)"
    PHYSICAL_ACTIVITY = "748061000000108", "Structured physical activity"
    PSYCHOEDUCATION = "702545008", "Psychoeducational peer support group"
    OTHER_LOW_INTENSITY = "1026111000000108", "Other low intensity intervention"
    SIGNPOSTING = "975131000000104", "Signposting"
    APPLIED_RELAXATION = "1127281000000100", "Applied relaxation"
    COUPLE_THERAPY = "1129471000000105", "Couple therapy for depression"
    COLLABORATIVE_CARE = "842901000000108", "Collaborative care"
    COUNSELLING = "286711000000107", "Counselling for depression"
    PSYCHODYNAMIC = "314034001", "Brief psychodynamic psychotherapy"
    EMDR = "449030000", "Eye movement desensitisation and reprocessing (EMDR)"
    MINDFULNESS = "933221000000107", "Mindfulness"
    CBT = "304891004", "Cognitive behavioural therapy (CBT)"
    IPT = "443730003", "Interpersonal psychotherapy (IPT)"
    OTHER_HIGH_INTENSITY = "1026131000000100", "Other high intensity intervention"
    EMPLOYMENT_SUPPORT = "1098051000000103", "Employment support"


class EndCode(models.TextChoices):
    """Referral end codes (data set IDS101 EndCode), in the data set's three groups."""

    # Seen and taken on for a course of treatment
    COMPLETED = "46", "Mutually agreed completion of treatment"
    ENDED_EARLY_PROFESSIONAL = "47", "Ended earlier than the professional planned"
    ENDED_EARLY_PATIENT = "48", "Ended earlier than the patient requested"
    DECEASED_TREATED = "49", "Deceased (seen and taken on for treatment)"
    NOT_KNOWN_TREATED = "96", "Not known (seen and taken on for treatment)"
    # Seen but not taken on for a course of treatment
    NOT_SUITABLE = "10", "Not suitable for the service"
    NOT_SUITABLE_OTHER = "11", "Not suitable: signposted elsewhere"
    ADVICE_AND_SUPPORT = "12", "Discharged after advice and support"
    REFERRED_ON = "13", "Referred to another therapy service"
    DECLINED = "14", "Declined treatment offered"
    INCOMPLETE_ASSESSMENT = "16", "Incomplete assessment (dropped out)"
    DECEASED_SEEN = "17", "Deceased (seen, not taken on for treatment)"
    NOT_KNOWN_SEEN = "95", "Not known (seen, not taken on for treatment)"
    # Not seen
    NOT_ASSESSED = "50", "Not assessed"


TAKEN_ON_END_CODES = frozenset({"46", "47", "48", "49", "96"})
SEEN_NOT_TREATED_END_CODES = frozenset({"10", "11", "12", "13", "14", "16", "17", "95"})
NOT_ASSESSED_END_CODES = frozenset({"50"})


def end_code_problem(code: str, *, seen: bool, taken_on: bool, treated: bool) -> str | None:
    """Why ``code`` does not fit what happened (None when it fits), by the data set's groups (DOMAIN §9):
    46-49 and 96 end a referral seen and taken on for treatment (given a step after assessment, or
    treated); 10-17 and 95 one seen but never treated; 50 one never seen."""
    label = f"End code {code} ({EndCode(code).label.lower()})" if code in EndCode.values else f"End code {code}"
    if code in TAKEN_ON_END_CODES and not (seen and (taken_on or treated)):
        return f"{label} is for a referral assessed and taken on for treatment; this one has not been."
    if code in SEEN_NOT_TREATED_END_CODES and treated:
        return f"{label} is for a referral never taken on for treatment; this one has attended treatment sessions."
    if code in SEEN_NOT_TREATED_END_CODES and not seen:
        return f"{label} is for a patient who was seen; this one attended no appointment (use 50, not assessed)."
    if code in NOT_ASSESSED_END_CODES and seen:
        return f"{label} is for a referral never seen; this patient attended an appointment."
    return None


class ReferralSource(models.TextChoices):
    SELF = "self", "Self-referral"
    GP = "gp", "GP"
    OTHER = "other", "Other health or care professional"


# The data set's codes of the sources of referral (SourceOfReferralMH): a self-referral is B1.
SOURCE_DATA_SET_CODES = {ReferralSource.SELF: "B1", ReferralSource.GP: "A1"}


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
