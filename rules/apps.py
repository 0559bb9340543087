from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "rules"
    verbose_name = "Rules and flags"

    def ready(self) -> None:
        from extraction.signals import document_read

        from .receivers import flags_refresh_after_reading

        document_read.connect(flags_refresh_after_reading, dispatch_uid="rules.after_reading")
