"""Identity services: create a pseudonymous identity, give it a passphrase, sign in with one."""

from __future__ import annotations

import secrets
from functools import cache as memoize

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.pseudonyms import pseudonym_generate
from moderation import care, ratelimit
from moderation.models import Action, Report, SupportConversation, SupportMessage
from rooms import events, protocol
from rooms import services as rooms_services
from rooms.errors import Conflict, Forbidden, Invalid
from rooms.models import AuthorKey, Membership, Message, Presence

# What the audit trail shows, after "Forget me", where an erased identity's alias was.
ERASED_ALIAS = "—"


def identity_create_anonymous(*, language: str = "en", source: str | None = None) -> User:
    """A new identity with a generated pseudonym and no personal data at all. Edges pass the
    request's `source` (moderation.ratelimit.request_source: a digest, never an address), and
    each source makes only so many identities a minute."""
    if source is not None:
        rooms_services.limit_take(
            ratelimit.IDENTITIES_PER_SOURCE, source, code="too_many_identities",
            detail=_("Many identities were made from this connection just now."))
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


def _dummy_hash() -> str:
    """A hash of nothing anyone knows, with the site's hasher: checked when there is no
    passphrase to check, so every answer costs one hash."""
    return _dummy_hash_for(tuple(settings.PASSWORD_HASHERS))


@memoize
def _dummy_hash_for(hashers: tuple[str, ...]) -> str:
    return make_password(secrets.token_urlsafe(16))


def _attempt_take(layers: tuple[tuple[ratelimit.Backoff, tuple[object, ...]], ...], *,
                  checks: ratelimit.Limit) -> None:
    """One sign-in attempt: the back-off of each layer, then the site-wide ceiling on checks;
    RateLimited (`too_many_attempts`) when either says wait."""
    decision = ratelimit.backoff_take(*layers)
    if decision.allowed:
        decision = ratelimit.take(checks)
    if not decision.allowed:
        raise rooms_services.rate_limited(decision, code="too_many_attempts",
                                          detail=_("Too many attempts."))


def identity_authenticate(*, pseudonym: str, passphrase: str, source: str = "") -> User:
    """The identity with this pseudonym and passphrase.

    Throttled without a lock anyone could turn against the owner (moderation.ratelimit): a
    back-off per pseudonym tried from this `source` (steep), one per pseudonym from anywhere
    (gentle, capped at two minutes), and a site-wide ceiling on passphrase checks. Every answer
    that reaches the check costs one password hash, whether the pseudonym exists, has a
    passphrase or not, so the time says nothing about it."""
    name = ratelimit.name_digest(pseudonym)
    layers = ((ratelimit.PASSPHRASE_PER_SOURCE, (name, source)),
              (ratelimit.PASSPHRASE_PER_PSEUDONYM, (name,)))
    _attempt_take(layers, checks=ratelimit.PASSPHRASE_CHECKS)
    user = User.objects.filter(
        pseudonym__iexact=pseudonym.strip(), is_pseudonymous=True, is_active=True
    ).first()
    if user is None or not user.has_usable_password():
        check_password(passphrase, _dummy_hash())  # the same work as a real check
        user = None
    elif not user.check_password(passphrase):
        user = None
    if user is None:
        raise Invalid("bad_credentials", _("That pseudonym and passphrase do not match."))
    ratelimit.backoff_clear(*layers)
    identity_touch(user=user)  # signing in is using the identity
    return user


def staff_authenticate(*, username: str, password: str) -> User | None:
    """A staff sign-in at /admin/login/ (its form calls this): None for a wrong username or
    password, RateLimited when this username must wait (a back-off per username, capped at 15
    minutes, never a lock for good) or the site-wide ceiling on checks is reached. No address
    is used: another account's right password still works while one is attacked."""
    layers = ((ratelimit.ADMIN_PER_USERNAME, (ratelimit.name_digest(username),)),)
    _attempt_take(layers, checks=ratelimit.ADMIN_CHECKS)
    user = authenticate(username=username, password=password)  # hashes for unknown names too
    if user is not None:
        ratelimit.backoff_clear(*layers)
    return user


def identity_touch(*, user: User) -> None:
    """Remember the day an identity was last used (for the purge of stale identities)."""
    today = timezone.localdate()
    if user.last_active_on != today:
        User.objects.filter(pk=user.pk).update(last_active_on=today)
        user.last_active_on = today


def _audit_unname(*, room_id: int, alias: str) -> int:
    """Audit entries of one circle that name this alias: the alias becomes `ERASED_ALIAS`, and
    the free-text reason of an entry about them goes. The kind, detail and time stay."""
    if not alias:
        return 0
    entries = Action.objects.filter(room_id=room_id)
    changed = entries.filter(target_alias=alias).update(target_alias=ERASED_ALIAS, reason="")
    return changed + entries.filter(actor_alias=alias).update(actor_alias=ERASED_ALIAS)


