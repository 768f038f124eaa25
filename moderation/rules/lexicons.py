"""Phrase lexicons for the crisis and medical-advice rules -- data only.

Every entry is a regex piece matched against :func:`~moderation.rules.normalise.fold`
output: lower case, no accents / tashkeel / tatweel, أإآٱ→ا ى→ي ة→ه ؤ→و ئ→ي,
apostrophes as ``'``, single spaces, stretched letters squeezed.  Arabizi digits are
*not* folded; the macros below spell out the usual variants:

    <Q> 9/q/k (ق)   <H> 7/h (ح)   <A3> 3/a/e/' (ع)   <KH> 5/kh (خ)   <GH> gh/8 (غ)
    <CH> ch/sh/x (ش)   <OU> o/ou/u   <END> end of clause (lookahead)

Phrases, not single words: "suicide" alone is a topic, "I want to kill myself" is a
person in danger.  Exclusions are idioms and negations that overlap a hit and cancel
it ("this traffic is killing me", "mort de rire", "كنموت عليك" = I adore you).

The tuples are keyed by category and language so an admin-managed list can later be
merged in (``crisis.compile_lexicon(extra=...)``).
"""

from __future__ import annotations

MACROS = {
    "<Q>": "(?:9|q|k)",
    "<H>": "(?:7|h)",
    "<A3>": "(?:3|a|e|')",
    "<KH>": "(?:5|kh|7')",
    "<GH>": "(?:gh|8)",
    "<CH>": "(?:ch|sh|x)",
    "<OU>": "[ou]{1,3}",
    "<END>": r"(?=\s*(?:$|[.!?,;:)\n]))",
    "<DONT>": r"(?:don'?t|do not)",
    "<CANT>": r"(?:can'?t|cannot|can not)",
    "<MYSELF>": r"my ?self",
}

# --- crisis: positive phrases ------------------------------------------------------

