"""An application's note and contact address move into fields sealed with the master key
(rooms.crypto.SEALED_FIELDS); the plain-text columns go."""

from django.db import migrations, models

from rooms import crypto


def seal_existing(apps, schema_editor):
    Application = apps.get_model("rooms", "Application")
    changed = []
    for application in Application.objects.exclude(note="", contact_email=""):
        application.note_sealed = crypto.seal(application.note) if application.note else ""
        application.contact_sealed = (crypto.seal(application.contact_email)
                                      if application.contact_email else "")
        changed.append(application)
    Application.objects.bulk_update(changed, ["note_sealed", "contact_sealed"], batch_size=500)


def unseal_back(apps, schema_editor):
    Application = apps.get_model("rooms", "Application")
    changed = []
    for application in Application.objects.exclude(note_sealed="", contact_sealed=""):
        application.note = (crypto.unseal(application.note_sealed) or "")[:500]
        application.contact_email = (crypto.unseal(application.contact_sealed) or "")[:254]
        changed.append(application)
    Application.objects.bulk_update(changed, ["note", "contact_email"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('rooms', '0003_scheduled_sessions_and_applications'),
    ]

    operations = [
        migrations.AddField(
            model_name='application',
            name='note_sealed',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='application',
            name='contact_sealed',
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(seal_existing, unseal_back),
        migrations.RemoveField(
            model_name='application',
            name='note',
        ),
        migrations.RemoveField(
            model_name='application',
            name='contact_email',
        ),
    ]
