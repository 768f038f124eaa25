"""A data key per author and circle session (rooms.AuthorKey): messages written from now on are
encrypted with their author's key, so that "Forget me" and the purge can shred one author's
words in every copy. Messages written before keep their session's key (`key` empty) until they
expire.

On PostgreSQL, ANALYZE (autovacuum's included) would copy sample values of a column into the
catalog `pg_statistic`, where a destroyed key could outlive its row: no statistics are gathered
for the columns holding wrapped keys."""

import django.db.models.deletion
from django.db import migrations, models

KEY_COLUMNS = (("rooms_authorkey", "wrapped_key"), ("rooms_session", "wrapped_key"))


def no_statistics_on_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in KEY_COLUMNS:
        schema_editor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET STATISTICS 0')


class Migration(migrations.Migration):

    dependencies = [
        ('rooms', '0004_seal_application_note_and_contact'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuthorKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('wrapped_key', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('membership', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='author_keys', to='rooms.membership')),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='author_keys', to='rooms.session')),
            ],
            options={
                'verbose_name': 'author key',
                'verbose_name_plural': 'author keys',
                'constraints': [models.UniqueConstraint(fields=('session', 'membership'), name='rooms_authorkey_one_per_session')],
            },
        ),
        migrations.AddField(
            model_name='message',
            name='key',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='rooms.authorkey'),
        ),
        migrations.RunPython(no_statistics_on_keys, migrations.RunPython.noop),
    ]
