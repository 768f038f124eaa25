# A report's copy of the reported text is encrypted with the key of the message it copies (its
# author's key for its session, rooms.AuthorKey), no longer sealed with the master key: it dies
# with that key, and is shown only until the message would have expired. Copies sealed before
# cannot be tied to such a key: they are emptied (the reports themselves stay). Private support
# messages are encrypted with their author's key too.

import django.db.models.deletion
from django.db import migrations, models


def drop_master_sealed_copies(apps, schema_editor):
    apps.get_model("moderation", "Report").objects.exclude(snapshot_encrypted="").update(
        snapshot_encrypted="")


class Migration(migrations.Migration):

    dependencies = [
        ('moderation', '0008_resource_regions'),
        ('rooms', '0005_author_keys'),
    ]

    operations = [
        migrations.RenameField(
            model_name='report',
            old_name='snapshot_sealed',
            new_name='snapshot_encrypted',
        ),
        migrations.RunPython(drop_master_sealed_copies, migrations.RunPython.noop),
        migrations.AddField(
            model_name='report',
            name='snapshot_key',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='report_snapshots', to='rooms.authorkey'),
        ),
        migrations.AddField(
            model_name='report',
            name='snapshot_expires_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='supportmessage',
            name='key',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='support_messages', to='rooms.authorkey'),
        ),
    ]
