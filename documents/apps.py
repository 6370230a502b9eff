from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    label = "documents"
    verbose_name = "Documents and records (4.3)"

    def ready(self) -> None:
        from sms.core import demo
        from sms.core.registry import ActivityKind, activity_kinds, kinds
        from sms.tenancy.roles import Role, grant

        from . import panels, services
        from .choices import DOCUMENT_STATE_COLOURS
        from .demo import seed_documents
        from .models import Document

        kinds.register(
            code="document", model=Document, prefix="DOC",
            process="Documentation management", clause="4.3", api_path="documents", url_namespace="documents",
            state_colours=DOCUMENT_STATE_COLOURS,
            # The text of the version in force is searched too (a join; documents are few).
            search_fields=("title", "description", "current_version__content"),
            closed_states=("retired",),
        )
        activity_kinds.register(ActivityKind(
            "document_review", "Document review", "4.3.2",
            "The owner checks that a controlled document is still suitable, correct and complete.",
            default_interval_months=12, on_complete=services.complete_review_activity,
        ))
        # Top management approves what it owns (the service management policy, plans);
        # tenant administrators say which roles approve which document types.
        grant(Role.TOP_MANAGEMENT, "document.approve")
        grant(Role.ADMIN, "document.configure")
        panels.register()
        demo.register(seed_documents)
