"""The plan's indicators and targets shipped in linli/planning/data/plan_targets.yaml."""

from django.db import migrations


def load(apps, schema_editor):
    from linli.planning.targets import load_defaults

    load_defaults(
        apps.get_model("planning", "Indicator"), apps.get_model("planning", "IndicatorTarget")
    )


class Migration(migrations.Migration):
    dependencies = [("planning", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
