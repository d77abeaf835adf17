import itertools

import pytest
from django.test import Client
from django.urls import reverse

from kapcare.accounts.models import User
from kapcare.measures.instruments import INSTRUMENTS
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db


def test_the_library_lists_every_instrument(client_for: ClientFor, nurse: User) -> None:
    response = client_for(nurse).get(reverse("measures:instrument_list"))
    for instrument in INSTRUMENTS.values():
        assert instrument.name.encode() in response.content


def test_the_phq9_page_shows_bands_items_and_source(
    client_for: ClientFor, physician: User
) -> None:
    response = client_for(physician).get(
        reverse("measures:instrument_detail", args=["phq9"])
    )
    body = response.content.decode()
    assert "0\u20134" in body and "20\u201327" in body
    assert "44260-8" in body
    assert "Kroenke 2001" in body


def test_provisional_parts_are_labelled(client_for: ClientFor, nurse: User) -> None:
    instrument = next(i for i in INSTRUMENTS.values() if i.provisional)
    response = client_for(nurse).get(
        reverse("measures:instrument_detail", args=[instrument.code])
    )
    assert b"Provisional" in response.content


def test_an_unknown_instrument_is_404(client_for: ClientFor, nurse: User) -> None:
    assert (
        client_for(nurse)
        .get(reverse("measures:instrument_detail", args=["bdi"]))
        .status_code
        == 404
    )


def test_patients_and_strangers_cannot_browse_the_library(
    client: Client, patient_user: User
) -> None:
    assert client.get(reverse("measures:instrument_list")).status_code == 302
    client.force_login(patient_user)
    assert client.get(reverse("measures:instrument_list")).status_code == 403


@pytest.mark.parametrize("code", sorted(INSTRUMENTS))
def test_band_ranges_cover_the_whole_total_without_gaps(code: str) -> None:
    instrument = INSTRUMENTS[code]
    ranges = instrument.band_ranges
    if not ranges or instrument.total_range is None:
        return
    assert ranges[0][0] == instrument.total_range[0]
    assert ranges[-1][1] == instrument.total_range[1]
    for (_, upper, _), (lower, _, _) in itertools.pairwise(ranges):
        assert lower == upper + 1
