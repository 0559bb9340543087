# Application moved to the `applications` app (same table): only Django's state changes here.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0002_staff_groups"),
        ("applications", "0001_initial"),
        # Every foreign key to the old model points at the new one before it leaves the state.
        ("extraction", "0003_application_moved"),
        ("rules", "0003_application_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="decision",
                    name="application",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="decisions",
                        to="applications.application",
                    ),
                ),
                migrations.DeleteModel(name="Application"),
            ],
            database_operations=[],
        ),
    ]