CRISIS: dict[str, dict[str, tuple[str, ...]]] = {
    "suicide": {
        "en": (
            r"\b(?:want|wanna|wish|going|gonna|plan(?:ning)?|ready|trying|tried|decided|about"
            r"|need|deserve)(?: to)? (?:just |really |simply |finally |honestly )?(?:die|be dead"
            r"|kill <MYSELF>|end (?:it all|it|my life|everything|things)|commit suicide"
            r"|take my (?:own )?life|not (?:wake up|be here|exist|be alive)|stop existing"
            r"|disappear forever|sleep forever)\b",
            r"\bi wish (?:i (?:was|were|could be) dead|i (?:was|were|had) never (?:been )?born"
            r"|i (?:could )?(?:just )?(?:disappear|die|vanish)|i (?:didn'?t|did not) exist"
            r"|i (?:could )?sleep forever|i (?:wouldn'?t|would not) wake up)\b",
            r"\bsuicidal\b",
            r"\b(?:thinking|thought|think|thoughts|dreaming|fantasi[sz]ing) (?:about|of)"
            r" (?:suicide|killing <MYSELF>|ending (?:it all|it|my life|everything)|dying"
            r"|not waking up)\b",
            r"\b(?:commit(?:ting)?|attempted|attempt) suicide\b",
            r"\bsuicide (?:attempt|note|plan)s?\b",
            r"\b(?:kill|killing|hang|hanging|drown|drowning|poison|shoot|overdos(?:e|ing))"
            r" <MYSELF>\b",
            r"\b(?:end|ending|take|taking) my (?:own )?life\b",
            r"\b(?:better off dead|better off without me|(?:world|everyone) (?:would be|is)"
            r" better (?:off )?without me)\b",
            r"\bno (?:reason|point) (?:to|in) (?:live|living|go on|going on|be alive"
            r"|being alive|wake up|stay)\b",
            r"\b<DONT> (?:want|wanna|wish) to (?:live|be alive|exist|wake up|be here|go on)"
            r"(?: anymore| any ?more| any longer| no more|<END>)",
            r"\b<CANT> go on(?: like this| anymore| any ?more| living| any longer|<END>)",
            r"\b<CANT> (?:take|do|handle|bear) (?:it|this|this life|life) any ?more\b",
            r"\b(?:i'm|im|i am) (?:done|finished) with (?:life|living|everything|it all)\b",
            r"\b(?:want|wanna) (?:it all|everything|the pain|this) to (?:end|stop)\b",
            r"\bjump (?:off|from|in front of) (?:a|the) (?:bridge|building|roof|train"
            r"|balcony|window)\b",
            r"\bslit my (?:wrists?|throat)\b",
            r"\b(?:take|swallow|took|swallowed) all (?:my|the|of my) (?:pills|meds|tablets)\b",
            r"\bgoodbye (?:forever|world|everyone forever)\b",
            r"\b(?:tried|try|trying|going|want|wanted|gonna|plan(?:ning)?) to overdose\b",
            r"\b(?:nobody|no one|no-one) (?:would|will) (?:miss|care|notice)(?: me)? if i"
            r" (?:died|was gone|were gone|disappeared|killed <MYSELF>)\b",
        ),
        "fr": (
            r"\bje (?:veux|voudrais|vais|veut|pense a|pense|souhaite) (?:juste |vraiment "
            r"|bien |seulement )?(?:mourir|crever|me tuer|me suicider|en finir|disparaitre"
            r"|partir pour toujours|mettre fin a (?:mes jours|ma vie)|me foutre en l'air)\b",
            r"\b(?:envie|besoin|l'intention|le courage) (?:de |d')(?:mourir|crever|me tuer"
            r"|me suicider|en finir|disparaitre|mettre fin a (?:mes jours|ma vie))\b",
            r"\b(?:me suicider|je me suicide|suicidaire|idees? (?:noires|suicidaires)"
            r"|pensees (?:noires|suicidaires)|tentative de suicide|mettre fin a mes jours"
            r"|me foutre en l'air|en finir avec (?:la vie|ma vie|tout|moi|l'existence))\b",
            r"\b(?:plus|pas) (?:envie|la force|le courage|de raison) de vivre\b",
            r"\b(?:je ne veux|je veux|veux) (?:plus|pas) vivre\b",
            r"\bmarre de (?:la vie|vivre|ma vie)\b",
            r"\b(?:je n'en peux|j'en peux|je ne peux) plus(?: continuer| vivre comme ca"
            r"| de cette vie| de vivre|<END>)",
            r"\bla vie n'a (?:plus de|aucun) sens\b",
            r"\b(?:pense|penser|pensais|songe|songer) (?:au|a) (?:suicide|mourir|me tuer"
            r"|en finir)\b",
            r"\b(?:mieux|mieux si je (?:mourais|disparaissais)) sans moi\b",
            r"\b(?:ce serait|c'est|ca serait) mieux si je (?:mourais|disparaissais"
            r"|n'etais plus la)\b",
        ),
        "ar": (
            r"\b(?:اريد|اود|ابغي|بدي|نفسي|اتمني|قررت|ساحاول|احاول|حاولت|افكر|فكرت)"
            r"(?: في| ب| ان)?(?: ان)? ?(?:اموت|انتحر|الانتحار|اقتل نفسي|قتل نفسي|انهي حياتي"
            r"|انهاء حياتي|اضع حدا لحياتي|الموت)\b",
            r"\b(?:سانتحر|ساقتل نفسي|سانهي حياتي|ليتني مت|ليتني لم اولد|الموت ارحم"
            r"|الموت افضل لي|افكار انتحاريه|لا معني لحياتي|حياتي بلا معني)\b",
            r"\b(?:لا|لم اعد) اريد (?:ان اعيش|العيش|الحياه|ان استيقظ)\b",
            r"\b(?:تعبت من|لا فائده من) (?:الحياه|العيش|حياتي)\b",
        ),
        "ary": (  # Darija, Arabic letters
            r"\b(?:بغيت|باغي|باغيه|باغا|بغا|كنتمني|كنتمنا|نتمني) (?:غير |نقدر |نبقي )?"
            r"(?:نموت|نقتل راسي|ننتحر|نتحر|نتنحر|نسالي مع راسي|نمشي من هاد الدنيا)\b",
            r"\b(?:غادي |غاد |غا |غ)(?:نقتل راسي|ننتحر|نتحر|نتنحر|نسالي مع راسي)\b",
            r"\b(?:نقتل راسي|ننتحر|نتنحر)\b",
            r"\bما ?(?:بقيتش|بقاتش|عادش|بقيت) (?:باغي|باغيه|باغا|بغيت|قادر|قادره)"
            r" (?:نعيش|نكمل|نصبر)\b",
            r"\bما ?(?:بغيتش|باغيش|بغاتش) نعيش\b",
            r"\b(?:عييت|تعبت|فقصت|سخفت|كرهت) (?:من |ف)?(?:هاد |هاذ )?(?:الحياه|الدنيا"
            r"|العيشه|حياتي|لحياه|راسي)\b",
            r"\bانا ما ?قا?د+(?:ش|يش)(?:<END>| نكمل| نعيش| نصبر| علي هاد)",
            r"\bما ?بقيتش قاد(?:ر|ره|ه)?<END>",
            r"\b(?:(?:الموت|نموت) (?:احسن|حسن) ليا|(?:احسن|حسن) ليا نموت)\b",
        ),
        "arabizi": (
            r"\b(?:bghit|bghyt|b8it|baghi|bagha|baghya|bgha|kantmena|kantmna|ntmena)"
            r" (?:ghir |n<Q>der )?(?:nm<OU>t|n<Q>t[ae]?l ras?i|nenta<H>[ae]?r|ntn<H>[ae]?r"
            r"|nt<H>[ae]?r|nmchi mn had (?:dnya|ddnya|l ?<H>[ae]?yat))\b",
            r"\b(?:ghadi|ghad|gha|gh) ?(?:n<Q>t[ae]?l ras?i|nenta<H>[ae]?r|nnt<H>[ae]?r"
            r"|nt<H>[ae]?r)\b",
            r"\bn<Q>t[ae]?l ras?i\b",
            r"\bma ?b<Q>i?(?:t|et|it)<CH> (?:baghi|bagha|baghya|bghit|<Q>ad(?:er|ra)?|<Q>adr)"
            r" (?:n<A3>i<CH>|nkm[ea]?l|nsb[ea]?r)\b",
            r"\bma ?bghit<CH> n<A3>i<CH>\b",
            r"\bana ma ?<Q>a?dd?<CH>(?:<END>| nkm| n<A3>i| nsb[ea]?r| <A3>la had)",
            r"\bma ?b<Q>it<CH> <Q>add?(?:er|ra|a)?<END>",
            r"\b(?:<A3>[ae]?y[iy]?t|<A3>iit|t<A3>bt|f<Q>[ae]?st|s<KH>ft|krht)"
            r" (?:m[ae]?n |f )?(?:had )?(?:l ?<H>[ae]?yat|dnya|ddnya|l ?<A3>i<CH>a"
            r"|<H>[ae]?yati)\b",
            r"\bkrht ras?i\b",
            r"\b(?:l ?m<OU>t|nm<OU>t) a?<H>s[ae]?n (?:lia|liya|lya)\b",
            r"\ba?<H>s[ae]?n (?:lia|liya|lya) nm<OU>t\b",
        ),
    },
    "self_harm": {
        "en": (
            r"\b(?:cut|cutting|cuts|burn|burning|burned|burnt|hurt|hurting|harm|harming|harmed"
            r"|scratch|scratching|punish|punishing|starve|starving|bruise|bruising|hitting"
            r"|banging) <MYSELF>\b",
            r"\bself[- ]?(?:harm(?:ing|ed)?|injur(?:y|ing|ies))\b",
            r"\b(?:urge|urges|want|wanted|wanna|tempted) to (?:cut|hurt|harm|burn)"
            r"(?: <MYSELF>| again)\b",
            r"\brelaps(?:e|ed|ing) (?:into |on )?(?:self[- ]?harm|cutting)\b",
            r"\bcutting again\b",
            r"\bcut(?:ting)? my (?:wrists?|thighs?|arms?)\b",
        ),
        "fr": (
            r"\bje (?:me )?(?:scarifie|mutile)\b",
            r"\bje me (?:fais du mal|blesse expres|brule (?:les bras|la peau|expres))\b",
            r"\b(?:me scarifier|me mutiler|scarifications?|automutilation|m'automutiler"
            r"|je m'automutile)\b",
            r"\b(?:envie|besoin) de me faire du mal\b",
            r"\bje (?:veux|vais) me faire du mal\b",
            r"\b(?:je me coupe|me couper) (?:les )?(?:bras|poignets|veines|cuisses"
            r"|la peau)\b",
        ),
        "ar": (
            r"\b(?:اوذي نفسي|اذيت نفسي|اذي نفسي|ايذاء نفسي|ايذاء النفس|اجرح نفسي|جرحت نفسي"
            r"|اجرح جسدي|احرق نفسي|حرقت نفسي|اضرب نفسي|اعاقب نفسي)\b",
        ),
        "ary": (
            r"\b(?:كنجرح|نجرح|جرحت|كنضر|ضريت|كنحرق|حرقت|كنضرب|ضربت|كنقطع|قطعت|كنشرط|شرطت"
            r"|كنعذب|عذبت) (?:ف ?)?راسي\b",
            r"\b(?:كنشرط|شرطت|كنجرح|جرحت) (?:يدي|يديا|دراعي|ذراعي|رجلي)\b",
        ),
        "arabizi": (
            r"\b(?:kanjr[ae]?<H>|njr[ae]?<H>|jr[ae]?<H>t|kandorr?|dorrit|kan<H>r[ae]?<Q>"
            r"|<H>r[ae]?<Q>t|kan<CH>r[ae]?t|<CH>r[ae]?t|kandr[ae]?b|drbt|kand[ae]?rb"
            r"|kan<Q>t[ae]?<A3>|<Q>t[ae]?<A3>t|kan<A3>[ae]?dd?eb) (?:f ?)?ras?i\b",
        ),
    },
    "violence": {
        "en": (
            r"\b(?:he|she|they|my (?:husband|wife|father|dad|mother|mom|mum|brother|sister"
            r"|boyfriend|bf|girlfriend|gf|partner|ex|uncle|aunt|stepfather|stepdad"
            r"|stepmother|stepmom|family|parents|boss|son|daughter|fiance|fiancee|in-laws"
            r"|mother-in-law|father-in-law|cousin|teacher|landlord)) (?:\w+ ){0,2}?"
            r"(?:hits|hit|beats|beat|slaps|slapped|kicks|kicked|punches|punched|chokes|choked"
            r"|strangles|strangled|burns|burned|attacks|attacked|shoves|shoved|threatens"
            r"|threatened|hurts|hurt|abuses|abused|whips|whipped|bites|drags|dragged)"
            r" (?:me|us)\b",
            r"\b(?:he|she|they|my \w+) (?:\w+ )?(?:threaten(?:s|ed)?|tried|tries|wants|is trying)"
            r" to (?:kill|stab|strangle) (?:me|us)\b",
            r"\b(?:afraid|scared|terrified) (?:he|she|they)(?:'ll| will| is going to| might)"
            r" (?:hurt|hit|kill|beat) (?:me|us)\b",
            r"\b(?:domestic violence|beats? me up|beat me up|beaten by my|abusive (?:husband"
            r"|partner|father|relationship|boyfriend|family))\b",
        ),
        "fr": (
            r"\b(?:il|elle|ils|elles|on|mon \w+|ma \w+|mes \w+|son \w+|sa \w+) (?:\w+ )?"
            r"(?:me |m' ?)(?:a |ont |avait )?(?:frapp\w*|bat|battent|battue?s?|tap\w*|cogn\w*"
            r"|etrangl\w*|gifl\w*|maltrait\w*|brutalis\w*|menac\w*|brul\w*)\b",
            r"\b(?:il|elle|ils|on|mon \w+|ma \w+) (?:veut|menace de|a menace de|a essaye de"
            r"|essaie de) me (?:tuer|faire du mal|frapper)\b",
            r"\b(?:violences? conjugales?|femme battue|je suis battue?|coups et blessures)\b",
        ),
        "ar": (
            r"\b(?:يضربني|يضربونني|تضربني|ضربني|ضربوني|يعنفني|عنفني|يهددني|هددني|يعذبني"
            r"|عذبني|يخنقني|خنقني|يركلني|يصفعني|صفعني|يوذيني|يحرقني)\b",
            r"\b(?:عنف اسري|العنف الاسري|عنف زوجي)\b",
        ),
        "ary": (
            r"\b(?:كيضربني|كيضربوني|كتضربني|كيضربنا|ضربني|ضربوني|ضرباتني|كيعنفني|عنفني"
            r"|كيهددني|هددني|كيخنقني|خنقني|كيعذبني|عذبني|جلدني|كيجلدني|كيسلخني|سلخني"
            r"|كيحرقني|حرقني|كيطرشني|طرشني|كيصرفقني|صرفقني|كيركلني)\b",
        ),
        "arabizi": (
            r"\b(?:ka?y|kat?|ky|kt)? ?d[aeo]?r[aeo]?b(?:ni|ouni|oni|atni|tni)\b",
            r"\b(?:ka?y|kat?|ky|kt)? ?(?:<A3>[ae]?nn?[ae]?fni|hdd?[ae]?dni|<KH>n[ae]?<Q>ni"
            r"|<A3>[ae]?dd?[ae]?bni|jl[ae]?dni|sl[ae]?<KH>ni|tr[ae]?<CH>ni|sr[ae]?f<Q>ni)\b",
        ),
    },
    "abuse": {
        "en": (
            r"\b(?:raped|molested|groped|sexually (?:abused|assaulted|harassed)|abused"
            r"|assaulted) (?:me|us)\b",
            r"\bi(?: was|'ve been| have been|ve been| got| am being|'m being|m being"
            r"| had been) (?:raped|molested|groped|sexually (?:abused|assaulted|harassed)"
            r"|abused|assaulted|trafficked)\b",
            r"\b(?:he|she|they|my \w+) (?:\w+ )?(?:touches|touched|keeps touching) me\b",
            r"\b(?:forces|forced|makes|made) me (?:to )?(?:have sex|sleep with|touch him"
            r"|watch porn|do (?:things|stuff) i)\b",
            r"\b(?:won'?t|doesn'?t|does not|will not|never) let me (?:leave|go out"
            r"|see my (?:friends|family)|talk to anyone|eat|sleep|have (?:money|my phone))\b",
            r"\b(?:locks|locked|keeps|kept) me (?:in|inside|locked|at home|in the house)\b",
            r"\b(?:takes|took|controls) (?:all )?my (?:money|phone|passport|papers)\b",
            r"\b(?:sexual abuse|sexual assault|incest|marital rape)\b",
        ),
        "fr": (
            r"\bm'a (?:violee?|agressee? sexuellement|forcee? a)\b",
            r"\b(?:j'ai ete|j'etais|je suis|je me suis fait|je me suis faite) (?:violee?"
            r"|agressee? sexuellement|abusee?|harcelee? sexuellement|attouchee?)\b",
            r"\b(?:attouchements?|inceste|viol conjugal|abus sexuels?|agression sexuelle"
            r"|harcelement sexuel)\b",
            r"\b(?:il|elle|ils|on|mon \w+) (?:\w+ )?(?:me touche|me force a|me viole|m'enferme"
            r"|me harcele|m'empeche de (?:sortir|voir|parler|manger|travailler)"
            r"|me prend (?:mon argent|mon telephone|mes papiers))\b",
        ),
        "ar": (
            r"\b(?:اغتصبني|اغتصبوني|تم اغتصابي|اغتصبت|تحرش بي|يتحرش بي|تحرشوا بي|يتحرشون بي"
            r"|اعتدي علي|اعتدوا علي|يلمسني|لمسني|تحرش جنسي|اعتداء جنسي|يحبسني"
            r"|يمنعني من الخروج)\b",
        ),
        "ary": (
            r"\b(?:كيتحرش بيا|تحرش بيا|تحرشو بيا|كيتحرشو بيا|غتاصبني|غتاصبوني|تغتاصبت"
            r"|كيقيسني|كيلمسني|كيحكرني|حكرني|كيحبسني|حبسني فالدار|ما ?كيخلينيش نخرج"
            r"|ما ?كتخلينيش نخرج|كياخد ليا فلوسي)\b",
        ),
        "arabizi": (
            r"\b(?:ka?y|kat?)?t<H>a?r+[ae]?<CH>(?:o|ou)? (?:biya|bia|bya|bina)\b",
            r"\b(?:ka?y|kat?)?<GH>t[ae]?s[ae]?b(?:ni|ouni|oni)\b",
            r"\bt<GH>t[ae]?s[ae]?bt\b",
            r"\bka?y<Q>[ei]?sni\b",
            r"\bka?y<H>[ae]?g?<Q>[ae]?rni\b",
            r"\bma ?ka?y?<KH>[ae]?ll?i?ni<CH> n<KH>r[ae]?j\b",
        ),
    },
}

