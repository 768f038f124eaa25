"""The help directory (/help/): the active resources grouped by kind, most urgent first,
filtered by region and language with a plain GET form, phone numbers as tel: links, user text
escaped; reachable from every page with the quick exit next to it."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from moderation.models import Resource
from moderation.selectors import DIRECTORY_KINDS, resources_directory
from tests.conftest import room_create

pytestmark = pytest.mark.django_db

TEMPLATE = Path(__file__).resolve().parents[1] / "web" / "templates" / "web" / "help.html"


def resource(name: str, kind: str, **fields: Any) -> Resource:
    return Resource.objects.create(name=name, kind=kind, **fields)


@pytest.fixture
def directory() -> None:
    resource("Police", Resource.Kind.EMERGENCY, phone="19", order=10, languages="ar,ary,fr,en")
    resource("Listening line", Resource.Kind.CRISIS_LINE, phone="+212 5 22 00 00 00",
             hours="9h-18h", languages="ar,ary,fr", order=20)
    resource("Casablanca women's centre", Resource.Kind.VIOLENCE_AGAINST_WOMEN,
             phone="05 22 11 22 33", regions="Casablanca-Settat", languages="ar,ary",
             url="https://example.org/centre", verified_on=date(2025, 3, 1))
    resource("Tanger legal clinic", Resource.Kind.LEGAL_AID, phone="0539 00 00 00",
             regions="Tanger-Tétouan-Al Hoceïma, Oriental", languages="fr,en")
    resource("Family mediation office", Resource.Kind.FAMILY_MEDIATION, phone="0537 00 00 00",
             languages="fr")
    resource("Closed line", Resource.Kind.HEALTH, phone="0800 000 000", is_active=False)


def page(interface: str = "en", **params: str) -> str:
    """The page in the `interface` language, with the filters in `params`."""
    response = Client().get(reverse("help"), params, HTTP_ACCEPT_LANGUAGE=interface)
    assert response.status_code == 200
    return response.content.decode()


def section_ids(html: str) -> list[str]:
    return re.findall(r'<section class="help-kind" id="kind-([a-z_]+)"', html)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- The service -------------------------------------------------------------------------------
def test_groups_follow_the_urgency_order_and_leave_out_inactive_resources(directory):
    found = resources_directory()
    kinds = [group["kind"] for group in found["groups"]]
    assert kinds == [kind.value for kind in DIRECTORY_KINDS if kind.value in kinds]
    assert kinds[:2] == ["emergency", "crisis_line"]
    names = [r["name"] for group in found["groups"] for r in group["resources"]]
    assert "Closed line" not in names
    assert "health" not in kinds  # its only resource is inactive: no empty section
    assert found["regions"] == ["Casablanca-Settat", "Oriental", "Tanger-Tétouan-Al Hoceïma"]


def test_region_keeps_that_region_and_the_nationwide_ones(directory):
    names = {r["name"] for group in resources_directory(region="Casablanca-Settat")["groups"]
             for r in group["resources"]}
    assert "Casablanca women's centre" in names
    assert "Police" in names  # nationwide
    assert "Tanger legal clinic" not in names


def test_language_filter_and_darija_finds_arabic(directory):
    french = {r["name"] for group in resources_directory(language="fr")["groups"]
              for r in group["resources"]}
    assert french == {"Police", "Listening line", "Family mediation office", "Tanger legal clinic"}
    Resource.objects.create(name="Arabic only", kind=Resource.Kind.HEALTH, languages="ar")
    darija = {r["name"] for group in resources_directory(language="ary")["groups"]
              for r in group["resources"]}
    assert "Arabic only" in darija
    assert "Family mediation office" not in darija


def test_unknown_filters_are_ignored(directory):
    found = resources_directory(language="xx", region="Atlantis")
    assert found["language"] == "" and found["region"] == ""
    assert len([r for g in found["groups"] for r in g["resources"]]) == 5


# --- The page ----------------------------------------------------------------------------------
def test_page_shows_the_groups_with_headings_and_tel_links(directory):
    html = page()
    assert section_ids(html) == ["emergency", "crisis_line", "violence_women", "legal_aid",
                                 "family_mediation"]
    assert 'href="tel:+212522000000"' in html
    assert 'href="tel:0522112233"' in html
    assert 'href="tel:19"' in html
    assert "Closed line" not in html
    assert '<a href="https://example.org/centre"' in html
    assert "Mental health and listening line" in html  # the kind's label as a heading


def test_filters_are_a_plain_get_form_that_keeps_the_choice(directory):
    html = page(region="Tanger-Tétouan-Al Hoceïma", language="en")
    assert re.search(r'<form class="filters panel" method="get"', html)
    assert 'value="Tanger-Tétouan-Al Hoceïma" selected' in html
    assert '<option value="en" selected>' in html
    assert section_ids(html) == ["emergency", "legal_aid"]
    assert "Casablanca women" not in html


def test_nothing_found_says_so_and_offers_everything(directory):
    html = page(language="en", region="Casablanca-Settat")
    assert "Casablanca women" not in html  # Arabic and Darija only
    Resource.objects.all().delete()
    html = page()
    assert "No service matches these choices." in html


def test_user_text_is_escaped():
    resource("<script>alert(1)</script>", Resource.Kind.HEALTH, phone="05 <b>",
             description='"><img src=x onerror=alert(1)>', hours="<i>24/7</i>")
    html = page()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "<i>24/7</i>" not in html
    assert 'href="tel:05"' in html  # only digits and + go into the link


def test_a_non_web_address_is_never_a_link():
    Resource.objects.create(name="Odd", kind=Resource.Kind.HEALTH, url="javascript:alert(1)")
    assert "javascript:" not in page()


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fr", "ltr"), ("ar", "rtl")])
def test_page_in_each_language_and_direction(directory, language, direction):
    html = page(language)
    assert f'<html lang="{language}" dir="{direction}">' in html
    # Phone numbers stay left to right inside Arabic text.
    assert re.search(r'<a class="phone" href="tel:19" dir="ltr">', html)


def test_quick_exit_is_explained(directory):
    words = text(page())
    assert "Escape key three times" in words
    assert "Back button does not bring Halqa back" in words


# --- Every page: "Get help now" and the quick exit ------------------------------------------------
def test_every_page_links_to_help_and_has_the_quick_exit(settings):
    settings.HALQA = {**settings.HALQA, "QUICK_EXIT_URL": "https://weather.example/today"}
    room = room_create()
    for url in (reverse("room-list-page"), reverse("room-page", args=[room.slug]),
                reverse("privacy"), reverse("help")):
        html = Client().get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        header = html.split("</header>", 1)[0]
        assert f'class="get-help" href="{reverse("help")}"' in header, url
        assert re.search(r'id="quick-exit" class="quick-exit" href="https://weather.example/today"',
                         header), url
        assert "halqa/quick-exit.js" in html, url


def test_quick_exit_default_is_a_neutral_outside_page(settings):
    from django.conf import settings as conf

    assert conf.HALQA["QUICK_EXIT_URL"].startswith("https://")
    assert "halqa" not in conf.HALQA["QUICK_EXIT_URL"].lower()


def test_every_sentence_of_the_template_goes_through_translation():
    source = TEMPLATE.read_text()
    source = re.sub(r"{%\s*blocktranslate.*?%}.*?{%\s*endblocktranslate\s*%}", " ", source,
                    flags=re.S)
    source = re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}|<[^>]*>", " ", source, flags=re.S)
    left = [word for word in re.findall(r"[A-Za-z]{2,}", source)]
    assert not left, left


# --- A directory worth the name (issue 10): kinds, several regions, examples, the seed ---------
def test_every_kind_has_its_place_on_the_page():
    assert set(DIRECTORY_KINDS) == set(Resource.Kind)
    assert Resource.Kind.CRISIS_LINE.label == "Mental health and listening line"


def test_a_resource_serving_several_regions_is_found_in_each(directory):
    for region in ("Tanger-Tétouan-Al Hoceïma", "oriental"):  # names match whatever the case
        found = resources_directory(region=region)
        names = {r["name"] for group in found["groups"] for r in group["resources"]}
        assert "Tanger legal clinic" in names and "Police" in names, region
        assert "Casablanca women's centre" not in names
    assert resources_directory(region="oriental")["region"] == "Oriental"
    words = text(page(region="Oriental"))
    assert "Regions: Tanger-Tétouan-Al Hoceïma , Oriental" in words
    assert "Region: Casablanca-Settat" in text(page())


def test_example_entries_are_listed_last_and_marked_as_such(directory):
    resource("Youth example", Resource.Kind.YOUTH, is_example=True,
             description="Example entry — to be filled in by the admin")
    resource("Example listening line", Resource.Kind.CRISIS_LINE, is_example=True, order=1)
    listening = next(g for g in resources_directory()["groups"] if g["kind"] == "crisis_line")
    assert [r["name"] for r in listening["resources"]] == ["Listening line",
                                                           "Example listening line"]
    html = page()
    assert section_ids(html)[-1] == "youth"
    youth = html.split('id="kind-youth"', 1)[1]
    assert 'class="resource-card example"' in youth
    assert "Example entry — to be filled in by the admin" in text(youth)
    assert "Exemple — à compléter par l’administrateur" in text(page("fr"))


def test_a_person_in_crisis_and_the_desk_get_the_fitting_resources_first_never_examples(
        directory):
    from moderation import care

    resource("Oriental line", Resource.Kind.CRISIS_LINE, phone="0536 00 00 00",
             regions="Oriental", languages="ar,ary", facilitator_note="Call before 18h.")
    resource("Women example", Resource.Kind.VIOLENCE_AGAINST_WOMEN, is_example=True,
             languages="ar,ary,fr,en")
    card = [r["name"] for r in care.resources_ranked(language="ary", region="Oriental")]
    # Emergency first, then the person's region before nationwide lines before other regions';
    # only what is offered in their language (Darija finds Arabic); never an example entry.
    assert card == ["Police", "Oriental line", "Listening line", "Casablanca women's centre"]
    assert "facilitator_note" not in care.resources_ranked(language="ary", region="Oriental")[0]
    desk = care.resources_ranked(language="ary", region="Oriental", for_staff=True)
    assert [r["name"] for r in desk] == [
        "Police", "Oriental line", "Listening line", "Casablanca women's centre",
        "Tanger legal clinic", "Family mediation office"]
    assert [r["fits"] for r in desk] == [True, True, True, False, False, False]
    assert desk[1]["facilitator_note"] == "Call before 18h."
    assert desk[1]["regions"] == ["Oriental"]


def test_seed_demo_holds_the_emergency_numbers_and_marked_examples_without_numbers():
    from django.core.management import call_command

    call_command("seed_demo", stdout=open(os.devnull, "w"))
    emergency = Resource.objects.filter(kind=Resource.Kind.EMERGENCY, is_example=False)
    assert sorted(emergency.values_list("phone", flat=True)) == ["15", "177", "19"]
    examples = Resource.objects.filter(is_example=True)
    assert {r.kind for r in examples} == {
        Resource.Kind.CRISIS_LINE, Resource.Kind.VIOLENCE_AGAINST_WOMEN,
        Resource.Kind.FAMILY_MEDIATION, Resource.Kind.LEGAL_AID, Resource.Kind.YOUTH,
        Resource.Kind.EMPLOYMENT_TRAINING}
    for example in examples:  # nothing invented: no number, no address
        assert (example.phone, example.url) == ("", ""), example.name
        assert "Example entry — to be filled in by the admin" in example.description
        assert "à compléter" in example.description and "مثال" in example.description
    assert any(len(example.region_list) > 1 for example in examples)
    before = sorted(Resource.objects.values_list("pk", "name", "phone"))
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # again: nothing changes
    assert sorted(Resource.objects.values_list("pk", "name", "phone")) == before


def test_the_admin_manages_regions_examples_and_the_note_for_facilitators(directory):
    from accounts.models import User

    Resource.objects.filter(name="Tanger legal clinic").update(
        facilitator_note="Free for people on low incomes.")
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(User.objects.create_superuser(username="resources-admin", password="x",
                                                    role=User.Role.ADMIN))
    listing = admin.get("/admin/moderation/resource/", {"region": "Oriental"}).content.decode()
    assert "Tanger legal clinic" in listing and "Casablanca women" not in listing
    assert "Free for people on low incomes." in listing  # the note for facilitators column
    assert "Tanger-Tétouan-Al Hoceïma, Oriental" in listing
    nationwide = admin.get("/admin/moderation/resource/", {"region": "-"}).content.decode()
    assert "Police" in nationwide and "Tanger legal clinic" not in nationwide
    pk = Resource.objects.get(name="Tanger legal clinic").pk
    form = admin.get(f"/admin/moderation/resource/{pk}/change/").content.decode()
    for field in ("regions", "is_example", "facilitator_note"):
        assert f'name="{field}"' in form, field


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_each_resource_s_region():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("moderation", "0007_action_member_readmit")]
    after = [("moderation", "0008_resource_regions")]
    MigrationExecutor(connection).migrate(before)
    old = MigrationExecutor(connection).loader.project_state(before).apps
    rows = old.get_model("moderation", "Resource").objects
    rows.create(name="Regional", kind="legal_aid", region="Oriental")
    rows.create(name="National", kind="legal_aid", region="")
    try:
        MigrationExecutor(connection).migrate(after)
        new = MigrationExecutor(connection).loader.project_state(after).apps
        migrated = dict(new.get_model("moderation", "Resource").objects
                        .values_list("name", "regions"))
        assert migrated == {"Regional": "Oriental", "National": ""}
        MigrationExecutor(connection).migrate(before)  # and back
        back = (MigrationExecutor(connection).loader.project_state(before).apps
                .get_model("moderation", "Resource").objects.values_list("name", "region"))
        assert dict(back) == {"Regional": "Oriental", "National": ""}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