def _erasure_record(*, kind: str, room_ids: list[int]) -> None:
    """One unnamed audit entry per circle, all at the same minute, so nothing in them (not the
    second they were written) tells which circles' entries came from the same person."""
    entries = [Action.objects.create(room_id=room_id, kind=kind) for room_id in room_ids]
    if not entries:  # a circle-less entry: the erasure is still counted, for admins
        entries = [Action.objects.create(kind=kind)]
    minute = timezone.now().replace(second=0, microsecond=0)
    Action.objects.filter(pk__in=[entry.pk for entry in entries]).update(created_at=minute)


def identity_erase(*, user: User, kind: str = Action.Kind.IDENTITY_ERASED,
                   compact: bool = True) -> None:
    """Forget an identity at once: every message it wrote (off every screen, live), reports
    about it, every membership and alias, then the identity itself. Audit entries and reports
    that named one of its aliases keep `ERASED_ALIAS` (or nothing) instead, without the reasons
    written about it. An unnamed note of the erasure, at the minute, goes to the circles where
    this changed something others see (a message or report of theirs gone, an entry unnamed).

    Its author keys are destroyed too, so what it wrote cannot be read from any copy left in
    the database's files (dead row versions, the WAL, a replica) or in the cache; after the
    commit the key table is compacted (`compact`; the purge, erasing many, does it once)."""
    with transaction.atomic():
        memberships = list(Membership.objects.filter(user=user)
                           .values_list("id", "room_id", "alias"))
        present_in = set(Presence.objects.filter(membership__user=user)
                         .values_list("room_id", flat=True))
        changed_in: list[int] = []
        for membership_id, room_id, alias in memberships:
            ids = list(Message.objects.filter(author_id=membership_id)
                       .values_list("id", flat=True))
            rooms_services.message_delete_many(room_id=room_id, ids=ids)
            # Reports about what they wrote (with its sealed copy) go too; reports they made or
            # resolved stay for the facilitators, no longer naming them.
            reports = Report.objects.filter(room_id=room_id)
            changed = reports.filter(target_alias=alias).delete()[0]
            changed += reports.filter(reporter_alias=alias).update(reporter_alias="")
            changed += reports.filter(resolved_by_alias=alias).update(resolved_by_alias="")
            changed += _audit_unname(room_id=room_id, alias=alias)
            if ids or changed:
                changed_in.append(room_id)
        # Their private support conversations, on both sides, with every message: the other
        # party's panel closes at once.
        for conversation in SupportConversation.objects.filter(
                Q(participant__user=user) | Q(facilitator__user=user), ended_at__isnull=True):
            ended = protocol.support_ended_frame(conversation_id=conversation.pk, by="")
            for group in (events.member_group(conversation.participant_id),
                          events.member_group(conversation.facilitator_id),
                          care.duty_group(conversation.facilitator.user_id)):
                events.broadcast_on_commit(group, ended)
        SupportMessage.objects.filter(Q(conversation__participant__user=user)
                                      | Q(conversation__facilitator__user=user)
                                      | Q(author__user=user)).delete()
        SupportConversation.objects.filter(Q(participant__user=user)
                                           | Q(facilitator__user=user)).delete()
        rooms_services.author_keys_destroy(keys=AuthorKey.objects.filter(membership__user=user))
        if compact:
            rooms_services.key_storage_compact_on_commit()
        # What they did as an actor without an alias in that circle (an admin, say).
        Action.objects.filter(actor=user).update(actor_alias=ERASED_ALIAS)
        _erasure_record(kind=kind, room_ids=changed_in)
        events.close_sockets_on_commit(
            events.user_group(user.pk), code=protocol.CLOSE_IDENTITY_ERASED,
            notice=events.localized_event(code="identity_erased"),
        )
        user.delete()
        for room_id in present_in:
            rooms_services.presence_broadcast_on_commit(room_id=room_id)


# --- Staff: the name they show in circles ------------------------------------------------------
DISPLAY_NAME_CHARS = (2, 40)


def staff_display_name_set(*, user: User, name: str) -> User:
    """The name a facilitator or admin shows in the circles they enter, instead of a made-up
    alias: never their login name. Their aliases in circles they already entered follow (where
    nobody else there uses that name)."""
    if not getattr(user, "is_facilitator", False) or user.is_pseudonymous:
        raise Forbidden("not_facilitator", _("Only facilitators and admins set a display name."))
    name = " ".join("".join(ch for ch in name if ch.isprintable()).split())
    shortest, longest = DISPLAY_NAME_CHARS
    if not shortest <= len(name) <= longest:
        raise Invalid("invalid_display_name",
                      _("Choose a display name of %(shortest)d to %(longest)d characters.")
                      % {"shortest": shortest, "longest": longest})
    if name.casefold() == user.username.casefold():
        raise Invalid("invalid_display_name",
                      _("Choose a name other than your login name: people in the circles "
                        "see it."))
    with transaction.atomic():
        if User.objects.filter(pseudonym__iexact=name).exclude(pk=user.pk).exists():
            raise Conflict("display_name_taken",
                           _("Someone already uses this name. Please choose another."))
        user.pseudonym = name
        user.save(update_fields=["pseudonym"])
        for membership in Membership.objects.filter(user=user):
            taken = (Membership.objects.filter(room_id=membership.room_id, alias=name)
                     .exclude(pk=membership.pk).exists())
            if not taken:
                Membership.objects.filter(pk=membership.pk).update(alias=name)
    return user
