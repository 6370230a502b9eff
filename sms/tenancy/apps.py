from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "sms.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import rls

        # Runs after every migrate, so tables added by later apps are covered
        # without anyone remembering to write an RLS migration.
        post_migrate.connect(rls.apply_after_migrate, dispatch_uid="sms.tenancy.rls")
