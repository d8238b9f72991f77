"""PII and secrets: checksums, detection without false alarms, redaction, the scorer wrappers."""

from __future__ import annotations

import time

import pytest

from redline.scorers import ScoreInput, get_scorer
from redline.scorers.pii import (
    KINDS,
    find_sensitive,
    iban_valid,
    luhn_valid,
    redact,
    verhoeff_valid,
)


def kinds(text: str) -> list[str]:
    return [m.kind for m in find_sensitive(text)]


def test_checksums_accept_real_numbers_and_reject_one_digit_changes() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid(
        "GB82 WEST 1234 5698 7654 33"
    )
    assert not iban_valid("GB82 WEST 1234 5698 7654")  # wrong length for GB
    assert verhoeff_valid("499118665246") and not verhoeff_valid("499118665245")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ana.lopez@mail-host.org today", ["email"]),
        ("card 4111 1111 1111 1111 exp 09/27", ["credit_card"]),
        ("pay DE89 3704 0044 0532 0130 00 now", ["iban"]),
        ("ssn 219-09-9999", ["us_ssn"]),
        ("DNI 12345678Z", ["es_dni"]),
        ("my bsn is 123456782", ["nl_bsn"]),
        ("personnummer 19811228-9874", ["se_personnummer"]),
        ("aadhaar 4991 1866 5246", ["in_aadhaar"]),
        ("call +44 7700 900123 or (212) 555-0187", ["phone", "phone"]),
        ("AKIAIOSFODNN7EXAMPLE", ["aws_access_key"]),
        ("ghp_" + "a1B2" * 9, ["github_token"]),
        ("OPENAI_API_KEY=sk-proj-4fJ8kLm2Qw9xZr7TbN3vYc6H", ["openai_key"]),
        ("-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----", ["private_key"]),
        ("db_password = 'Tr0ub4dor&3xq'", ["password_assignment"]),
    ],
)
def test_finds_each_kind(text: str, expected: list[str]) -> None:
    assert kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 1234567812345678 shipped",  # 16 digits, fails Luhn
        "declined card 4111 1111 1111 1112",
        "released 2.14.3 on 2024-05-01 at 10:30",
        "the model has 123456789 parameters",  # passes the BSN 11-test? only near 'bsn' anyway
        "IBAN GB82 WEST 1234 5698 7654 33",  # bad check digits
        "use <your-api-key> or password: ******** in examples",
        "Set API_KEY=your_api_key_here first",
        "call 911 or 112",
        "i can not give you that number it is private",
    ],
)
def test_ordinary_text_is_not_flagged(text: str) -> None:
    assert find_sensitive(text) == []


def test_redaction_keeps_the_rest_of_the_text() -> None:
    text = "Hi, I'm Jo (jo@example.org, +1 415 555 0199). Card: 4111-1111-1111-1111. Thanks!"
    assert redact(text) == "Hi, I'm Jo ([EMAIL], [PHONE]). Card: [CREDIT_CARD]. Thanks!"
    assert redact("password = 'hunter2hunter2'") == "password = '[PASSWORD_ASSIGNMENT]'"
    assert redact(text, kinds={"email"}) == text.replace("jo@example.org", "[EMAIL]")
    assert redact("key AKIAIOSFODNN7EXAMPLE mail a@b.io", groups=("secret",)) == (
        "key [AWS_ACCESS_KEY] mail a@b.io"
    )
    assert redact("nothing here") == "nothing here"


def test_matches_do_not_overlap_and_spans_point_at_the_text() -> None:
    text = "token sk-ant-abcdefghijklmnopqrstuv and 4111111111111111"
    found = find_sensitive(text)
    assert [m.kind for m in found] == ["anthropic_key", "credit_card"]
    for m in found:
        assert text[m.start : m.end] == m.text
    assert found[0].end <= found[1].start


def test_fast_enough_for_a_proxy() -> None:
    text = "Hello, please email me at someone@example.com about order 55512. " * 20
    started = time.perf_counter()
    for _ in range(200):
        find_sensitive(text)
    per_call_ms = (time.perf_counter() - started) / 200 * 1000
    assert per_call_ms < 20, per_call_ms


async def test_scorers_wrap_the_detector() -> None:
    pii, secrets = get_scorer("pii"), get_scorer("secrets")
    leak = await pii(ScoreInput.of("who is it?", "It's jo@example.org"))
    assert leak.label is True and leak.category == "email"
    assert leak.details["spans"] == [[5, 19]]
    assert (await pii(ScoreInput.of("hi", "no personal data here"))).label is False
    # A secret is not PII and PII is not a secret.
    assert (await pii(ScoreInput.of("", "AKIAIOSFODNN7EXAMPLE"))).label is False
    assert (await secrets(ScoreInput.of("", "AKIAIOSFODNN7EXAMPLE"))).label is True
    # Without a response the prompt is judged.
    assert (await pii(ScoreInput.of("my mail is jo@example.org"))).label is True


def test_every_kind_is_documented_in_the_module() -> None:
    import redline.scorers.pii as module

    doc = (module.__doc__ or "").lower()
    for kind in ("credit", "iban", "dni", "bsn", "personnummer", "aadhaar", "sin", "ssn"):
        assert kind in doc
    assert len(KINDS) == len(set(KINDS))
