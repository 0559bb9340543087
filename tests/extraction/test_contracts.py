"""The repository's copy of the provider request contract is the team's shared one."""

from pathlib import Path

import pytest

from tests.fakes.llm_server import OPENAI_CONTRACT, contracts_dir

SHARED = Path(__file__).resolve().parents[3] / "shared" / "contracts" / OPENAI_CONTRACT


@pytest.mark.skipif(not SHARED.is_file(), reason="no shared/ folder beside this clone")
def test_the_vendored_openai_contract_matches_the_shared_one():
    assert (contracts_dir() / OPENAI_CONTRACT).read_bytes() == SHARED.read_bytes()


def test_the_anthropic_request_contract_is_a_valid_json_schema():
    """No official schema exists; the hand-written one must at least compile and have teeth."""
    from tests.fakes.llm_server import ANTHROPIC_CONTRACT, contract_validator

    validator = contract_validator(ANTHROPIC_CONTRACT)

    assert validator.is_valid(
        {"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}
    )
    assert not validator.is_valid({"model": "m", "messages": []})
