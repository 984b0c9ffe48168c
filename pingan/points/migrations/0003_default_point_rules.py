from django.db import migrations


def create_rules(apps, schema_editor):
    from pingan.points.rules import ensure_default_rules

    ensure_default_rules(apps.get_model("points", "PointRule"))


class Migration(migrations.Migration):
    dependencies = [("points", "0002_initial")]

    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
