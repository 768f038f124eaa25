from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = _("Circles")

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed

        from rooms.models import Room

        m2m_changed.connect(_facilitators_changed, sender=Room.facilitators.through,
                            dispatch_uid="rooms-facilitators-changed")


def _facilitators_changed(*, instance: Any, action: str, reverse: bool, pk_set: Any,
                          **kwargs: Any) -> None:
    """Wherever facilitators are assigned (the admin, a script), their sockets follow."""
    from rooms.services import facilitators_changed

    if action == "pre_clear":  # the set is only known before it is cleared
        pk_set = set((instance.facilitated_rooms if reverse else instance.facilitators)
                     .values_list("pk", flat=True))
    elif action not in ("post_add", "post_remove"):
        return
    if not pk_set:
        return
    rooms, users = (list(pk_set), [instance.pk]) if reverse else ([instance.pk], list(pk_set))
    facilitators_changed(room_ids=rooms, user_ids=users)
