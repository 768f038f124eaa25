"""Micro-benchmark of the house-rules pipeline over a realistic mixed corpus.

    python bench/pipeline_bench.py [--rounds N]

Prints median and p95 microseconds per message (overall and per kind of message).
Caches that depend on the message text are cleared before every timed call, because
in a real circle every message is new; the compiled blocked-words list stays warm,
as it does in the service.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moderation.pipeline import RateDecision, RuleContext, run_pipeline
from moderation.rules.crisis import detect_crisis
from moderation.rules.normalise import fold

CORPUS: list[tuple[str, str]] = [
    # plain chat, every language
    ("plain", "salam 3likom, ana jdida hna, kan7ess b chwiya dyal l9ale9 had liyamat"),
    ("plain", "wach kayn chi wa7ed 3ando nafs lmochkil m3a nn3as? ma kan9derch nn3es"),
    ("plain", "3afak 3tini chi nasi7a, kan7ess rasi bo7di bzaf"),
    ("plain", "السلام عليكم، أنا جديدة هنا وكنحس براسي بوحدي بزاف هاد الأيام"),
    ("plain", "شكرا ليكم كاملين، هاد الجلسة عاونتني بزاف والله"),
    ("plain", "أشعر بالقلق طوال الوقت ولا أعرف كيف أتعامل مع هذا الشعور"),
    ("plain", "Bonjour à tous, je me sens un peu mieux aujourd'hui, merci pour vos messages."),
    ("plain", "Est-ce que quelqu'un a déjà essayé la méditation pour l'anxiété ? Ça marche ?"),
    ("plain", "Thanks everyone, talking here really helps. I slept 6 hours last night!"),
    ("plain", "I've been feeling anxious since 2019, especially at work. Anyone else?"),
    ("plain", "ok"),
    ("plain", "merci 🙏"),
    ("plain", "❤️❤️"),
    ("plain", "mzyan, l7amdolillah. ghda 3ndi rendez-vous m3a tbib f 9h30"),
    ("plain", "My therapist says I should journal every day, has anyone tried it?"),
    (
        "long",
        "Je voulais partager quelque chose. Depuis que j'ai perdu mon travail il y a "
        "3 ans, je me sens inutile. Ma famille ne comprend pas, ils disent que c'est dans "
        "ma tête. J'ai commencé à voir une psychologue le 12/05/2024 et ça m'aide un peu, "
        "mais certains jours sont très durs. Merci de m'écouter, ça compte beaucoup. " * 2,
    ),
    (
        "long",
        "كنت بغيت نقول ليكم بلي هاد الشهر كان صعيب بزاف، خدمت بزاف وما نعستش مزيان، "
        "ولكن ملي كنهضر معاكم كنحس براسي أحسن. شكرا على الصبر ديالكم وعلى الكلام الزوين. " * 2,
    ),
    # personal details
    ("pii", "3iyt liya 3la 06 12 34 56 78 ila bghiti thdri"),
    ("pii", "écris-moi à salma.b@gmail.com ou appelle le +212 6 12 34 56 78"),
    ("pii", "رقمي ٠٦١٢٣٤٥٦٧٨ عيطي ليا"),
    ("pii", "join us on t.me/secretgroup or www.example.com/help"),
    ("pii", "ma CIN AB123456, c'est normal qu'on la demande ?"),
    # crisis
    ("crisis", "I don't want to live anymore, everything is too much"),
    ("crisis", "bghit nmout, ma b9itch baghi n3ich"),
    ("crisis", "راجلي كيضربني كل ليلة وما عرفتش شنو ندير"),
    ("crisis", "j'ai envie d'en finir, je n'en peux plus"),
    # medical advice
    ("medical", "you should take 50mg of sertraline, it worked for me"),
    ("medical", "khod chi doliprane w n3ess"),
    # blocked words and markup
    ("blocked", "nta 9a7ba w zamel"),
    ("blocked", "this is f u c k i n g annoying, what an @$$"),
    ("markup", "<b>bold</b> and <script>alert(1)</script> &lt;b&gt;"),
    ("markup", "1 < 2 & 3 > 2 \u202ehidden\u200b"),
]

BLOCKED = (
    "fuck", "fucking", "shit", "bitch", "ass", "idiot", "connard", "salope", "pute",
    "fils de pute", "9a7ba", "zamel", "t9awed", "7mar", "khra", "zebi", "nikmok",
    "كلب", "حمار", "قحبة", "زامل", "خرا", "حيوان", "بهيمة", "ولد الحرام",
)
CTX = RuleContext(blocked_words=BLOCKED, rate_check=lambda: RateDecision(allowed=True))


def percentile(sorted_values: list[float], p: float) -> float:
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()

    for _, text in CORPUS:  # warm-up: imports, compiled regexes, blocked-words list
        run_pipeline(text, CTX)

    by_kind: dict[str, list[float]] = {}
    clock = time.perf_counter_ns
    for _ in range(args.rounds):
        for kind, text in CORPUS:
            detect_crisis.cache_clear()
            fold.cache_clear()
            start = clock()
            run_pipeline(text, CTX)
            elapsed = clock() - start
            by_kind.setdefault(kind, []).append(elapsed / 1000)

    everything = sorted(v for values in by_kind.values() for v in values)
    print(f"house-rules pipeline: {len(CORPUS)} messages x {args.rounds} rounds, "
          f"{len(BLOCKED)} blocked words, Python {sys.version.split()[0]}")
    print(f"{'kind':<10}{'n':>8}{'median µs':>12}{'p95 µs':>10}")
    for kind, values in [("ALL", everything), *sorted(by_kind.items())]:
        values = sorted(values)
        print(f"{kind:<10}{len(values):>8}{statistics.median(values):>12.1f}"
              f"{percentile(values, 95):>10.1f}")


if __name__ == "__main__":
    main()
