from django.db import migrations


def set_fillfactor(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Leave room in each page so that rewriting a component (a sync, an edit) can update it in place.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE plans_component SET (fillfactor = 80)")


class Migration(migrations.Migration):
    dependencies = [("plans", "0002_component_indexes")]

    operations = [migrations.RunPython(set_fillfactor, migrations.RunPython.noop)]
