"""The repository's copy of the provider request contract is the team's shared one."""

from pathlib import Path

import pytest

from tests.fakes.llm_server import OPENAI_CONTRACT, contracts_dir

SHARED = Path(__file__).resolve().parents[3] / "shared" / "contracts" / OPENAI_CONTRACT


@pytest.mark.skipif(not SHARED.is_file(), reason="no shared/ folder beside this clone")
def test_the_vendored_openai_contract_matches_the_shared_one():
    assert (contracts_dir() / OPENAI_CONTRACT).read_bytes() == SHARED.read_bytes()


def test_the_anthropic_contract_is_the_sdks_request_type_with_unknown_keys_forbidden():
    """The SDK's ``MessageCreateParamsNonStreaming``, checked at every level."""
    from tests.fakes.sdk_contracts import anthropic_request_problem

    good = {"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}
    assert anthropic_request_problem(good) is None
    assert anthropic_request_problem({"model": "m", "messages": []}) is not None
    assert "temperature" in anthropic_request_problem({**good, "temperature": 0})
