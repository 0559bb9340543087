"""The queue searched by reference, name or e-mail: a GET parameter that keeps the filters,
the order and the pages, and never lists an application the reviewer may not see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from applications.models import Application
from review.selectors import review_queue
from tests.factories import ApplicationFactory, SubmittedApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _refs(response) -> list[str]:
    return [a.reference for a in response.context["page"].rows]


@pytest.fixture
def people(db):
    # Names given, not the factory's random ones: a search of one or two letters matches the
    # start of any word of a name, so "Michael" would be found by "mi".
    return {
        "dana": SubmittedApplicationFactory(
            stated_name="Dana Okafor",
            owner=UserFactory(email="dana.okafor@mail.test", full_name="Dana Okafor"),
        ),
        "lee": SubmittedApplicationFactory(
            stated_name="Lee Park",
            owner=UserFactory(email="lee@park.test", full_name="Lee Min Park"),
        ),
        # Never submitted: no reviewer may see it, whatever they type or pick.
        "draft": ApplicationFactory(
            stated_name="Dana Draft",
            owner=UserFactory(email="dana.draft@mail.test", full_name="Dana Draft"),
        ),
        "decided": SubmittedApplicationFactory(
            stated_name="Dana Decided",
            owner=UserFactory(email="decided@mail.test", full_name="Dana Decided"),
            status=Application.Status.APPROVED,
        ),
    }


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("okafor", {"dana"}),
        ("DANA.OKAFOR@MAIL.TEST", {"dana"}),
        ("park.test", {"lee"}),
        ("Min Park", {"lee"}),
        ("  lee   park ", {"lee"}),
        ("dana", {"dana", "decided"}),
        ("nobody-like-this", set()),
    ],
)
def test_search_by_name_or_email(client_for, reviewer, people, q, expected):
    response = client_for(reviewer).get(reverse("review_queue"), {"q": q})
    assert response.status_code == 200
    assert set(_refs(response)) == {people[name].reference for name in expected}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ok", {"dana"}),  # the start of a word of the stated name
        ("MI", {"lee"}),  # the start of a word of the name given at sign-up
        ("le", {"lee"}),  # the start of a name and of an e-mail
        ("d", {"dana", "decided"}),
        ("af", set()),  # inside "Okafor": one or two letters are not searched inside
        ("st", set()),  # inside "mail.test"
    ],
)
def test_a_search_of_one_or_two_letters_finds_the_starts_of_names_and_e_mails(
    client_for, reviewer, people, q, expected
):
    response = client_for(reviewer).get(reverse("review_queue"), {"q": q})
    assert response.status_code == 200
    assert set(_refs(response)) == {people[name].reference for name in expected}


def test_a_search_of_two_letters_finds_the_start_of_a_reference(client_for, reviewer, people):
    reference = people["lee"].reference
    response = client_for(reviewer).get(reverse("review_queue"), {"q": reference[:2].lower()})
    assert reference in _refs(response)


def test_search_by_reference_in_any_case_and_in_part(client_for, reviewer, people):
    reference = people["lee"].reference
    client = client_for(reviewer)
    assert _refs(client.get(reverse("review_queue"), {"q": reference.lower()})) == [reference]
    assert reference in _refs(client.get(reverse("review_queue"), {"q": reference[2:7]}))


def test_a_reviewer_never_finds_a_draft(client_for, reviewer, people):
    draft = people["draft"]
    client = client_for(reviewer)
    for params in (
        {"q": draft.reference},
        {"q": "dana.draft"},
        {"q": "Draft", "status": "awaiting_applicant"},
        {"q": draft.reference, "status": "approved"},
    ):
        response = client.get(reverse("review_queue"), params)
        assert response.status_code == 200
        assert draft.reference not in _refs(response), params
        body = response.content.decode()
        listed = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in body else ""
        assert draft.reference not in listed and "dana.draft" not in listed, params
    assert not review_queue(user=reviewer, q=draft.reference).exists()
    assert not review_queue(user=reviewer, q=draft.reference, status="awaiting_applicant").exists()


def test_an_applicant_cannot_search_the_queue(client_for, people):
    owner = people["draft"].owner
    response = client_for(owner).get(reverse("review_queue"), {"q": "dana"})
    assert response.status_code == 403


def test_search_keeps_the_filters_order_and_pages(client_for, reviewer, people):
    many = [
        SubmittedApplicationFactory(stated_name=f"Sam Many {n}", risk_score=n) for n in range(27)
    ]
    client = client_for(reviewer)
    first = client.get(reverse("review_queue"), {"q": "sam many"})
    assert first.context["page"].count == 27
    assert _refs(first)[0] == many[-1].reference, "highest risk first"
    body = first.content.decode()
    after = first.context["page"].next
    assert f"q=sam+many&amp;after={after}" in body
    second = client.get(reverse("review_queue"), {"q": "sam many", "after": after})
    assert set(_refs(first)).isdisjoint(_refs(second))
    assert len(_refs(first)) + len(_refs(second)) == 27
    # With a status, the search stays inside it.
    approved = client.get(reverse("review_queue"), {"q": "dana", "status": "approved"})
    assert _refs(approved) == [people["decided"].reference]
    # A filter that is not a choice is left out; the search still applies.
    odd = client.get(reverse("review_queue"), {"q": "okafor", "severity": "enormous"})
    assert _refs(odd) == [people["dana"].reference]


def test_no_match_says_so_in_plain_words(client_for, reviewer, people):
    body = client_for(reviewer).get(reverse("review_queue"), {"q": "<b>zz</b>"}).content.decode()
    assert "No application you can see matches “&lt;b&gt;zz&lt;/b&gt;”" in body


def test_an_application_withdrawn_after_a_request_for_changes_is_still_found(
    client_for, reviewer, people
):
    """It was submitted once, so reviewers may see it; a draft withdrawn never is."""
    once = SubmittedApplicationFactory(
        stated_name="Wren Withdrawn", status=Application.Status.WITHDRAWN
    )
    never = ApplicationFactory(stated_name="Wren Draft", status=Application.Status.WITHDRAWN)
    response = client_for(reviewer).get(reverse("review_queue"), {"q": "wren"})
    assert _refs(response) == [once.reference]
    assert never.reference not in _refs(response)
