"""Reads of the front door (no writes): the open forms, and a link by its token's hash."""

from .models import FrontDoor, QuestionnaireLink


def open_front_doors():
    return FrontDoor.objects.filter(is_open=True).select_related("team").order_by("team__name")


def front_door(slug):
    """The open form at /refer/<slug>/, or None (a closed form is not found either)."""
    return FrontDoor.objects.select_related("team").filter(slug=slug, is_open=True).first()


def practices(front_door):
    return list(front_door.practices.order_by("name").values_list("pk", "name"))


def link_by_hash(token_hash):
    return (
        QuestionnaireLink.objects.select_related("referral__team").filter(token_hash=token_hash).first()
        if token_hash
        else None
    )


def links_of(referral):
    """The questionnaire links sent for a referral, newest first, with their message (the referral page)."""
    return list(referral.questionnaire_links.select_related("message", "created_by").order_by("-created_at")[:20])
