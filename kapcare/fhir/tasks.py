from django_tasks import task

from kapcare.fhir.bulk import run_export


@task()
def run_bulk_export(export_id: str) -> str:
    """Write a Bulk Data export's files (idempotent: a re-run starts over)."""
    return run_export(export_id)
