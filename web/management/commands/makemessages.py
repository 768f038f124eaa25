"""`makemessages` that also sees the project's own markers, so a plain run loses nothing:
`t("…")` in the browser code (web/static/halqa/common.js) and `N_("…")` in the house-rules
pipeline (moderation/pipeline.py), besides Django's own."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=t", "--keyword=N_"]
