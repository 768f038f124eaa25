"""Demo circles in Darija, Arabic, French and English. Running it again changes nothing."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from moderation.models import Resource
from rooms.models import Room, ScheduledSession

RULES_ARY = """1. اللي تقال هنا كيبقى هنا: ما تعاودش شنو سمعتي برا الحلقة.
2. ما تعطيش معلومات اللي كتعرف بيك ولا بشي حد آخر: سمية، نمرة، عنوان، خدمة.
3. كل واحد كيهضر على تجربتو. ما كنعطيوش نصائح طبية ولا دوا.
4. الاحترام والرفق: كنسمعو بلا حكم وبلا ما نقاطعو.
5. إلا كنتي فخطر دابا، عيط على 15 (الإسعاف) ولا 19 (البوليس)، وقول للمنشط(ة)."""

RULES_AR = """1. ما يُقال هنا يبقى هنا: لا تنقل ما سمعته خارج الحلقة.
2. لا تشارك ما يكشف هويتك أو هوية غيرك: اسم، رقم هاتف، عنوان، مكان عمل.
3. يتحدث كل شخص عن تجربته. لا نقدّم نصائح طبية ولا جرعات أدوية.
4. الاحترام واللطف: نستمع دون حكم ودون مقاطعة.
5. إن كنت في خطر الآن، اتصل بالرقم 15 (الإسعاف) أو 19 (الشرطة)، وأخبر الميسّر."""

RULES_FR = """1. Ce qui se dit ici reste ici : ne répétez rien en dehors du cercle.
2. Ne partagez rien qui permette de vous reconnaître ou de reconnaître quelqu'un : nom, numéro, adresse, travail.
3. Chacun parle de sa propre expérience. Pas de conseils médicaux ni de doses de médicaments.
4. Respect et bienveillance : on écoute sans juger et sans interrompre.
5. Si vous êtes en danger maintenant, appelez le 15 (SAMU) ou le 19 (police) et prévenez l'animateur·rice."""

RULES_EN = """1. What is said here stays here: do not repeat anything outside the circle.
2. Share nothing that identifies you or anyone else: names, numbers, addresses, workplaces.
3. Speak from your own experience. No medical advice and no medication doses.
4. Respect and kindness: listen without judging and without interrupting.
5. If you are in danger right now, call 15 (ambulance) or 19 (police), and tell the facilitator."""

CIRCLES: list[dict[str, Any]] = [
    {
        "slug": "daghet-w-qalaq",
        "title": "الضغط والقلق ديال كل نهار",
        "theme": "الضغط والقلق",
        "language": "ary",
        "description": "بلاصة آمنة باش نهضرو على الضغط والقلق اللي كنعيشو كل نهار، "
                       "بلا خوف، بلا حشمة، وبلا حكم. كل واحد كيشارك غير اللي بغى.",
        "house_rules": RULES_ARY,
    },
    {
        "slug": "nisa-aman",
        "title": "حلقة النساء: الأمان والدعم",
        "theme": "العنف ضد النساء",
        "language": "ary",
        "description": "حلقة ديال النساء لبعضياتهم: نسمعو لبعضياتنا ونعرفو فين نلقاو المساعدة "
                       "والتوجيه، بسرية تامة.",
        "house_rules": RULES_ARY,
    },
    {
        "slug": "wahda-wa-uzla",
        "title": "دعم الأقران: الوحدة والعزلة",
        "theme": "الوحدة",
        "language": "ar",
        "description": "مساحة للاستماع وتبادل التجارب حول الشعور بالوحدة والعزلة، "
                       "يقودها ميسّرون متطوعون مدرَّبون.",
        "house_rules": RULES_AR,
    },
    {
        "slug": "familles-et-separations",
        "title": "Familles et séparations",
        "theme": "Famille",
        "language": "fr",
        "description": "Un cercle d'écoute pour celles et ceux qui vivent une séparation, un "
                       "divorce ou des tensions familiales. On partage, on s'écoute, sans jugement.",
        "house_rules": RULES_FR,
    },
    {
        "slug": "heard-seen-safe",
        "title": "Heard, seen & safe: everyday anxiety",
        "theme": "Anxiety",
        "language": "en",
        "description": "A drop-in peer-support circle about anxiety and stress. Share as much or "
                       "as little as you like; a trained volunteer facilitator keeps it safe.",
        "house_rules": RULES_EN,
    },
    {
        "slug": "grief-and-loss",
        "title": "Grief and loss: a closed circle",
        "theme": "Grief",
        "language": "en",
        "description": "A small circle for people who lost someone close. It meets on the schedule; apply to a session and you will receive a personal invitation.",
        "house_rules": RULES_EN,
        "access": "application",
        "capacity": 8,
    },
]

# The public schedule: (circle, theme, weekday 0=Monday, local time, minutes). Weekly, in Moroccan
# time, starting from the next such weekday after the demo is seeded.
SESSIONS: list[tuple[str, str, int, time, int]] = [
    ("daghet-w-qalaq", "كيفاش نتعامل مع الضغط ديال الخدمة", 1, time(19, 0), 90),
    ("nisa-aman", "الأمان فالدار: نهضرو بلا خوف", 3, time(18, 30), 90),
    ("wahda-wa-uzla", "الوحدة في المدينة الكبيرة", 2, time(20, 0), 75),
    ("familles-et-separations", "Parler aux enfants d'une séparation", 5, time(10, 30), 90),
    ("heard-seen-safe", "Sleep, worry and the 3 a.m. mind", 0, time(20, 30), 60),
    ("grief-and-loss", "The first year after a loss", 4, time(19, 30), 90),
]

