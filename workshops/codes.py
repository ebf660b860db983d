"""Code lists of group workshops. Keep the codes, show the words."""

from django.db import models


class Topic(models.TextChoices):
    # Step 2 low-intensity workshops of about 3–4 weeks (DOMAIN.md §1, seed 000).
    DEPRESSION = "depression", "Depression"
    PANIC_ANXIETY = "panic_anxiety", "Panic and anxiety"
    STRESS = "stress", "Stress"
    WORRY = "worry", "Worry"
    # Step 3: more in-depth, high-intensity workshops.
    HI_DEPRESSION = "hi_depression", "CBT for depression (high intensity)"
    HI_ANXIETY = "hi_anxiety", "CBT for anxiety disorders (high intensity)"
    HI_LTC = "hi_ltc", "Living with a long-term condition (high intensity)"
    HI_COMPASSION = "hi_compassion", "Compassion-focused therapy (high intensity)"


class GroupStep(models.IntegerChoices):
    LOW_INTENSITY = 2, "Step 2: low intensity"
    HIGH_INTENSITY = 3, "Step 3: high intensity"


class Delivery(models.TextChoices):
    VENUE = "venue", "At a venue"
    ONLINE = "online", "Online (video)"


class CourseStatus(models.TextChoices):
    PLANNED = "planned", "Planned: taking enrolments"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (CourseStatus.PLANNED, CourseStatus.RUNNING)


class WithdrawalReason(models.TextChoices):
    PATIENT_CHOICE = "patient_choice", "Patient chose to leave the group"
    CANNOT_ATTEND = "cannot_attend", "Cannot attend the times or place"
    STOPPED_ATTENDING = "stopped_attending", "Stopped attending"
    INDIVIDUAL = "individual", "Moved to individual therapy"
    NOT_SUITABLE = "not_suitable", "Group not suitable"
    COURSE_CANCELLED = "course_cancelled", "Course cancelled"
    OTHER = "other", "Other (see note)"
