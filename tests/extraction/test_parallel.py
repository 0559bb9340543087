"""Long documents: pages read in parallel groups under a provider limit shared across workers."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest

from extraction.concurrency import ProviderSlots, SlotTimeout
from extraction.models import Document
from extraction.reading import page_groups
from tests.extraction.conftest import text_pdf, upload_and_read
from tests.fakes import FakeLLMServer

PAGES = 20


def statement_answer(spec_keys):
    """The fake model's answer to one group: a row per page it was shown, the header on page 1."""

    def answer(record):
        numbers = record.page_numbers()
        values = dict.fromkeys(spec_keys)
        if 1 in numbers:
            values["account_holder"] = "Jordan A. Rivera"
        if PAGES in numbers:
            values["closing_balance"] = "$3,475.04"
        values["transactions"] = [
            {"date": f"01/{n:02d}", "description": f"PURCHASE ON PAGE {n}", "amount": "-1.00"}
            for n in numbers
        ]
        return values

    return answer


@pytest.fixture
def slow_llm():
    with FakeLLMServer(latency=1.0) as server:
        yield server


def test_a_twenty_page_statement_is_read_in_overlapping_groups_and_merged(
    settings, slow_llm, applicant_application, shipped_types
):
    """Ten two-page calls, at most five at a time (the provider's limit): requests overlap,
    never beyond the limit; rows come back from every page in page order. (Calls start while
    later pages render, so how many overlap depends on how fast this machine renders.)"""
    settings.EXTRACTION_PROVIDER = "openai"
    settings.LLM_BASE_URL = slow_llm.base_url
    settings.LLM_TIMEOUT_SECONDS = 10
    settings.EXTRACTION_SECOND_PROVIDER = ""
    settings.EXTRACTION_PAGES_PER_CALL = 2
    settings.EXTRACTION_PROVIDER_CONCURRENCY = {"openai": 5}
    statement = shipped_types["bank_statement"]
    slow_llm.answer_by(statement_answer([f["key"] for f in statement.fields]))
    data = text_pdf([f"Everyday Checking\nPage {n} of {PAGES}\nTransactions" for n in range(1, 21)])

    document = upload_and_read(applicant_application, data, document_type=statement)

    assert document.status == Document.Status.EXTRACTED, document.reason
    assert len(slow_llm.requests) == PAGES // 2
    assert 2 <= slow_llm.max_overlap() <= 5
    assert sorted(n for r in slow_llm.requests for n in r.page_numbers()) == list(range(1, 21))
    rows = json.loads(document.fields.get(key="transactions").value)
    assert [row["description"] for row in rows] == [f"PURCHASE ON PAGE {n}" for n in range(1, 21)]
    assert document.fields.get(key="account_holder").value == "Jordan A. Rivera"
    assert document.fields.get(key="closing_balance").value == "$3,475.04"
    runs = list(document.runs.order_by("page_first"))
    assert [(r.page_first, r.page_last) for r in runs] == [(n, n + 1) for n in range(1, 21, 2)]
    assert all(r.tokens_in > 0 and r.latency_ms >= 1000 for r in runs)


def test_each_group_is_told_which_pages_of_how_many_it_sees(
    settings, fake_llm, applicant_application, shipped_types
):
    settings.EXTRACTION_PROVIDER = "openai"
    settings.LLM_BASE_URL = fake_llm.base_url
    settings.EXTRACTION_PAGES_PER_CALL = 2

    upload_and_read(
        applicant_application,
        text_pdf(["Net pay 1.00 page one", "page two", "page three"]),
        document_type=shipped_types["pay_stub"],
    )

    overviews = sorted(r.text_parts()[1].splitlines()[2] for r in fake_llm.requests)
    assert overviews == [
        "The document has 3 page(s); these are page(s) 1, 2. Fields to copy:",
        "The document has 3 page(s); these are page(s) 3. Fields to copy:",
    ]


@pytest.mark.parametrize(
    ("size", "groups"),
    [(0, [(1, 2, 3, 4, 5)]), (2, [(1, 2), (3, 4), (5,)]), (5, [(1, 2, 3, 4, 5)])],
)
def test_pages_are_grouped_consecutively(size, groups):
    assert page_groups([1, 2, 3, 4, 5], size=size) == groups


def test_the_redis_semaphore_never_lets_more_than_the_limit_in(redis_url):
    """Six threads with two slots, as six workers would be: at most two hold one at a time."""
    slots = ProviderSlots(name="test-limit", limit=2, redis_url=redis_url, lease_seconds=30)
    inside, peak, lock = 0, 0, threading.Lock()

    def work():
        nonlocal inside, peak
        with slots.hold(wait_seconds=10):
            with lock:
                inside += 1
                peak = max(peak, inside)
            time.sleep(0.2)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert peak == 2
    assert slots.in_use() == 0


def test_a_slot_held_by_a_killed_process_comes_free_when_its_lease_ends(redis_url):
    """The holder renews its slot while it lives; killed mid-call, it stops renewing."""
    slots = ProviderSlots(name="test-lease", limit=1, redis_url=redis_url, lease_seconds=2)
    pid = os.fork()
    if pid == 0:  # the worker that dies holding the slot
        try:
            holder = ProviderSlots(name="test-lease", limit=1, redis_url=redis_url, lease_seconds=2)
            held = holder.hold(wait_seconds=5)
            held.__enter__()
            os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status), "the holder did not take its slot"

    with pytest.raises(SlotTimeout), slots.hold(wait_seconds=0.1):
        pass
    with slots.hold(wait_seconds=10):
        assert slots.in_use() == 1


def test_a_slot_is_renewed_while_its_call_runs(redis_url):
    slots = ProviderSlots(name="test-renew", limit=1, redis_url=redis_url, lease_seconds=0.6)
    with slots.hold(wait_seconds=1):
        time.sleep(1.5)  # longer than the lease: only renewal keeps the slot
        with pytest.raises(SlotTimeout), slots.hold(wait_seconds=0.1):
            pass
    assert slots.in_use() == 0
