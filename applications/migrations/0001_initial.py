# The Application model moved here from ``review`` so that extraction and rules can depend on it
# without importing the review layer. The table stays where it was: only Django's state moves,
# and the content type (with its permissions) is handed over to this app.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import applications.models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="review", model="application").update(
        app_label="applications"
    )


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="applications", model="application").update(
        app_label="review"
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("review", "0002_staff_groups"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Application',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('reference', models.CharField(default=applications.models.new_reference, editable=False, max_length=12, unique=True)),
                        ('title', models.CharField(blank=True, max_length=200)),
                        ('stated_name', models.CharField(max_length=200, verbose_name='your full name')),
                        ('stated_employer', models.CharField(blank=True, max_length=200, verbose_name='employer')),
                        ('stated_monthly_income', models.DecimalField(blank=True, decimal_places=2, max_digits=12, null=True, verbose_name='monthly income before tax')),
                        ('status', models.CharField(choices=[('draft', 'Draft'), ('processing', 'Reading documents'), ('awaiting_applicant', 'Waiting for you to check'), ('submitted', 'Submitted'), ('in_review', 'In review'), ('changes_requested', 'Changes requested'), ('approved', 'Approved'), ('rejected', 'Rejected')], default='draft', max_length=24)),
                        ('risk_score', models.PositiveIntegerField(default=0)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('submitted_at', models.DateTimeField(blank=True, null=True)),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('assigned_to', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='assigned_applications', to=settings.AUTH_USER_MODEL)),
                        ('owner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='applications', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'ordering': ['-created_at'],
                        'permissions': [('review_application', 'Can review and decide applications'), ('audit_history', 'Can audit the correction history')],
                        'db_table': 'review_application',
                        'indexes': [
                            models.Index(fields=['owner', '-created_at'], name='review_appl_owner_i_9982aa_idx'),
                            models.Index(fields=['status', '-risk_score', 'submitted_at'], name='review_appl_status_c7e6f5_idx'),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
