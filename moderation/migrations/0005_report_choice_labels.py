# The report reason and source labels, made the same as the browser's (rooms.protocol.vocabulary
# serves these labels to it now); values are unchanged.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('moderation', '0004_facilitator_actions'),
    ]

    operations = [
        migrations.AlterField(
            model_name='report',
            name='source',
            field=models.CharField(choices=[('participant', 'Reported by a participant'), ('crisis', 'Crisis language spotted'), ('help', 'Asked for help now')], max_length=12, verbose_name='source'),
        ),
        migrations.AlterField(
            model_name='report',
            name='reason',
            field=models.CharField(choices=[('harassment', 'Harassment or unkindness'), ('identifying', 'It identifies someone'), ('crisis', 'Someone may be in danger'), ('spam', 'Spam or advertising'), ('other', 'Something else')], max_length=12, verbose_name='reason'),
        ),
    ]
