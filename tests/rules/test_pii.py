"""Personal details: phone numbers, e-mail addresses, CIN numbers and links."""

from __future__ import annotations

import pytest

from moderation.pipeline import (
    EMAIL_PLACEHOLDER,
    ID_PLACEHOLDER,
    LINK_PLACEHOLDER,
    PHONE_PLACEHOLDER,
    RuleContext,
    RuleSettings,
    run_pipeline,
)

# --- phone numbers ----------------------------------------------------------------------

PHONES = [
    ("call me on {} tonight", "0612345678"),
    ("my number: {}", "06 12 34 56 78"),
    ("{} c'est mon numéro", "06.12.34.56.78"),
    ("appelle-moi au {} stp", "06-12-34-56-78"),
    ("{} whatsapp", "+212 6 12 34 56 78"),
    ("sonne-moi {}", "+212612345678"),
    ("{} c mon num", "00212612345678"),
    ("{} 3afak sift liya", "0 6 12 34 56 78"),
    ("le fixe {} (bureau)", "05 22 12 34 56"),
    ("fixe: {}", "0522-12-34-56"),
    ("tel {} merci", "0661 23 45 67"),
    ("num {} ok", "0661 234 567"),
    ("mon autre numéro {}", "07 01 02 03 04"),
    ("from abroad {}", "+212 (0)6 12 34 56 78"),
    ("{} dial khti", "+212-6-12-34-56-78"),
    ("hada {} dyali", "212612345678"),
    ("{} hada nmra dyali", "612345678"),
    ("رقمي {} عيط ليا", "\u0660\u0666\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668"),
    ("شماره {}", "\u06f0\u06f6\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8"),
    ("عيط ليا {} من فضلك", "\u0660\u0666 \u0661\u0662 \u0663\u0664 \u0665\u0666 \u0667\u0668"),
    ("واتساب {}", "+\u0662\u0661\u0662\u0666\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668"),
    ("{} en France", "+33 6 12 34 56 78"),
    ("in SF: {}", "+1 415 555 2671"),
    ("London office {}", "+44 20 7946 0958"),
    ("{} depuis la France", "0033 6 12 34 56 78"),
    ("en España {}", "+34 612 34 56 78"),
    ("Berlin {}", "+49 30 12345678"),
    ("sift liya msg f {} 3afak", "0698765432"),
    ("عيط ليا ف {} من فضلك", "0698765432"),
    ("mon fixe {} à Rabat", "0537 12 34 56"),
    ("my num is {}, call after 9h30", "0612345678"),
    ("{} wa", "+212 661-234567"),
    ("nbsp {} x", "06\u00a012\u00a034\u00a056\u00a078"),
    ("{} !", "+212.6.12.34.56.78"),
    ("contact {}", "+216 98 123 456"),
]


@pytest.mark.parametrize(("template", "number"), PHONES)
def test_phone_numbers_are_hidden(template: str, number: str) -> None:
    out = run_pipeline(template.format(number))
    assert out.text == template.format(PHONE_PLACEHOLDER)
    assert [(r.rule, r.count) for r in out.rewrites] == [("pii", 1)]
    assert [n.code for n in out.nudges] == ["phone_hidden"]
    assert out.breaches == ("pii",)
    assert run_pipeline(out.text).text == out.text  # placeholders are left alone


def test_two_numbers_in_one_message() -> None:
    out = run_pipeline("appelle 06 98 76 54 32 ou 07 11 22 33 44")
    assert out.text == f"appelle {PHONE_PLACEHOLDER} ou {PHONE_PLACEHOLDER}"
    assert out.rewrites[0].count == 2


NOT_PHONES = [
    "on se voit le 12/05/2024",
    "rendez-vous 2024-05-12",
    "le 12.05.2024 à 14:30",
    "le 05.12.2024 10:30",
    "le 06/12/2024 à 18h",
    "à 14:30",
    "vers 9h30",
    "ça coûte 150 DH",
    "1 200 dh par mois",
    "2500 درهم",
    "1 200 000 dh",
    "€20 only",
    "since 2019",
    "depuis 3 ans",
    "I lost 20 kg",
    "I slept 4 hours",
    "call 19 or 177 now",
    "appelle le 15 ou le 19",
    "عيط ل 19 ولا 15 دابا",
    "in 1998 and 2005",
    "the 2024-2025 season",
    "3 kids aged 5, 8 and 12",
    "score 10-2",
    "room 0612",
    "mon code postal 20250",
    "1/2 comprimé",
    "٢٠٢٤/٠٥/١٢",
]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_not_phone_numbers_stay_visible(text: str) -> None:
    out = run_pipeline(text)
    assert out.text == text
    assert out.rewrites == () and out.nudges == ()


def test_phone_hiding_can_be_turned_off() -> None:
    ctx = RuleContext(settings=RuleSettings(hide_phone_numbers=False))
    assert run_pipeline("0612345678", ctx).text == "0612345678"


# --- e-mail -------------------------------------------------------------------------------

