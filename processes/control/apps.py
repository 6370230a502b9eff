from django.apps import AppConfig


class ControlConfig(AppConfig):
    """Control processes (clause 9): change management (policy, requests for change,
    approval) and, later, release and deployment."""

    name = "processes.control"
    label = "control"
    verbose_name = "Control processes (9)"

    def ready(self) -> None:
        from sms.core import demo
        from sms.core.registry import NavEntry, kinds, shell
        from sms.tenancy.roles import Role, grant

        from . import panels
        from .choices import CHANGE_STATE_COLOURS, FINISHED_STATES
        from .demo import seed_demo
        from .models import Change

        kinds.register(
            code="change",
            model=Change,
            prefix="CHG",
            process="Change management",
            clause="9.2",
            api_path="changes",
            url_namespace="changes",
            state_colours=CHANGE_STATE_COLOURS,
            closed_states=tuple(str(s) for s in FINISHED_STATES),
        )
        # change.create/update/transition/approve/assess come from the role matrix
        # (sms/tenancy/roles.py); the owner of the change process also assesses
        # changes. The policy, rules and templates are process owners' and
        # administrators' through their *.update/*.create wildcards.
        grant(Role.PROCESS_OWNER, "change.assess")
        # A failed change is investigated by its process owner or the change advisory board.
        grant(Role.PROCESS_OWNER, "change.investigate")
        grant(Role.CHANGE_APPROVER, "change.investigate")
        grant(Role.ADMIN, "change.investigate")
        from sms.core.registry import activity_kinds

        from .services_review import TREND_ACTIVITY

        activity_kinds.register(TREND_ACTIVITY)
        shell.add_nav(NavEntry("Control", "Requests for change", "changes:list", "change.view", order=10))
        shell.add_nav(NavEntry("Control", "My change approvals", "changes:approvals", "change.approve", order=11))
        shell.add_nav(NavEntry("Control", "Schedule of change", "changes:calendar", "change.view", order=11))
        shell.add_nav(NavEntry("Control", "Change policy", "change-policy", "changepolicy.view", order=12))
        shell.add_nav(NavEntry("Control", "Change trends", "change-trends:list", "changetrend.view", order=13))
        panels.register()
        demo.register(seed_demo)
        from .setup_releases import register as register_releases

        register_releases()
        # From now on a controlled CI is edited only under an approved RFC (or one being
        # implemented): the CMDB asks through its hook, without importing this app.
        from sms.cmdb.hooks import register_change_reference_check

        from .services import check_ci_change_reference

        register_change_reference_check(check_ci_change_reference)
        # The schedule of change is told to the interested parties when a change is scheduled.
        from .schedule import connect as connect_schedule_notifications

        connect_schedule_notifications()
