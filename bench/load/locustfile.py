"""Locust users for `make load`: applicants and reviewers on a seeded database.

Run by ``bench/load/run.py`` (which seeds the database and starts the server); by hand:

    LOAD_UPLOAD_FILE=var/load/pay_stub_photo.jpg .venv/bin/locust -f bench/load/locustfile.py \
        --headless -u 50 -r 10 -t 60s --host http://127.0.0.1:8000

Applicants (``applicant<n>@example.com``, each with two submitted applications) sign in, start
a draft application, list their applications, open one, and upload a 5 MB phone photo of a pay
stub the way the page's script does. Reviewers sign in and page through the queue of 100,000
applications (first page, a later page, a filtered page) and open applications from it.
Each request is named by its route, not its URL, so that the statistics group them.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time

from locust import HttpUser, between, events, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "attest-load-password")
APPLICANTS = int(os.environ.get("LOAD_APPLICANTS", "100"))
REVIEWER_EMAIL = os.environ.get("LOAD_REVIEWER", "riley@example.com")
UPLOAD_FILE = os.environ.get("LOAD_UPLOAD_FILE", "var/load/pay_stub_photo.jpg")
# Seconds a person pauses between two pages (locust's wait_time), "min,max".
WAIT = [float(v) for v in os.environ.get("LOAD_WAIT", "1,5").split(",")]

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
APPLICATION_LINK = re.compile(r'href="/applications/(\d+)/"')
REVIEW_LINK = re.compile(r'href="/review/(\d+)/"')
# The queue pages by cursor: "Next" carries the position of the page's last row.
NEXT_LINK = re.compile(r'after=([0-9_]+)" rel="next"')
NUMBERS = itertools.count()
# Every request as (seconds from the end of the first request to its own end, name,
# milliseconds, failed), for figures over part of the run (after the ramp), which locust's own
# statistics cannot give.
SAMPLES: list[tuple[float, str, float, bool]] = []
FIRST: list[float] = []


@events.request.add_listener
def record(request_type, name, response_time, exception, **_kwargs) -> None:
    now = time.time()
    if not FIRST:
        FIRST.append(now)
    label = name if request_type == "GET" else f"{name} ({request_type})"
    SAMPLES.append((now - FIRST[0], label, response_time, exception is not None))


@events.quitting.add_listener
def write_summary(environment, **_kwargs) -> None:
    """Every endpoint's figures once the last request has finished, to LOAD_SUMMARY (JSON);
    locust's own CSV is written before requests still running at the end have finished."""
    path = os.environ.get("LOAD_SUMMARY")
    if not path:
        return
    stats = environment.stats
    entries = sorted(stats.entries.values(), key=lambda e: e.name) + [stats.total]
    rows = [
        {
            "name": entry.name,
            "method": entry.method or "",
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "median": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
        }
        for entry in entries
    ]
    errors = [
        {"name": error.name, "error": str(error.error), "count": error.occurrences}
        for error in stats.errors.values()
    ]
    with open(path, "w") as handle:
        json.dump({"rows": rows, "errors": errors, "samples": SAMPLES}, handle)


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    return match.group(1) if match else ""


def sign_in(client, email: str, password: str) -> bool:
    """Sign in through the login form: GET it (for the CSRF token), POST e-mail and password.

    The only place that knows the sign-in screen (today django.contrib.auth's LoginView at
    /accounts/login/ with ``username`` and ``password``); change it here if sign-in moves.
    """
    form = client.get("/accounts/login/", name="sign-in: form")
    with client.post(
        "/accounts/login/",
        data={
            "username": email,
            "password": password,
            "csrfmiddlewaretoken": csrf_token(form.text),
        },
        name="sign-in: post",
        allow_redirects=False,
        catch_response=True,
    ) as response:
        # Success is a redirect away from the form; a wrong password shows the form again (200).
        if response.status_code != 302:
            response.failure(f"sign-in refused for {email}: HTTP {response.status_code}")
            return False
        response.success()
    return True


class Applicant(HttpUser):
    weight = 1
    wait_time = between(*WAIT)

    def on_start(self) -> None:
        self.email = f"applicant{next(NUMBERS) % APPLICANTS}@example.com"
        self.applications: list[str] = []
        self.draft = ""
        if not sign_in(self.client, self.email, PASSWORD):
            return
        page = self.client.get("/applications/", name="applications list")
        with self.client.post(
            "/applications/",
            data={"stated_name": "Jordan A. Rivera", "csrfmiddlewaretoken": csrf_token(page.text)},
            name="start an application",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            found = re.search(r"/applications/(\d+)/", response.headers.get("Location", ""))
            if response.status_code != 302 or not found:
                response.failure(f"no new application: HTTP {response.status_code}")
                return
            self.draft = found.group(1)

    @task(4)
    def application_list(self) -> None:
        response = self.client.get("/applications/", name="applications list")
        self.applications = APPLICATION_LINK.findall(response.text) or self.applications

    @task(4)
    def application_detail(self) -> None:
        if not self.applications:
            return self.application_list()
        number = random.choice(self.applications)  # noqa: S311 - load pattern
        self.client.get(f"/applications/{number}/", name="application page")
        return None

    @task(1)
    def upload(self) -> None:
        if not self.draft:
            return
        page = self.client.get(f"/applications/{self.draft}/", name="application page")
        token = csrf_token(page.text)
        with (
            open(UPLOAD_FILE, "rb") as handle,
            self.client.post(
                f"/applications/{self.draft}/",
                data={"upload": "1", "document_type": "", "csrfmiddlewaretoken": token},
                files={"files": ("pay_stub_photo.jpg", handle, "image/jpeg")},
                headers={"Accept": "application/json"},
                name="upload 5 MB photo",
                catch_response=True,
            ) as response,
        ):
            # The page's script asks for JSON: {"errors": [...]} with 200 or 400.
            answered = response.status_code in (200, 400)
            errors = response.json().get("errors") if answered else None
            if response.status_code != 200 or errors:
                response.failure(f"upload refused: HTTP {response.status_code} {errors}")


class Reviewer(HttpUser):
    weight = 1
    wait_time = between(*WAIT)

    def on_start(self) -> None:
        self.applications: list[str] = []
        sign_in(self.client, REVIEWER_EMAIL, PASSWORD)

    def _queue(self, url: str, name: str) -> None:
        response = self.client.get(url, name=name)
        self.applications = REVIEW_LINK.findall(response.text) or self.applications
        following = NEXT_LINK.search(response.text)
        if following and "severity" not in url:
            self.next_page = following.group(1)

    @task(3)
    def queue(self) -> None:
        self._queue("/review/", "review queue")

    @task(1)
    def queue_later_page(self) -> None:
        # The next page after the last one this reviewer read (page 2, 3, ... as they go on).
        cursor = getattr(self, "next_page", "")
        self._queue(f"/review/?after={cursor}", "review queue, later page")

    @task(1)
    def queue_filtered(self) -> None:
        severity = random.choice(["critical", "high", "medium", "low"])  # noqa: S311
        self._queue(f"/review/?severity={severity}&assigned=none", "review queue, filtered")

    @task(3)
    def review_application(self) -> None:
        if not self.applications:
            return self.queue()
        number = random.choice(self.applications)  # noqa: S311 - load pattern
        self.client.get(f"/review/{number}/", name="review page")
        return None