EMAILS = [
    ("write to {} please", "salma.b@gmail.com"),
    ("mail: {}", "x_y+tag@mail.example.co.uk"),
    ("{} هذا بريدي", "name@hotmail.fr"),
    ("contact {}", "Someone@Yahoo.COM"),
    ("mail {} !", "name at gmail dot com"),
    ("mail {}", "name [at] gmail.com"),
    ("mail {}", "name(at)gmail(dot)com"),
    ("écris à {} stp", "nom arobase gmail point com"),
    ("mail {}", "name @ gmail.com"),
]


@pytest.mark.parametrize(("template", "address"), EMAILS)
def test_emails_are_hidden(template: str, address: str) -> None:
    out = run_pipeline(template.format(address))
    assert out.text == template.format(EMAIL_PLACEHOLDER)
    assert [n.code for n in out.nudges] == ["email_hidden"]


@pytest.mark.parametrize(
    "text",
    [
        "meet me at school",
        "we're at work. Me too",
        "look at this",
        "@salma merci",
        "I'm at home dot",
        "email me later",
    ],
)
def test_not_emails(text: str) -> None:
    assert run_pipeline(text).text == text


def test_email_hiding_can_be_turned_off() -> None:
    ctx = RuleContext(settings=RuleSettings(hide_emails=False, allow_links=True))
    assert run_pipeline("a.b@gmail.com", ctx).text == "a.b@gmail.com"


# --- Moroccan CIN -------------------------------------------------------------------------

CINS = [
    ("ma carte {}", "AB123456"),
    ("CIN: {}", "J123456"),
    ("{} hiya la carte", "BK 654321"),
    ("numéro {}", "ee12345"),
    ("البطاقة {}", "AB\u0661\u0662\u0663\u0664\u0665\u0666"),
    ("cin {}.", "X-123456"),
]


@pytest.mark.parametrize(("template", "cin"), CINS)
def test_national_ids_are_hidden(template: str, cin: str) -> None:
    out = run_pipeline(template.format(cin))
    assert out.text == template.format(ID_PLACEHOLDER)
    assert [n.code for n in out.nudges] == ["id_hidden"]


@pytest.mark.parametrize(
    "text",
    [
        "I paid a 15000 bill",
        "de 150000 dirhams",
        "le 120000",
        "CP 20250 Casablanca",
        "take 20mg",
        "MG 12345",
        "COVID19",
        "class 12345",
        "iPhone 15",
        "In 123456 cases",
    ],
)
def test_not_national_ids(text: str) -> None:
    assert run_pipeline(text).text == text


def test_id_hiding_can_be_turned_off() -> None:
    ctx = RuleContext(settings=RuleSettings(hide_national_ids=False))
    assert run_pipeline("AB123456", ctx).text == "AB123456"


# --- links ----------------------------------------------------------------------------------

LINKS = [
    ("see {}", "https://example.org/help"),
    ("see {} now", "http://example.com"),
    ("{} for info", "www.example.com/page?x=1"),
    ("join {}", "t.me/secretgroup"),
    ("{} dm", "wa.me/212612345678"),
    ("short {}", "bit.ly/abc123"),
    ("go to {}.", "example.com/x"),
    ("شوف {}", "https://hespress.com/a-b"),
    ("annonce {}", "avito.ma/fr/maroc"),
    ("site {}", "my-site.net"),
    ("({})", "https://en.wikipedia.org/wiki/Test"),
]


@pytest.mark.parametrize(("template", "link"), LINKS)
def test_links_hidden_when_not_allowed(template: str, link: str) -> None:
    out = run_pipeline(template.format(link))
    assert out.text == template.format(LINK_PLACEHOLDER)
    assert [n.code for n in out.nudges] == ["link_hidden"]
    assert out.breaches == ("pii",)


@pytest.mark.parametrize(("template", "link"), LINKS)
def test_links_kept_when_allowed(template: str, link: str) -> None:
    ctx = RuleContext(settings=RuleSettings(allow_links=True))
    out = run_pipeline(template.format(link), ctx)
    if link.startswith("wa.me/"):  # the phone number inside is still personal data
        assert out.text == template.format(f"wa.me/{PHONE_PLACEHOLDER}")
    else:
        assert out.text == template.format(link)


@pytest.mark.parametrize(
    "text",
    [
        "je suis fatigue.me voila",
        "merci.de rien",
        "il est venu.ca va",
        "e.g. this",
        "i.e. that",
        "3.5 kg",
        "etc.)",
        "http://",
        "Hi.How are you",
    ],
)
def test_not_links(text: str) -> None:
    assert run_pipeline(text).text == text


def test_everything_at_once_and_order_of_rewrites() -> None:
    out = run_pipeline("0612345678 x@y.com www.z.com AB123456")
    assert out.text == (
        f"{PHONE_PLACEHOLDER} {EMAIL_PLACEHOLDER} {LINK_PLACEHOLDER} {ID_PLACEHOLDER}"
    )
    assert [n.code for n in out.nudges] == [
        "email_hidden", "link_hidden", "phone_hidden", "id_hidden"]
    assert all(r.rule == "pii" and "0612" not in r.reason for r in out.rewrites)
    assert out.breaches == ("pii",)