# --- crisis: idioms and negations that cancel an overlapping hit -------------------

CRISIS_EXCLUSIONS: dict[str, tuple[str, ...]] = {
    "en": (
        r"\bkill(?:ing|ed)? <MYSELF> (?:laughing|lol|haha)",
        r"\b(?:<DONT>|never|wouldn'?t|would never|won'?t|will never|not going to|not gonna"
        r"|stopped|stop) (?:want to |wanna |going to |ever )?(?:kill <MYSELF>|die"
        r"|commit suicide|hurt <MYSELF>|harm <MYSELF>|cut <MYSELF>|cutting <MYSELF>"
        r"|harming <MYSELF>|hurting <MYSELF>)",
        r"\b(?:not|never been|wasn'?t|am not|i'm not|im not|no longer) suicidal\b",
        r"\bsuicide (?:prevention|awareness|hotline|helpline|squad|rates?|statistics|bomb\w*"
        r"|doors?|mission)\b",
        r"\bself[- ]?harm (?:awareness|prevention|week|day|research)\b",
        r"\b(?:dying|die|died|going to die|gonna die) (?:of|from) (?:laugh\w*|boredom"
        r"|embarrass\w*|shame|cringe|hunger|thirst|heat|cold|cuteness)\b",
        r"\b(?:dying|die) to (?:see|know|try|meet|go|hear|tell|eat)\b",
        r"\b(?:cut|cutting|burn|burned|burnt|hurt|hurting) <MYSELF> (?:shaving|cooking"
        r"|on (?:a|the|some)|by accident|accidentally|while|at (?:the )?(?:gym|work)"
        r"|playing|running|lifting|training|in the kitchen)\b",
        r"\bbeat (?:me|us) (?:at|in|to|by)\b",
        r"\bhit (?:me|us) (?:up|back)\b",
        r"\bhit me with (?:a|the|some|your|this) \w+",
        r"\btouched me (?:deeply|so much|a lot|emotionally)\b",
        r"\bcut my (?:arm|thigh)s? (?:on|with|by accident|accidentally|while|cooking)\b",
    ),
    "fr": (
        r"\bmort de rire\b",
        r"\b(?:je meurs|mourir|mourrir|crever|je creve|je vais mourir|je vais crever)"
        r" (?:de|d') ?(?:faim|soif|rire|froid|chaud|fatigue|honte|envie|impatience|chaleur"
        r"|ennui)\b",
        r"\btuer le temps\b",
        r"\b(?:ne veux|veux) pas mourir\b",
        r"\b(?:pas|plus|jamais ete) suicidaire\b",
        r"\bme tape(?:nt)? sur (?:les nerfs|le systeme)\b",
        r"\bme bat(?:tent)? (?:aux|a|au) ",
        r"\b(?:prevention|prevenir) (?:du |le )?suicide\b",
    ),
    "ar": (
        r"\bلا اريد (?:ان اموت|الموت)\b",
    ),
    "ary": (
        r"\b(?:كنموت|نموت|كتموت|تموت) (?:عليك|عليه|عليها|عليكم|عليهم|بالضحك|من الضحك)\b",
        r"\bما ?(?:بغيتش|باغيش) نموت\b",
        r"\bما ?(?:غاديش|غانش|عمرني ما) (?:نقتل راسي|ننتحر|نموت)\b",
        r"\b(?:كيضربني|ضربني|ضرباتني) (?:البرد|الضو|الشمس|الجوع|الحال|الريح|السمايم)\b",
        r"\bضربني (?:ب ?)?(?:تيليفون|تلفون|التيليفون|فون|كول|الفون)\b",
        r"\bحرقني (?:قلبي|الحال|الاتاي|الما|الطاجين)\b",
    ),
    "arabizi": (
        r"\b(?:kan|kat|n|t)?m<OU>t (?:<A3>lik|<A3>lih|<A3>liha|<A3>likom|<A3>lihom"
        r"|b ?d<H>[ae]?k|mn d<H>[ae]?k)\b",
        r"\bma ?bghit<CH> nm<OU>t\b",
        r"\bma ?(?:ghadi<CH>|ghan<CH>) (?:n<Q>t[ae]?l ras?i|nm<OU>t|nenta<H>[ae]?r)\b",
        r"\bd[aeo]?r[aeo]?b(?:ni|atni|tni) (?:l ?b[ae]?rd|lberd|l ?brd|chms|chems|ch ?chms"
        r"|l ?jo<A3>|l ?<H>al|b ?(?:tilifon|tel|telephone|phone|appel|call|missed|mis+))\b",
    ),
}

