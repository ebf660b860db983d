"""The part of every ``visible_to(user)`` that is the same for all records of a team."""


def team_scope(queryset, user):
    """Anonymous users and staff without a team see nothing, superusers everything, managers and
    administrators their team. Returns None for a clinician: the record's own rule decides."""
    if not user or not user.is_authenticated:
        return queryset.none()
    if user.is_superuser:
        return queryset
    if user.team_id is None:
        return queryset.none()
    if getattr(user, "role", None) in ("manager", "administrator"):
        return queryset.filter(team_id=user.team_id)
    return None
