"""The help directory (/help/): the active resources grouped by kind, most urgent first,
filtered by region and language with a plain GET form, phone numbers as tel: links, user text
escaped; reachable from every page with the quick exit next to it."""

from __future__ import annotations

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
             phone="05 22 11 22 33", region="Casablanca-Settat", languages="ar,ary",
             url="https://example.org/centre", verified_on=date(2025, 3, 1))
    resource("Tanger legal clinic", Resource.Kind.LEGAL_AID, phone="0539 00 00 00",
             region="Tanger-Tétouan-Al Hoceïma", languages="fr,en")
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
    assert found["regions"] == ["Casablanca-Settat", "Tanger-Tétouan-Al Hoceïma"]


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
    assert "Crisis and listening line" in html  # the kind's label as a heading


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
