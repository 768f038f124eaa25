"""Issue 13, items 1-4: a limit on every door, each refusal a code with `retry_after`, the same
on the socket and over REST; none of them keeps a client address (docs/security.md).

- help requests: a flood from one socket is refused after the limit while another member's
  ping stays within 2x its baseline; asking again folds into the open alert;
- reports, staff notes, applications, new identities: refused past their limits;
- a raid by throwaway identities is slowed (identities per source, the newcomer bucket);
- reconnect storms are refused at connect, and presence frames are coalesced;
- sign-in: the admin login backs off per username while other accounts sign in; the passphrase
  login backs off per pseudonym and source (never a lock the owner cannot get past) and takes
  the same time whether or not the pseudonym exists or has a passphrase.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.services import identity_authenticate
from moderation import ratelimit
from moderation import services as moderation
from moderation.models import Report
from rooms import applications, hub, protocol, services
from rooms.errors import NotFound, RateLimited
from rooms.models import Membership, Room
from tests.conftest import REDIS_URL, room_create
from tests.test_consumer import enter

adb = database_sync_to_async
ANONYMOUS = "/api/v1/identities/anonymous/"
LOGIN = "/api/v1/identities/login/"


class FastPBKDF2(PBKDF2PasswordHasher):
    """The site's hasher with fewer rounds: the timing test compares work, not its amount."""

    iterations = 20_000


def member(user: User, room: Room) -> Membership:
    return services.rules_accept(membership=services.membership_ensure(user=user, room=room))


def facilitator_of(room: Room) -> User:
    user = User.objects.create_user(username=f"fac-{room.slug}", password="x",
                                    role=User.Role.FACILITATOR, is_staff=True)
    room.facilitators.add(user)
    return user


def refused(call: Any) -> RateLimited:
    with pytest.raises(RateLimited) as caught:
        call()
    error = caught.value
    assert isinstance(error.extra["retry_after"], int) and error.extra["retry_after"] >= 1
    assert error.code in protocol.ERROR_CODES and error.detail
    return error


# --- The mechanism, in-process and on Redis -----------------------------------------------------
@pytest.fixture(params=["in-process", "redis"])
def store(request: Any, settings: Any) -> str:
    if request.param == "redis":
        settings.REDIS_URL, settings.REDIS_PREFIX = REDIS_URL, f"halqa-test-{uuid.uuid4().hex[:8]}"
    return request.param


def test_a_bucket_a_hold_and_a_backoff_behave_alike_in_process_and_on_redis(store):
    limit = ratelimit.Limit("t", burst=3, per_minute=60)
    assert [ratelimit.take(limit, 1).allowed for _ in range(4)] == [True, True, True, False]
    assert 0 < ratelimit.take(limit, 1).retry_after <= 1
    assert ratelimit.take(limit, 2).allowed  # another key, another bucket

    assert ratelimit.hold_left("h", 1).allowed
    ratelimit.hold_set("h", 1, seconds=5)
    assert 4 < ratelimit.hold_left("h", 1).retry_after <= 5
    assert not ratelimit.hold_take("h", 1, seconds=1).allowed
    assert ratelimit.hold_take("h", 2, seconds=1).allowed

    policy = ratelimit.Backoff("b", free=2, first=0.2, cap=0.4, forget=60)
    layer = (policy, ("name",))
    assert ratelimit.backoff_take(layer).allowed  # 1st attempt
    assert ratelimit.backoff_take(layer).allowed  # 2nd: the free ones are used up
    first_wait = ratelimit.backoff_take(layer)
    assert not first_wait.allowed and 0 < first_wait.retry_after <= 0.2
    time.sleep(0.25)
    assert ratelimit.backoff_take(layer).allowed  # never a lock: after the wait, one more try
    second_wait = ratelimit.backoff_take(layer)
    assert not second_wait.allowed and 0.2 < second_wait.retry_after <= 0.4  # doubled, capped
    time.sleep(0.45)
    assert ratelimit.backoff_take(layer).allowed
    assert ratelimit.backoff_take(layer).retry_after <= 0.4  # the cap holds
    ratelimit.backoff_clear(layer)  # a success forgets it all
    assert ratelimit.backoff_take(layer).allowed and ratelimit.backoff_take(layer).allowed