# --- medical advice ------------------------------------------------------------------

# Medication and dose words (after folding).  Arabic nouns may carry ال / ل.
MEDICATION_TERMS: tuple[str, ...] = (
    r"sertraline|zoloft|fluoxetine|prozac|paroxetine|deroxat|paxil|escitalopram|seroplex"
    r"|lexapro|citalopram|celexa|venlafaxine|effexor|duloxetine|cymbalta|mirtazapine"
    r"|remeron|norset|bupropion|wellbutrin|amitriptyline|laroxyl|xanax|alprazolam|lexomil"
    r"|bromazepam|valium|diazepam|rivotril|clonazepam|lorazepam|ativan|temesta|tranxene"
    r"|zolpidem|stilnox|zopiclone|imovane|atarax|hydroxyzine|lithium|quetiapine|seroquel"
    r"|olanzapine|zyprexa|risperidone|risperdal|aripiprazole|abilify|haldol|tramadol"
    r"|codeine|morphine|oxycodone|doliprane|dafalgan|efferalgan|paracetamol|acetaminophen"
    r"|ibuprofen|advil|nurofen|aspirine?|melatonine?|karkoubi|9r9oubi|qarqoubi",
    r"ssris?|anti-?depress\w*|anxiolytiques?|somniferes?|neuroleptiques?|benzos?"
    r"|benzodiazepin\w*|sleeping pills?|pills?|tablets?|meds|medications?|medicines?"
    r"|medicaments?|medocs?|cachets?|comprimes?|pilules?|gelules?|traitement|treatment"
    r"|doses?|dosage|posologie",
    r"\d+ ?(?:mg|milligrammes?|milligrams?|ml|gouttes|drops)",
    r"l ?dwa|dwa|douwa|dowa|dwaya|l?7b[ou]{0,2}b|l?hb[ou]{1,2}b|l?7ba|l?7bat|l?7bobat",
    r"(?:ال|ل)?(?:دوا|دواء|ادويه|حبوب|حبه|حبات|جرعه|اقراص|مهدئ|مهدئات|منوم|منومات"
    r"|دوليبران|زاناكس|ليكسوميل|سيرترالين|ترامادول|قرقوبي)|مضادات? الاكتئاب",
)

