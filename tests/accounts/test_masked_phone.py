"""The one privacy rule for numbers in answers: full for the police, masked for everyone else, "" when there is none."""

from __future__ import annotations

from rest_framework import serializers

from accounts.presentation import MaskedPhoneField


class PersonOutput(serializers.Serializer):
    phone = MaskedPhoneField()


class Person:
    def __init__(self, phone):
        self.phone = phone


def test_a_number_is_masked_unless_the_context_says_the_viewer_sees_full_numbers():
    person = Person("+8613812341234")

    assert PersonOutput(person).data["phone"] == "138****1234"  # no context: the safe side
    assert PersonOutput(person, context={"full_phones": False}).data["phone"] == "138****1234"
    assert PersonOutput(person, context={"full_phones": True}).data["phone"] == "+8613812341234"


def test_a_deleted_account_shows_an_empty_number_not_null():
    for context in ({}, {"full_phones": True}):
        assert PersonOutput(Person(None), context=context).data["phone"] == ""
