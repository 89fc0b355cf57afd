"""R-CORE-1: a learner's ULN is 10 digits with a valid check digit."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from waypoint.core.ilr import uln_check_digit, uln_is_valid, validate_uln


@pytest.mark.parametrize("uln", ["1174112637", "4444599390", "9276308686"])
def test_uln_with_correct_check_digit_is_valid(uln: str) -> None:
    assert uln_is_valid(uln)
    validate_uln(uln)


@pytest.mark.parametrize(
    "uln",
    [
        "1000000060",  # wrong check digit
        "9999999999",  # wrong check digit
        "123456789",  # nine digits
        "12345678901",  # eleven digits
        "abcdefghij",  # letters
        "117411263A",
        "",
        "\uff11\uff11\uff17\uff14\uff11\uff11\uff12\uff16\uff13\uff17",  # full-width digits
    ],
)
def test_uln_that_breaks_the_rule_is_refused_with_a_clear_message(uln: str) -> None:
    assert not uln_is_valid(uln)
    with pytest.raises(ValidationError, match="not a valid ULN"):
        validate_uln(uln)


def test_uln_whose_weighted_sum_leaves_no_remainder_is_always_invalid() -> None:
    nine = next(f"{n:09d}" for n in range(10**8, 10**8 + 100) if uln_check_digit(f"{n:09d}") is None)
    assert all(not uln_is_valid(nine + str(d)) for d in range(10))


@given(st.from_regex(r"\A[0-9]{9}\Z"))
def test_exactly_one_check_digit_completes_nine_digits_unless_remainder_is_zero(nine: str) -> None:
    valid = [d for d in range(10) if uln_is_valid(f"{nine}{d}")]
    expected = uln_check_digit(nine)
    assert valid == ([] if expected is None else [expected])