def test_a_source_is_a_digest_that_changes_with_the_key(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    first = ratelimit.request_source({"REMOTE_ADDR": "198.51.100.7"})
    assert first == ratelimit.request_source({"REMOTE_ADDR": "198.51.100.7"})
    assert "198" not in first and first != ratelimit.request_source({"REMOTE_ADDR": "198.51.100.8"})
    # One IPv6 subscriber (a /64) is one source.
    assert (ratelimit.source_digest("2001:db8:1:2::1")
            == ratelimit.source_digest("2001:db8:1:2:ffff::9"))
    now[0] += ratelimit.SOURCE_KEY_SECONDS  # the key is replaced: the same address, a new name
    assert ratelimit.request_source({"REMOTE_ADDR": "198.51.100.7"}) != first


# --- 1. Help requests -----------------------------------------------------------------------------
async def ping_times(socket, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        await socket.send({"type": "ping"})
        await socket.receive_type("pong")
        times.append(time.perf_counter() - started)
    return times


@pytest.mark.django_db(transaction=True)
async def test_a_help_request_flood_is_refused_while_another_members_ping_stays_fast(
        connect, identity):
    """300 help requests from one socket over about a second and a half (the issue's flood was
    1,000 in 10 s): the first few get the help card (one alert for the facilitators, the rest
    folded into it), the next are refused with `too_many_help_requests` and `retry_after`, the
    fifth refusal closes the socket (4429) and what is still on its way is dropped. Another
    member's ping while the flood goes on, measured against its own baseline just before,
    stays within twice it (without the limits it was 60 to 80 times it, in this test)."""
    room = await adb(room_create)()
    f, _ = await enter(connect, await adb(facilitator_of)(room), room)
    flooder_user = await adb(identity)()
    flooder, _ = await enter(connect, flooder_user, room)
    other, _ = await enter(connect, await adb(identity)(), room)
    await ping_times(other, 20)  # warm up
    await drained(f)
    baseline = statistics.median(await ping_times(other, 100))

    async def flood() -> None:
        for _ in range(300):
            await flooder.send({"type": "help.request"})
            await asyncio.sleep(0.005)

    flooding = asyncio.create_task(flood())
    during = []
    while not flooding.done():
        during += await ping_times(other, 1)
    await flooding

    cards, refusals = 0, []
    while True:
        output = await flooder.communicator.receive_output(timeout=10)
        if output["type"] == "websocket.close":
            break
        frame = json.loads(output["text"])
        if frame["type"] == "notice" and frame["code"] == "crisis_support":
            cards += 1
        elif frame["type"] == "error":
            refusals.append(frame)
    assert output["code"] == protocol.CLOSE_FLOODING
    assert cards == ratelimit.HELP_PER_ALIAS.burst
    assert [r["code"] for r in refusals] == ["too_many_help_requests"] * \
        ratelimit.STRIKES_TO_DISCONNECT
    assert all(isinstance(r["retry_after"], int) and r["retry_after"] >= 1 for r in refusals)
    assert refusals[-1]["disconnect"] is True
    assert refusals[-1]["retry_after"] >= ratelimit.FLOOD_CLOSE_HOLD_SECONDS
    # The facilitators were alerted once: the others folded into the open alert.
    staff = [frame["type"] for frame in await drained(f)]
    assert staff.count(protocol.HELP_ALERT) == 1, staff
    assert staff.count(protocol.CONSOLE) == 1, staff
    assert await adb(Report.objects.filter(source=Report.Source.HELP).count)() == 1
    # Measured as a ratio: the flood does not slow anyone else down.
    assert len(during) > 100 and statistics.median(during) <= 2 * baseline, (
        statistics.median(during), baseline)
    # Coming straight back is refused too (the reconnect pause after a 4429).
    again = await connect(flooder_user, room)
    assert (await again.receive())["code"] == "too_many_connections"


async def drained(socket, quiet: float = 0.3) -> list[dict[str, Any]]:
    frames = []
    while not await socket.communicator.receive_nothing(timeout=quiet, interval=0.01):
        frames.append(await socket.receive())
    return frames


@pytest.mark.django_db
def test_asking_again_folds_into_the_open_alert_then_reminds(identity, monkeypatch,
                                                             django_capture_on_commit_callbacks):
    room = room_create()
    person = identity()
    member(person, room)
    raised = []
    real = moderation.crisis.alert_raise
    monkeypatch.setattr(moderation.crisis, "alert_raise",
                        lambda **kw: (raised.append(kw["report"].pk), real(**kw)))
    with django_capture_on_commit_callbacks(execute=True):
        first = moderation.help_request(user=person, room=room)
    with django_capture_on_commit_callbacks(execute=True):
        again = moderation.help_request(user=person, room=room)
    assert again["report_id"] == first["report_id"] and raised == [first["report_id"]]
    assert again["notice"]["code"] == "crisis_support"  # the card each time
    # Some minutes later, nobody having answered: the same alert is raised again, a reminder.
    ratelimit.hold_set("help-fold", first["report_id"], seconds=0.05)
    time.sleep(0.1)
    with django_capture_on_commit_callbacks(execute=True):
        later = moderation.help_request(user=person, room=room)
    assert later["report_id"] == first["report_id"]
    assert raised == [first["report_id"]] * 2
    assert Report.objects.filter(source=Report.Source.HELP).count() == 1


@pytest.mark.django_db
def test_help_requests_are_limited_the_same_over_rest(identity):
    room = room_create()
    person = identity()
    member(person, room)
    client = Client()
    client.force_login(person)
    answers = [client.post(f"/api/v1/rooms/{room.slug}/help/")
               for _ in range(ratelimit.HELP_PER_ALIAS.burst + 1)]
    assert [a.status_code for a in answers[:-1]] == [200] * ratelimit.HELP_PER_ALIAS.burst
    body = answers[-1].json()
    assert answers[-1].status_code == 429 and body["code"] == "too_many_help_requests"
    assert body["retry_after"] >= 1 and "15" in body["detail"]  # where help is, still
    assert answers[-1]["Retry-After"] == str(body["retry_after"])  # for HTTP clients too


@pytest.mark.django_db
def test_a_circles_new_alerts_have_a_ceiling_and_a_refusal_still_gives_the_help_lines(
        identity, monkeypatch):
    monkeypatch.setattr(ratelimit, "HELP_PER_CIRCLE", ratelimit.Limit("help-circle", 2, 1))
    room = room_create()
    people = [identity() for _ in range(3)]
    for person in people:
        member(person, room)
    moderation.help_request(user=people[0], room=room)
    moderation.help_request(user=people[1], room=room)
    error = refused(lambda: moderation.help_request(user=people[2], room=room))
    assert error.code == "too_many_help_requests"
    assert [n["code"] for n in error.extra["notices"]] == ["crisis_support"]


# --- Reports, staff notes, applications -----------------------------------------------------------
@pytest.mark.django_db
def test_reports_staff_notes_and_applications_are_limited(identity):
    room = room_create()
    author, reporter = identity(), identity()
    posted = services.message_post(membership_id=member(author, room).pk, body="hello",
                                   client_id="m1")
    member(reporter, room)
    for _ in range(ratelimit.REPORTS.burst):
        moderation.report_create(user=reporter, room=room, message_id=posted.message.pk,
                                 reason="harassment")
    assert refused(lambda: moderation.report_create(
        user=reporter, room=room, message_id=posted.message.pk, reason="harassment")
    ).code == "too_many_reports"

    fac = facilitator_of(room)
    for n in range(ratelimit.STAFF_NOTES.burst):
        moderation.staff_say(actor=fac, room=room, body=f"note {n}")
    assert refused(lambda: moderation.staff_say(actor=fac, room=room, body="one more")
                   ).code == "too_many_notes"

    applicant = identity()
    for _ in range(ratelimit.APPLICATIONS.burst):
        with pytest.raises(NotFound):  # counted before anything is looked up
            applications.application_submit(user=applicant, session_id=0,
                                            day=timezone.localdate())
    assert refused(lambda: applications.application_submit(
        user=applicant, session_id=0, day=timezone.localdate())
    ).code == "too_many_applications"


@pytest.mark.django_db(transaction=True)
async def test_a_report_flood_gets_the_same_code_on_the_socket(connect, identity):
    room = await adb(room_create)()
    a, _ = await enter(connect, await adb(identity)(), room)
    b, _ = await enter(connect, await adb(identity)(), room)
    await a.send({"type": "message.send", "body": "hello", "client_id": "m1"})
    message_id = (await a.receive_type("message.ack"))["id"]
    codes = []
    for _ in range(ratelimit.REPORTS.burst + 1):
        await b.send({"type": "report", "message_id": message_id, "reason": "harassment"})
        frame = await b.receive()
        while frame["type"] not in ("notice", "error"):
            frame = await b.receive()
        codes.append(frame["code"])
    assert codes == ["report_received"] * ratelimit.REPORTS.burst + ["too_many_reports"]
    assert frame["retry_after"] >= 1


# --- 2. New identities, without keeping an address ---------------------------------------------
_browser = None


def create_identity(address: str) -> tuple[int, dict[str, Any], User | None]:
    """A new browser (no cookie) asks for an identity from `address`."""
    global _browser
    if _browser is None:  # one client: a new one sets up the whole middleware stack again
        _browser = Client()
    _browser.cookies.clear()
    response = _browser.post(ANONYMOUS, {"language": "en"}, content_type="application/json",
                             REMOTE_ADDR=address)
    user = get_user(_browser) if response.status_code == 201 else None
    return response.status_code, response.json(), user


@pytest.mark.django_db
def test_identities_made_from_one_connection_are_limited_and_others_are_not():
    burst = ratelimit.IDENTITIES_PER_SOURCE.burst
    answers = [create_identity("192.0.2.10") for _ in range(burst + 1)]
    assert [status for status, _body, _user in answers[:-1]] == [201] * burst
    status, body, _user = answers[-1]
    assert status == 429 and body["code"] == "too_many_identities" and body["retry_after"] >= 1
    assert create_identity("192.0.2.11")[0] == 201  # another connection is not affected
    assert User.objects.filter(is_pseudonymous=True).count() == burst + 1


@pytest.mark.django_db
def test_a_raid_by_throwaway_identities_is_slowed(monkeypatch):
    """40 throwaway identities, 5 messages each, in a circle with the default flood settings:
    before issue 13 all 200 were stored (the issue's finding, and the first run below with the
    limits switched off). Now one connection makes 20 identities, and the circle's newcomers
    share one bucket (4 people's burst, one person's rate): a few seconds of raid store 20,
    from one connection or from forty."""
    burst = 5
    room = room_create(flood_burst=burst, flood_per_minute=20)  # a circle's defaults

    def raid(room: Room, addresses: list[str], *, limits: bool) -> tuple[int, int]:
        users = []
        for address in addresses:
            if limits:
                status, _body, user = create_identity(address)
            else:
                user = User.objects.create(username=f"anon-{uuid.uuid4().hex[:12]}",
                                           is_pseudonymous=True, pseudonym=uuid.uuid4().hex)
                status = 201
            if status == 201:
                users.append(user)
        stored = 0
        for user in users:
            membership = member(user, room)
            for n in range(5):
                try:
                    services.message_post(membership_id=membership.pk, body=f"raid {n}",
                                          client_id=uuid.uuid4().hex)
                    stored += 1
                except RateLimited as exc:
                    assert exc.code == "rate_limited" and exc.extra["retry_after"] >= 1
        return len(users), stored

    with monkeypatch.context() as off:
        off.setattr(ratelimit, "NEWCOMER_MINUTES", 0)
        assert raid(room, [f"203.0.113.{n}" for n in range(40)], limits=False) == (40, 200)
    one_source = raid(room_create(flood_burst=burst), ["198.51.100.1"] * 40, limits=True)
    assert one_source[0] <= ratelimit.IDENTITIES_PER_SOURCE.burst + 1
    many_sources = raid(room_create(flood_burst=burst),
                        [f"198.51.100.{n}" for n in range(100, 140)], limits=True)
    newcomers = burst * ratelimit.NEWCOMERS_AS_PEOPLE
    assert many_sources[0] == 40
    for _identities, stored in (one_source, many_sources):
        assert newcomers <= stored <= newcomers + 2, (one_source, many_sources)


@pytest.mark.django_db
def test_newcomers_share_a_circles_bucket_and_settled_members_do_not(identity):
    room, elsewhere = room_create(flood_burst=5), room_create(flood_burst=5)
    settled = identity()
    User.objects.filter(pk=settled.pk).update(
        date_joined=timezone.now() - timedelta(minutes=ratelimit.NEWCOMER_MINUTES + 1))

    def stored(user: User, room: Room) -> int:
        membership, count = member(user, room), 0
        for n in range(5):
            try:
                services.message_post(membership_id=membership.pk, body=f"hello {n}",
                                      client_id=f"c{n}")
                count += 1
            except RateLimited as exc:
                assert exc.code == "rate_limited" and exc.extra["retry_after"] >= 1
        return count

    # Someone new says what they came to say, at once, like anyone.
    fresh = [identity() for _ in range(ratelimit.NEWCOMERS_AS_PEOPLE + 2)]
    assert stored(fresh[0], room) == 5
    # Many new ones together speak like a few people, then wait their turn.
    assert [stored(user, room) for user in fresh[1:]] == [5, 5, 5, 0, 0]
    assert stored(settled, room) == 5  # members who were there before are not slowed
    assert stored(fresh[-1], elsewhere) == 5  # and another circle has its own bucket
    # Someone in danger is never held back, newcomer or not.
    services.message_post(membership_id=Membership.objects.get(user=fresh[-1], room=room).pk,
                          body="I want to kill myself", client_id="c-crisis")


@pytest.mark.redis
@pytest.mark.django_db
def test_no_address_reaches_redis(redis_layers):
    import redis

    canary = "198.51.100.77"
    assert create_identity(canary)[0] == 201
    Client(REMOTE_ADDR=canary).post(LOGIN, {"pseudonym": "nobody", "passphrase": "wrong one"},
                                    content_type="application/json")
    client = redis.Redis.from_url(REDIS_URL)
    prefix = redis_layers["default"]["CONFIG"]["prefix"]
    keys = list(client.scan_iter(f"{prefix}*"))
    assert any(b":rate:identity:" in key for key in keys)  # the limit was counted there
    for key in keys:
        kind = client.type(key).decode()
        value = (client.get(key) if kind == "string" else
                 repr(client.hgetall(key)).encode() if kind == "hash" else b"")
        assert canary.encode() not in key + (value or b""), key
        assert client.ttl(key) > 0, key  # and every key expires on its own


# --- 3. Reconnects, and presence in a storm ------------------------------------------------------
@pytest.mark.django_db(transaction=True)
async def test_a_reconnect_storm_is_refused_at_connect(connect, identity):
    room = await adb(room_create)()
    user = await adb(identity)()
    socket, _ = await enter(connect, user, room)
    await socket.close()
    refusals = []
    for _ in range(ratelimit.CONNECTS.burst + 15):
        socket = await connect(user, room)
        frame = await socket.receive()
        if frame["type"] == "error":
            out = await socket.communicator.receive_output(timeout=2)
            refusals.append((frame["code"], frame["retry_after"] >= 1, out["code"]))
        else:
            assert frame["type"] == "welcome" and frame["joined"]
            await socket.close()
    assert len(refusals) >= 10
    assert set(refusals) == {("too_many_connections", True, protocol.CLOSE_FLOODING)}


@pytest.mark.django_db(transaction=True)
async def test_a_socket_closed_for_flooding_is_refused_when_it_comes_straight_back(
        connect, identity):
    room = await adb(room_create)(flood_burst=1, flood_per_minute=1)
    user = await adb(identity)()
    socket, _ = await enter(connect, user, room)
    n, frame = 0, None
    while True:
        n += 1
        await socket.send({"type": "message.send", "body": f"spam {n}", "client_id": f"s{n}"})
        frame = await socket.receive()
        while frame["type"] not in ("message.ack", "error"):
            frame = await socket.receive()
        if frame.get("disconnect"):
            break
    assert frame["code"] == "rate_limited"
    assert frame["retry_after"] >= ratelimit.FLOOD_CLOSE_HOLD_SECONDS
    assert (await socket.communicator.receive_output(timeout=2))["code"] == \
        protocol.CLOSE_FLOODING
    again = await connect(user, room)
    refusal = await again.receive()
    assert refusal["code"] == "too_many_connections"
    assert ratelimit.FLOOD_CLOSE_HOLD_SECONDS - 2 <= refusal["retry_after"] <= \
        ratelimit.FLOOD_CLOSE_HOLD_SECONDS
    assert (await again.communicator.receive_output(timeout=2))["code"] == \
        protocol.CLOSE_FLOODING


@pytest.mark.django_db(transaction=True)
async def test_a_reconnect_storm_costs_the_others_a_few_presence_frames(connect, identity):
    room = await adb(room_create)()
    stayer, _ = await enter(connect, await adb(identity)(), room)
    stormer_user = await adb(identity)()
    socket, _ = await enter(connect, stormer_user, room)
    await socket.close()
    await drained(stayer)
    started = time.monotonic()
    cycles = 15
    for _ in range(cycles):  # each one enters and leaves: two presence changes
        socket = await connect(stormer_user, room)
        await socket.receive_type("welcome")
        await socket.close()
    frames = [frame for frame in await drained(stayer, quiet=0.6)
              if frame["type"] == protocol.PRESENCE]
    elapsed = time.monotonic() - started
    ceiling = hub.COALESCE_BURST + elapsed / hub.COALESCE_SECONDS + 2
    assert len(frames) <= ceiling < 2 * cycles, (len(frames), ceiling)
    stormer = await adb(Membership.objects.get)(user=stormer_user, room=room)
    assert stormer.alias not in {m["alias"] for m in frames[-1]["members"]}  # the last is true


async def test_the_hub_delivers_the_newest_snapshot_and_at_most_a_few_per_interval():
    delivered: list[int] = []

    class Member:
        async def hub_event(self, event: dict[str, Any]) -> None:
            delivered.append(event["n"])

    the_hub = hub.Hub(loop=asyncio.get_running_loop(), alias="test")
    the_hub.rooms[1] = {Member()}
    for n in range(100):
        the_hub.deliver(1, {"type": hub.RELAY, "n": n, hub.COALESCE: "presence"})
        the_hub.deliver(1, {"type": hub.RELAY, "n": -1})  # others are never held back
    await asyncio.sleep(hub.COALESCE_SECONDS * 2.5)
    snapshots = [n for n in delivered if n >= 0]
    assert delivered.count(-1) == 100
    assert snapshots[:hub.COALESCE_BURST] == list(range(hub.COALESCE_BURST))
    assert snapshots[-1] == 99 and len(snapshots) == hub.COALESCE_BURST + 1


# --- 4. Sign-in ---------------------------------------------------------------------------------
def admin_login(username: str, password: str) -> tuple[Client, Any]:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    return client, client.post("/admin/login/?next=/admin/", {
        "username": username, "password": password, "next": "/admin/"})


@pytest.mark.django_db
def test_admin_login_backs_off_per_username_while_another_account_signs_in(settings):
    settings.PASSWORD_HASHERS = ["tests.test_limits.FastPBKDF2"]
    for name in ("staff-a", "staff-b"):
        User.objects.create_user(username=name, password=f"right-{name}", is_staff=True,
                                 is_superuser=True, role=User.Role.ADMIN)
    for _ in range(ratelimit.ADMIN_PER_USERNAME.free):
        client, response = admin_login("staff-a", "wrong")
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    client, locked = admin_login("staff-a", "right-staff-a")  # even the right password waits
    assert locked.status_code == 200 and "_auth_user_id" not in client.session
    assert "Too many attempts" in locked.content.decode()
    client, signed_in = admin_login("staff-b", "right-staff-b")  # another account: not locked
    assert signed_in.status_code == 302 and "_auth_user_id" in client.session
    assert admin_login("no-such-staff", "x")[1].status_code == 200


@pytest.mark.django_db
def test_passphrase_login_backs_off_without_locking_the_owner_out(identity, settings):
    settings.PASSWORD_HASHERS = ["tests.test_limits.FastPBKDF2"]
    owner = identity()
    owner.set_password("olive trees in the rain")
    owner.save()
    attacker = Client(REMOTE_ADDR="203.0.113.5")

    def attempt(client: Client, passphrase: str) -> Any:
        return client.post(LOGIN, {"pseudonym": owner.pseudonym, "passphrase": passphrase},
                           content_type="application/json")

    for _ in range(ratelimit.PASSPHRASE_PER_SOURCE.free):
        assert attempt(attacker, "guess").json()["code"] == "bad_credentials"
    waiting = attempt(attacker, "olive trees in the rain")
    assert waiting.status_code == 429 and waiting.json()["code"] == "too_many_attempts"
    assert 1 <= waiting.json()["retry_after"] <= ratelimit.PASSPHRASE_PER_SOURCE.first + 1
    # The owner, elsewhere, is not held back by the attacker's guesses.
    owner_client = Client(REMOTE_ADDR="192.0.2.44")
    assert attempt(owner_client, "olive trees in the rain").status_code == 200
    # Many sources guessing one pseudonym: it waits, but for two minutes at most, never an hour.
    assert ratelimit.PASSPHRASE_PER_PSEUDONYM.cap <= 120


@pytest.mark.django_db
def test_passphrase_login_takes_the_same_time_whoever_is_asked_about(identity, settings):
    settings.PASSWORD_HASHERS = ["tests.test_limits.FastPBKDF2"]
    with_passphrase, without = identity(), identity()
    with_passphrase.set_password("olive trees in the rain")
    with_passphrase.save()

    def seconds(pseudonym: str) -> float:
        started = time.perf_counter()
        with pytest.raises(Exception) as caught:
            identity_authenticate(pseudonym=pseudonym, passphrase="wrong guess",
                                  source=uuid.uuid4().hex)
        assert getattr(caught.value, "code", "") == "bad_credentials"
        return time.perf_counter() - started

    names = {"has": with_passphrase.pseudonym, "nobody": f"nobody-{uuid.uuid4().hex[:6]}",
             "no_passphrase": without.pseudonym}
    times: dict[str, list[float]] = {case: [] for case in names}
    for _ in range(15):  # in turn, so that a busy moment of the machine falls on all three
        for case, pseudonym in names.items():
            times[case].append(seconds(pseudonym))
    has, nobody, no_passphrase = (statistics.median(times[case]) for case in names)
    for other in (nobody, no_passphrase):
        assert 0.5 <= other / has <= 2, (has, nobody, no_passphrase)