# Advice aimed at someone else: second person, or an imperative opening a clause.
# "I take sertraline" / "kan5od dwa" / "je prends du lexomil" do not match.
_CLAUSE_START = (
    r"(?:^|[.!?;:\n(\-] ?|\b(?:just|so|then|and|or|maybe|please|honestly|also|ok|okay) )"
)
_FR_CLAUSE_START = r"(?:^|[.!?;:\n(\-] ?|\b(?:et|alors|donc|juste|sinon|franchement|perso) )"
MEDICAL_ADVICE: tuple[str, ...] = (
    # English
    r"\byou(?:'d| had| would)? (?:should|could|need to|have to|must|ought to|gotta"
    r"|might want to|can just|can|better) (?:really |just |definitely |maybe |also )?"
    r"(?:try |start )?(?:taking|take|try|use|stop(?: taking)?|quit|get off|come off"
    r"|increase|double|up|lower|reduce|cut|skip|mix|add|pop|crush|switch to|go on|go off"
    r"|ask (?:for|your doctor for)|get)\b",
    _CLAUSE_START + r"(?:take(?! care| it easy| a (?:break|breath|walk|rest)| your time)"
    r"|try|stop taking|stop|quit|get off|come off|increase|double|up|lower|reduce|skip|mix"
    r"|pop|crush|go off|switch to|get some|get yourself some|ask for)\b",
    r"\b(?:<DONT>|never) (?:take|need) (?:your|the|any|those|these)\b",
    r"\b(?:i'?d|i would|i) (?:recommend|suggest|advise)\b",
    r"\bwhy (?:<DONT>|not) you (?:take|try|stop|ask for)\b",
    r"\bhave you tried\b",
    r"\byou <DONT> need\b",
    r"\bthrow (?:away )?(?:your|those|the)\b",
    # French
    r"\b(?:tu|vous|t') ?(?:devrais|devriez|dois|devez|peux|pouvez|pourrais|pourriez"
    r"|n'as qu'a|n'avez qu'a|as qu'a|as juste a|avez qu'a) (?:juste |vraiment |aussi "
    r"|peut-etre |essayer (?:de |d')?)?(?:prendre|essayer|arreter|stopper|augmenter"
    r"|doubler|baisser|diminuer|melanger|demander|passer (?:a|au|sous)"
    r"|te mettre (?:a|au|sous)|vous mettre (?:a|au|sous))\b",
    r"\b(?:il (?:te|vous) faut|faut que tu|faudrait que tu|il faudrait) (?:prendre|arreter"
    r"|augmenter|prennes|arretes|augmentes)\b",
    _FR_CLAUSE_START + r"(?:prends|prenez|essaie|essayez|arrete|arretez|stoppe|augmente"
    r"|augmentez|double|doublez|baisse|diminue|melange|demande|passe (?:a|au))\b",
    r"\bje (?:te|vous) (?:conseille|recommande|propose|suggere)\b",
    r"\bne (?:prends|prenez) (?:pas|plus|jamais) (?:ton|tes|ta|vos|votre)\b",
    r"\b(?:pourquoi tu (?:ne )?prends pas|t'as essaye|as-tu essaye|avez-vous essaye)\b",
    # Darija, Latin letters
    r"\b(?:<KH>[ou]{0,2}d|<KH>[ou]{0,2}di|chr[ao]?b|chorbi|chrbi|jr[ae]?b|jrbi|jerreb"
    r"|<H>[ae]?bs|<H>b[ae]?s|w<Q>[ae]?f|wa<Q>[ae]?f|<Q>[ae]?t[ae]?<A3>|zid|n<Q>[ae]?s"
    r"|sir chri|sir jib|chri|dir)\b",
    r"\b(?:<KH>[ae]?s+[ae]?k|ymkn lik|t<Q>[ae]?d[ae]?r) (?:t[ae]?<KH>[ou]?d|tchr[ae]?b"
    r"|tchrob|t<H>[ae]?bs|tw<Q>[ae]?f|tjr[ae]?b|tzid|tn<Q>[ae]?s)\b",
    r"\b(?:ana ngolik|nsa<H>k|kan(?:n)?s[ae]?<H>k)\b",
    # Darija and MSA, Arabic letters
    r"\b(?:خود|خوذ|خد|خدي|خودي|خذ|خذي|شربي|جرب|جربي|حبس|حبسي|وقف|وقفي|قطع|زيد|زيدي"
    r"|نقص|دير|ديري|شري|سير شري|تناول|تناولي|اوقف|اوقفي|زد|ضاعف)\b",
    r"\b(?:خاصك|خصك) (?:تاخد|تاخذ|تشرب|تحبس|توقف|تجرب|تزيد)\b",
    r"\b(?:علاش|علاه) ما ?(?:تاخدش|تشربش|تجربش)\b",
    r"\b(?:كننصحك|ننصحك|نصيحه ليك|انصحك|انصحكي)\b",
    r"\b(?:توقف|توقفي) عن\b",
    r"\b(?:يجب|ينبغي|عليك|عليكي|من الافضل|الافضل|لازم|يلزمك)(?: ان)? (?:تاخذ|تاخذي|تتناول"
    r"|تتناولي|توقف|تتوقف|تتوقفي|تزيد|تضاعف|تجرب)\b",
)
