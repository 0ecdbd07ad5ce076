from django.db import migrations


def reinstall_taxonomies(apps, schema_editor):
    """The shipped taxonomies' `uri` becomes a URN, as HSDS types it a URI."""
    from linli.directory.taxonomy import install

    install(apps.get_model("directory", "Taxonomy"), apps.get_model("directory", "TaxonomyTerm"))


class Migration(migrations.Migration):
    dependencies = [("directory", "0002_shipped_taxonomies")]

    operations = [migrations.RunPython(reinstall_taxonomies, migrations.RunPython.noop)]
