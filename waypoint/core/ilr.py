"""ILR code tables and validators used on learner records."""

from django.core.exceptions import ValidationError
from django.db import models

ULN_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def uln_is_valid(value: str) -> bool:
    """ULN rule: 10 digits; weights 10..2 over the first nine, sum mod 11;
    remainder 0 is invalid, otherwise the tenth digit is 10 - remainder."""
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    remainder = sum(int(d) * w for d, w in zip(value[:9], ULN_WEIGHTS, strict=True)) % 11
    return remainder != 0 and int(value[9]) == 10 - remainder


def uln_check_digit(first_nine: str) -> int | None:
    """The check digit that completes `first_nine`, or None when no digit can."""
    remainder = sum(int(d) * w for d, w in zip(first_nine, ULN_WEIGHTS, strict=True)) % 11
    return None if remainder == 0 else 10 - remainder


def validate_uln(value: str) -> None:
    if not uln_is_valid(value):
        raise ValidationError(
            "%(value)s is not a valid ULN: it must be 10 digits with a valid check digit.",
            code="invalid_uln",
            params={"value": value},
        )


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"


class Ethnicity(models.IntegerChoices):
    WHITE_BRITISH = 31, "English / Welsh / Scottish / Northern Irish / British"
    WHITE_IRISH = 32, "Irish"
    WHITE_TRAVELLER = 33, "Gypsy or Irish Traveller"
    WHITE_OTHER = 34, "Any other White background"
    MIXED_WHITE_BLACK_CARIBBEAN = 35, "White and Black Caribbean"
    MIXED_WHITE_BLACK_AFRICAN = 36, "White and Black African"
    MIXED_WHITE_ASIAN = 37, "White and Asian"
    MIXED_OTHER = 38, "Any other Mixed / multiple ethnic background"
    INDIAN = 39, "Indian"
    PAKISTANI = 40, "Pakistani"
    BANGLADESHI = 41, "Bangladeshi"
    CHINESE = 42, "Chinese"
    ASIAN_OTHER = 43, "Any other Asian background"
    AFRICAN = 44, "African"
    CARIBBEAN = 45, "Caribbean"
    BLACK_OTHER = 46, "Any other Black / African / Caribbean background"
    ARAB = 47, "Arab"
    OTHER = 98, "Any other ethnic group"
    NOT_PROVIDED = 99, "Not provided"
