from django.db import migrations


def install_taxonomies(apps, schema_editor):
    from linli.directory.taxonomy import install

    install(apps.get_model("directory", "Taxonomy"), apps.get_model("directory", "TaxonomyTerm"))


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    operations = [migrations.RunPython(install_taxonomies, migrations.RunPython.noop)]