# Only numbers we are sure of: Morocco's national emergency numbers. An organisation adds and
# checks its own list before going live.
RESOURCES = [
    {"name": "Police — الشرطة", "phone": "19", "order": 10,
     "description": "Urgence police (villes) · نجدة الشرطة في المدن",
     "facilitator_note": "Danger immédiat en ville · خطر داهم في المدينة"},
    {"name": "Gendarmerie Royale — الدرك الملكي", "phone": "177", "order": 20,
     "description": "Urgence hors des villes · النجدة خارج المدن",
     "facilitator_note": "Danger immédiat hors des villes · خطر داهم خارج المدن"},
    {"name": "Ambulance et pompiers — الإسعاف والوقاية المدنية", "phone": "15", "order": 30,
     "description": "Urgence médicale et incendie · الإسعاف والحريق",
     "facilitator_note": "Urgence médicale, surdose, incendie · حالة طبية مستعجلة، جرعة زائدة، "
                         "حريق"},
]

# For every other kind of referral, one example entry with no phone number and no address
# (nothing invented): it shows the admin what the directory can hold. Example entries are never
# shown to someone in crisis nor offered on the duty desk (Resource.is_example) until an admin
# fills one in with a service they checked and unticks "example entry".
EXAMPLE = ("Example entry — to be filled in by the admin · Exemple — à compléter par "
           "l'administrateur · مثال — يملؤه المسؤول")
EXAMPLES = [
    {"kind": Resource.Kind.CRISIS_LINE, "order": 110,
     "name": "Exemple : ligne d'écoute (santé mentale) — مثال: خط الاستماع والدعم النفسي"},
    {"kind": Resource.Kind.VIOLENCE_AGAINST_WOMEN, "order": 120,
     "name": "Exemple : écoute des femmes victimes de violence — مثال: خط الاستماع للنساء "
             "ضحايا العنف",
     "facilitator_note": "Orientation vers le parquet, la police ou la gendarmerie · التوجيه "
                         "إلى النيابة العامة أو الأمن أو الدرك الملكي"},
    {"kind": Resource.Kind.FAMILY_MEDIATION, "order": 130, "regions": "Fès-Meknès, Oriental",
     "name": "Exemple : médiation familiale — مثال: الوساطة الأسرية"},
    {"kind": Resource.Kind.LEGAL_AID, "order": 140,
     "name": "Exemple : aide juridique — مثال: المساعدة القانونية"},
    {"kind": Resource.Kind.YOUTH, "order": 150,
     "name": "Exemple : écoute des jeunes — مثال: الاستماع للشباب"},
    {"kind": Resource.Kind.EMPLOYMENT_TRAINING, "order": 160,
     "name": "Exemple : orientation emploi et formation — مثال: التوجيه نحو الشغل والتكوين"},
]

DEMO_ACCOUNTS = [
    # username, password, role, superuser
    ("admin", "halqa-admin-demo", User.Role.ADMIN, True),
    ("facilitator", "halqa-facilitator-demo", User.Role.FACILITATOR, False),
]


class Command(BaseCommand):
    help = "Create the demo circles (idempotent). --with-accounts adds local demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--with-accounts", action="store_true",
            help="Also create demo admin and facilitator logins. For local use only.",
        )

    @transaction.atomic
    def handle(self, *args: Any, with_accounts: bool = False, **options: Any) -> None:
        created = 0
        for circle in CIRCLES:
            _room, was_created = Room.objects.get_or_create(
                slug=circle["slug"], defaults={k: v for k, v in circle.items() if k != "slug"}
            )
            created += was_created
        today = timezone.localdate()
        for slug, theme, weekday, start, minutes in SESSIONS:
            room = Room.objects.filter(slug=slug).first()
            if room is None or room.scheduled_sessions.filter(theme=theme).exists():
                continue
            first = today + timedelta(days=(weekday - today.weekday()) % 7)
            ScheduledSession.objects.create(room=room, theme=theme, first_date=first,
                                            start_time=start, duration_minutes=minutes,
                                            repeat=ScheduledSession.Repeat.WEEKLY)
        for resource in RESOURCES:
            Resource.objects.get_or_create(
                phone=resource["phone"], kind=Resource.Kind.EMERGENCY,
                defaults={**resource, "hours": "24/7", "languages": "ar,ary,fr,en"},
            )
        for example in EXAMPLES:
            # Only where the kind is still empty: an entry the admin filled in, renamed or
            # deleted among others is not seeded again.
            if not Resource.objects.filter(kind=example["kind"]).exists():
                Resource.objects.create(**example, description=EXAMPLE, is_example=True,
                                        languages="ar,ary,fr,en")
        if with_accounts:
            facilitator = None
            for username, password, role, superuser in DEMO_ACCOUNTS:
                user, was_created = User.objects.get_or_create(
                    username=username,
                    # The name they show in circles (never the login name); the facilitator
                    # badge is the circle's to add.
                    defaults={"role": role, "is_staff": True, "is_superuser": superuser,
                              "pseudonym": "Amine" if superuser else "Salma"},
                )
                if was_created:
                    user.set_password(password)
                    user.save()
                if role == User.Role.FACILITATOR:
                    facilitator = user
            if facilitator is not None:
                for room in Room.objects.filter(slug__in=[c["slug"] for c in CIRCLES]):
                    room.facilitators.add(facilitator)
        self.stdout.write(f"seed_demo: {created} circle(s) created, {len(CIRCLES)} in the demo.")
