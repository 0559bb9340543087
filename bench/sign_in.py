"""Sign-in, sign-up and password reset through django-allauth: does the time of an answer tell
whether an address has an account, and when does throttling start?

Runs in-process with Django's test Client against a fresh test database, with Django's default
password hasher (PBKDF2, as production uses; the tests use MD5 for speed), and prints a Markdown
table: the median and p90 time of each kind of request for an address with an account and one
without. The rate limits are cleared before each timed request, so that throttling does not
shorten them; the last rows count the failed sign-ins before throttling refuses the right
password.

    .venv/bin/python -m bench.sign_in [--repeat 30]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from django.core.cache import cache  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import user_email_mark_verified  # noqa: E402
from bench.database import throwaway_database  # noqa: E402

PASSWORD = "correct-horse-battery-9"  # noqa: S105 - a bench account
PBKDF2 = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def timed(known, unknown, repeat: int) -> tuple[tuple[float, float], tuple[float, float], bool]:
    """Median and p90 ms of each, sent alternately so that the machine's load hits both alike;
    and whether both always answered with the same status code."""
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    codes: dict[str, set[int]] = {"known": set(), "unknown": set()}
    for i in range(repeat):
        for kind, send in (("known", known), ("unknown", unknown)):
            cache.clear()
            started = time.perf_counter()
            response = send(i)
            times[kind].append((time.perf_counter() - started) * 1000)
            codes[kind].add(response.status_code)
    figures = []
    for kind in ("known", "unknown"):
        values = sorted(times[kind])
        figures.append((statistics.median(values), values[int(0.9 * (len(values) - 1))]))
    return figures[0], figures[1], codes["known"] == codes["unknown"]


def run(repeat: int) -> None:
    owner = User.objects.create_user(email="dana@example.com", password=PASSWORD)
    user_email_mark_verified(user=owner)
    client = Client()
    client.get("/accounts/login/")  # warm up templates, URL resolver and the hasher
    login, signup, reset = "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"
    cases = [
        (
            "sign-in, wrong password",
            lambda i: client.post(login, {"login": "dana@example.com", "password": "nope"}),
            lambda i: client.post(login, {"login": f"nobody{i}@example.com", "password": "nope"}),
        ),
        (
            "sign-up",
            lambda i: client.post(signup, _signup("dana@example.com")),
            lambda i: client.post(signup, _signup(f"new{i}@example.com")),
        ),
        (
            "password reset",
            lambda i: client.post(reset, {"email": "dana@example.com"}),
            lambda i: client.post(reset, {"email": f"nobody{i}@example.com"}),
        ),
    ]
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, PBKDF2 "
        f"({repeat} requests each, in-process test Client, SQLite)\n"
    )
    print("| request | account exists: median / p90 ms | no account: median / p90 ms | answers |")
    print("| --- | ---: | ---: | --- |")
    for name, known, unknown in cases:
        (k_median, k_p90), (u_median, u_p90), same = timed(known, unknown, repeat)
        client.post("/accounts/logout/")
        codes = "same status" if same else "DIFFERENT status"
        print(f"| {name} | {k_median:.0f} / {k_p90:.0f} | {u_median:.0f} / {u_p90:.0f} | {codes} |")

    cache.clear()
    failures, refused = 0, False
    while failures < 100:
        # One more wrong password, then the right one (a success does not count as a failure).
        client.post(login, {"login": "dana@example.com", "password": "wrong"})
        failures += 1
        page = client.post(login, {"login": "dana@example.com", "password": PASSWORD})
        if page.status_code != 302:
            refused = "Too many failed" in page.content.decode()
            break
        client.post("/accounts/logout/")
    print(
        f"\nThe right password is refused after {failures} failed sign-ins for one address "
        f"(plain message shown: {refused}; ACCOUNT_RATE_LIMITS login_failed: 5 per 5 minutes "
        "per address, 10 a minute per IP)."
    )


def _signup(email: str) -> dict:
    return {"email": email, "full_name": "A Person", "password1": PASSWORD, "password2": PASSWORD}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with throwaway_database(), override_settings(PASSWORD_HASHERS=PBKDF2):
        run(args.repeat)


if __name__ == "__main__":
    main()
