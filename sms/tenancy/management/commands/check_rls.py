from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from sms.tenancy import rls


class Command(BaseCommand):
    help = (
        "List every tenant table (a table with a tenant_id column, historical tables "
        "included) and fail if any lacks ENABLE + FORCE ROW LEVEL SECURITY and the "
        "tenant policy, or if the application's role could bypass it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="Apply the missing protection (run as the owner).")

    def handle(self, *args, fix=False, verbosity=1, **options):
        if fix:
            rls.protect_all(connection)
        with connection.cursor() as cursor:
            statuses = rls.table_statuses(cursor)
            role_problems = rls.app_role_problems(cursor)
        bad = [s for s in statuses if not s.ok]
        if verbosity > 1:
            for s in statuses:
                self.stdout.write(f"{'ok ' if s.ok else 'BAD'} {s.table}")
        for s in bad:
            missing = [n for n, v in (("ENABLE", s.enabled), ("FORCE", s.forced), ("policy", s.has_policy)) if not v]
            self.stderr.write(f"{s.table}: missing {', '.join(missing)}")
        for problem in role_problems:
            self.stderr.write(problem)
        if bad or role_problems:
            raise CommandError(f"{len(bad)} tenant table(s) without forced RLS; {len(role_problems)} role problem(s).")
        self.stdout.write(self.style.SUCCESS(f"{len(statuses)} tenant tables, all with forced row-level security."))
