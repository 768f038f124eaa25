# A help resource can serve several regions (`regions`, comma-separated like `languages`); the
# single `region` of existing rows is kept as their only region. Seeded example entries (no
# verified number) are marked `is_example` and never shown to someone in crisis. The kind
# "crisis_line" is labelled "Mental health and listening line"; stored values are unchanged.

from django.db import migrations, models


def region_to_regions(apps, schema_editor):
    Resource = apps.get_model("moderation", "Resource")
    for resource in Resource.objects.exclude(region=""):
        resource.regions = resource.region.strip()
        resource.save(update_fields=["regions"])


def regions_to_region(apps, schema_editor):
    """Back to one region: the first one named (a column of 80 characters)."""
    Resource = apps.get_model("moderation", "Resource")
    for resource in Resource.objects.exclude(regions=""):
        resource.region = resource.regions.split(",")[0].strip()[:80]
        resource.save(update_fields=["region"])


class Migration(migrations.Migration):

    dependencies = [
        ('moderation', '0007_action_member_readmit'),
    ]

    operations = [
        migrations.AddField(
            model_name='resource',
            name='regions',
            field=models.CharField(blank=True, help_text='Comma-separated region names, spelt as in the circles (Oriental, Fès-Meknès). Empty means nationwide.', max_length=400, verbose_name='regions'),
        ),
        migrations.RunPython(region_to_regions, regions_to_region),
        migrations.RemoveField(
            model_name='resource',
            name='region',
        ),
        migrations.AddField(
            model_name='resource',
            name='is_example',
            field=models.BooleanField(default=False, help_text='An example from the demo data, with no verified number: never shown to someone in crisis or offered on the duty desk. Fill it in, check it, then untick this.', verbose_name='example entry'),
        ),
        migrations.AlterField(
            model_name='resource',
            name='kind',
            field=models.CharField(choices=[('emergency', 'Emergency services'), ('crisis_line', 'Mental health and listening line'), ('violence_women', 'Violence against women'), ('legal_aid', 'Legal aid'), ('health', 'Health'), ('family_mediation', 'Family mediation'), ('employment_training', 'Employment and training orientation'), ('youth', 'Youth')], max_length=24, verbose_name='kind'),
        ),
    ]
