"""Identity services: create a pseudonymous identity, give it a passphrase, sign in with one."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth import password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.pseudonyms import pseudonym_generate
from moderation.models import Action, Report
from rooms import events, protocol
from rooms import services as rooms_services
from rooms.errors import Invalid, RateLimited
from rooms.models import Membership, Message, Presence

LOGIN_ATTEMPTS_PER_HOUR = 10


def identity_create_anonymous(*, language: str = "en") -> User:
    """A new identity with a generated pseudonym and no personal data at all."""
    for attempt in range(8):
        pseudonym = pseudonym_generate(language=language, suffix=attempt >= 2)
        try:
            with transaction.atomic():
                user = User(
                    username=f"anon-{secrets.token_hex(8)}",
                    is_pseudonymous=True,
                    pseudonym=pseudonym,
                    language=language[:8],
                    last_active_on=timezone.localdate(),
                )
                user.set_unusable_password()
                user.save()
                return user
        except IntegrityError:
            continue  # that pseudonym is taken; try another
    raise Invalid("pseudonym_exhausted", _("Could not find a free pseudonym, please retry."))


def identity_set_passphrase(*, user: User, passphrase: str) -> None:
    """Let this identity be used on another device with its pseudonym and this passphrase."""
    if not user.is_pseudonymous:
        raise Invalid("not_pseudonymous", _("Only pseudonymous identities use a passphrase."))
    try:
        password_validation.validate_password(passphrase, user)
    except ValidationError as exc:
        raise Invalid("weak_passphrase", " ".join(exc.messages)) from exc
    user.set_password(passphrase)
    user.save(update_fields=["password"])


def identity_authenticate(*, pseudonym: str, passphrase: str) -> User:
    """The identity with this pseudonym and passphrase; throttled per pseudonym, not per address."""
    # Keyed by a hash of the name tried: no address, and no readable name in the cache.
    digest = hashlib.sha256(pseudonym.strip().casefold().encode()).hexdigest()[:32]
    key = f"login-attempts:{digest}"
    attempts = cache.get(key, 0)
    if attempts >= LOGIN_ATTEMPTS_PER_HOUR:
        raise RateLimited("too_many_attempts", _("Too many attempts. Try again in an hour."))
    user = User.objects.filter(
        pseudonym__iexact=pseudonym.strip(), is_pseudonymous=True, is_active=True
    ).first()
    if user is None or not user.has_usable_password() or not user.check_password(passphrase):
        cache.set(key, attempts + 1, 3600)
        raise Invalid("bad_credentials", _("That pseudonym and passphrase do not match."))
    cache.delete(key)
    return user


def identity_touch(*, user: User) -> None:
    """Remember the day an identity was last used (for the purge of stale identities)."""
    today = timezone.localdate()
    if user.last_active_on != today:
        User.objects.filter(pk=user.pk).update(last_active_on=today)
        user.last_active_on = today


def identity_erase(*, user: User, kind: str = Action.Kind.IDENTITY_ERASED) -> None:
    """Forget an identity at once: every message it wrote (off every screen, live), every
    membership and alias, then the identity itself. The audit trail counts the erasure in each
    circle without naming anyone."""
    with transaction.atomic():
        memberships = list(Membership.objects.filter(user=user)
                           .values_list("id", "room_id", "alias"))
        present_in = set(Presence.objects.filter(membership__user=user)
                         .values_list("room_id", flat=True))
        for membership_id, room_id, alias in memberships:
            ids = list(Message.objects.filter(author_id=membership_id)
                       .values_list("id", flat=True))
            rooms_services.message_delete_many(room_id=room_id, ids=ids)
            # Reports about what they wrote (with its sealed copy) go too; reports they made
            # stay for the facilitators, no longer naming them.
            Report.objects.filter(room_id=room_id, target_alias=alias).delete()
            Report.objects.filter(room_id=room_id, reporter_alias=alias).update(reporter_alias="")
            Action.objects.create(room_id=room_id, kind=kind)
        if not memberships:
            Action.objects.create(kind=kind)
        events.close_sockets_on_commit(
            events.user_group(user.pk), code=protocol.CLOSE_IDENTITY_ERASED,
            frame=protocol.notice_frame(code="identity_erased",
                                        detail=_("Your identity and messages are erased.")),
        )
        user.delete()
        for room_id in present_in:
            rooms_services.presence_broadcast_on_commit(room_id=room_id)
