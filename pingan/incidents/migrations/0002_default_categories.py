from django.db import migrations


def load(apps, schema_editor):
    from pingan.incidents.categories import ensure_default_categories

    ensure_default_categories(apps.get_model("incidents", "Category"))


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
