"""The demo's samples are dated relative to the day they are written, so a demo application
never opens with "Pay stub older than 30 days"; without a day they stay as first written (the
suite's fixtures and the measured figures use those)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from review.demo import _samples_stale, demo_setup
from samples.generate import expected_path, generate_samples


def _fields(paths) -> dict[str, dict]:
    return {p.name: json.loads(expected_path(p).read_text())["fields"] for p in paths}


@pytest.mark.parametrize(
    "today", [date(2026, 2, 3), date(2026, 11, 30), date(2027, 1, 4), date(2028, 2, 29)]
)
def test_samples_written_on_a_day_look_recent_on_that_day(tmp_path, today):
    paths = generate_samples(tmp_path, today=today)
    fields = _fields(paths)
    stubs = [f for name, f in fields.items() if name.startswith("pay_stub_")]
    assert len(stubs) == 2
    for stub in stubs:
        age = (today - date.fromisoformat(stub["pay_date"])).days
        assert 0 <= age <= 30, (today, stub["pay_date"])
    (statement,) = [f for name, f in fields.items() if name.startswith("bank_statement_")]
    assert 0 <= (today - date.fromisoformat(statement["statement_end"])).days <= 60
    (bill,) = [f for name, f in fields.items() if name.startswith("utility_bill_")]
    assert 0 <= (today - date.fromisoformat(bill["bill_date"])).days < 7
    (w2,) = [f for name, f in fields.items() if name.startswith("w2_")]
    assert int(w2["tax_year"]) in (today.year - 1, today.year - 2)
    # Named by their dates: the newer stub's name is its pay date.
    newest = max(stub["pay_date"] for stub in stubs)
    assert f"pay_stub_{newest}.pdf" in fields


def test_without_a_day_the_samples_are_as_first_written(tmp_path):
    names = sorted(p.name for p in generate_samples(tmp_path))
    assert names == [
        "bank_statement_2026-01.pdf",
        "pay_stub_2026-01-16_scan.png",
        "pay_stub_2026-01-30.pdf",
        "utility_bill_2026-02.pdf",
        "w2_2025.pdf",
    ]


@pytest.mark.django_db
def test_the_demo_writes_samples_again_once_they_are_old(tmp_path):
    today = timezone.localdate()
    generate_samples(tmp_path)  # January 2026: long before the machine's today
    assert _samples_stale(tmp_path, today)
    setup = demo_setup(samples_dir=tmp_path)
    assert len(setup.samples) == 5
    assert not _samples_stale(tmp_path, today)
    assert not (tmp_path / "pay_stub_2026-01-30.pdf").exists()
    assert len(list(tmp_path.glob("*.expected.json"))) == 5
    assert not _samples_stale(tmp_path, today + timedelta(days=3))
