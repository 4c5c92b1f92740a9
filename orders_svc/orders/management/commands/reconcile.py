"""`manage.py reconcile`: compare orders with payments and inventory now, store and print the findings."""

import json

from django.core.management.base import BaseCommand, CommandError

from orders.models import ReconciliationRun
from orders.reconciliation import reconciliation_run_exclusive


class Command(BaseCommand):
    help = "Compare recent orders with payments and inventory; findings are stored, logged and printed."

    def add_arguments(self, parser):
        parser.add_argument("--window-hours", type=float, help="orders changed in the last N hours (settings' default)")
        parser.add_argument(
            "--settle-seconds", type=float, help="skip orders changed this recently (settings' default)"
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the run and its findings as JSON"
        )

    def handle(self, *args, window_hours=None, settle_seconds=None, as_json=False, **options):
        run = reconciliation_run_exclusive(
            trigger=ReconciliationRun.Trigger.COMMAND, window_hours=window_hours, settle_seconds=settle_seconds
        )
        if run is None:
            raise CommandError("Another reconciliation is running; try again shortly.")
        findings = list(run.findings.order_by("id").values("order_id", "sku", "kind", "detail"))
        if as_json:
            self.stdout.write(_dumps(run, findings))
        else:
            for finding in findings:
                self.stdout.write(f"{finding['kind']}: {finding['order_id'] or finding['sku']}: {finding['detail']}")
            self.stdout.write(
                f"reconciliation {run.pk} {run.status}: {run.orders_checked} orders, {run.skus_checked} SKUs, "
                f"{run.findings_count} findings{': ' + run.error if run.error else ''}"
            )
        if run.status == ReconciliationRun.Status.FAILED:
            raise CommandError(f"Reconciliation {run.pk} failed: {run.error}")


def _dumps(run: ReconciliationRun, findings: list[dict]) -> str:
    return json.dumps(
        {
            "run": run.pk,
            "status": run.status,
            "orders_checked": run.orders_checked,
            "skus_checked": run.skus_checked,
            "error": run.error,
            "findings": [{**finding, "order_id": str(finding["order_id"] or "") or None} for finding in findings],
        }
    )
