"""The progress of a background job, for the person who started it (and superusers)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .models import Job


def job_get_for_user(*, user, job_id: int) -> Job:
    job = Job.objects.filter(pk=job_id).first()
    if job is None or not (user.is_superuser or job.started_by_id == user.pk):
        raise Http404("No such job.")
    return job


@login_required
@require_GET
def job_status(request, job_id: int):
    """The job's progress bar and outcome; the fragment polls itself while the job runs."""
    job = job_get_for_user(user=request.user, job_id=job_id)
    return render(request, "core/job_status.html", {"job": job})
