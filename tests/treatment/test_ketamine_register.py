from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.treatment import services
from kapcare.treatment.models import (
    DosingSession,
    KetamineLot,
    RegisterEntry,
    StockCount,
)
from tests.factories import PASSWORD
from tests.treatment.conftest import ready_to_dose, receive, request_by

pytestmark = pytest.mark.django_db


def waste(lot: KetamineLot, by: User, witness: User | None, amount: str = "15",
          password: str = PASSWORD, session: DosingSession | None = None) -> RegisterEntry:  # fmt: skip
    return services.record_waste(
        request=request_by(by), lot=lot, amount_mg=Decimal(amount), session=session,
        reason="Remainder of the opened vial", witness=witness, password=password,
        by=by,
    )  # fmt: skip


def test_a_receipt_opens_the_lot_with_its_total(lot: KetamineLot) -> None:
    assert lot.balance_mg == Decimal("5000.0")
    entry = lot.entries.get()
    assert (entry.kind, entry.change_mg, entry.witness_id is not None) == (
        "receipt", Decimal("5000.0"), True,
    )  # fmt: skip


def test_the_same_lot_cannot_be_received_twice(
    lot: KetamineLot, nurse: User, second_nurse: User
) -> None:
    with pytest.raises(services.TreatmentError, match="already in the register"):
        receive(nurse, second_nurse)


def test_wastage_needs_a_witness(
    lot: KetamineLot, nurse: User, second_nurse: User
) -> None:
    with pytest.raises(services.TreatmentError, match="Choose the second clinician"):
        waste(lot, nurse, None)
    with pytest.raises(services.TreatmentError, match="did not match"):
        waste(lot, nurse, second_nurse, password="guess")
    with pytest.raises(services.TreatmentError, match="second person"):
        waste(lot, nurse, nurse)
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("5000.0")


def test_the_database_refuses_unwitnessed_wastage(
    lot: KetamineLot, nurse: User
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        RegisterEntry.objects.create(
            lot=lot, kind="wasted", change_mg=-1, balance_after_mg=4999,
            recorded_by=nurse,
        )  # fmt: skip


def test_witnessed_wastage_lowers_the_balance(
    lot: KetamineLot, nurse: User, second_nurse: User
) -> None:
    entry = waste(lot, nurse, second_nurse)
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("4985.0")
    assert entry.balance_after_mg == Decimal("4985.0")
    assert AuditEvent.objects.filter(object_type="register_entry").exists()


def test_the_balance_never_goes_negative(
    lot: KetamineLot, nurse: User, second_nurse: User
) -> None:
    with pytest.raises(services.TreatmentError, match=r"holds 5000\.0 mg"):
        waste(lot, nurse, second_nurse, amount="5000.1")
    waste(lot, nurse, second_nurse, amount="5000")
    lot.refresh_from_db()
    assert lot.balance_mg == 0
    with pytest.raises(IntegrityError), transaction.atomic():
        KetamineLot.objects.filter(pk=lot.pk).update(balance_mg=-1)


def test_a_dose_larger_than_the_lot_is_refused(
    open_session: DosingSession, nurse: User, second_nurse: User
) -> None:
    small = receive(nurse, second_nurse, vials=1, lot_number="SMALL")
    waste(small, nurse, second_nurse, amount="480")
    session = ready_to_dose(open_session, nurse, second_nurse)
    with pytest.raises(services.TreatmentError, match=r"holds 20\.0 mg"):
        services.start_dose(
            request=request_by(nurse), session=session, lot=small, by=nurse
        )
    session.refresh_from_db()
    assert session.dose_started_at is None


def test_an_expired_lot_is_refused(
    open_session: DosingSession, nurse: User, second_nurse: User
) -> None:
    expired = receive(
        nurse, second_nurse, lot_number="OLD",
        expires_on=timezone.localdate() - timedelta(days=1),
    )  # fmt: skip
    session = ready_to_dose(open_session, nurse, second_nurse)
    with pytest.raises(services.TreatmentError, match="expired"):
        services.start_dose(
            request=request_by(nurse), session=session, lot=expired, by=nurse
        )
    disposal = waste(expired, nurse, second_nurse)
    assert disposal.kind == "wasted"  # expired stock leaves the register, witnessed


def test_a_lot_already_expired_when_received_is_refused(
    nurse: User, second_nurse: User
) -> None:
    with pytest.raises(services.TreatmentError, match="had expired"):
        services.receive_stock(
            request=request_by(nurse),
            receipt=services.Receipt(
                drug="ketamine", product="Ketamine", strength_mg_per_ml=Decimal(10),
                vial_volume_ml=Decimal(10), supplier="S", lot_number="X",
                expires_on=timezone.localdate() - timedelta(days=1),
                received_on=timezone.localdate(), vials_received=1,
            ),
            witness=second_nurse, password=PASSWORD, by=nurse,
        )  # fmt: skip


def count(
    lot: KetamineLot, by: User, witness: User, counted: str, why: str = ""
) -> StockCount:
    return services.record_stock_count(
        request=request_by(by), lot=lot, counted_mg=Decimal(counted),
        counted_on=timezone.localdate(), explanation=why, witness=witness,
        password=PASSWORD, by=by,
    )  # fmt: skip


def test_a_matching_count_changes_nothing(
    lot: KetamineLot, nurse: User, second_nurse: User
) -> None:
    result = count(lot, nurse, second_nurse, "5000")
    assert result.discrepancy_mg == 0
    assert lot.entries.count() == 1


def test_a_discrepancy_must_be_explained(
    lot: KetamineLot, nurse: User, second_nurse: User
) -> None:
    with pytest.raises(services.TreatmentError, match="explain the discrepancy"):
        count(lot, nurse, second_nurse, "4990")
    assert not StockCount.objects.exists()
    result = count(
        lot,
        nurse,
        second_nurse,
        "4990",
        why="One vial broken, 10 mg lost; incident report 12",
    )
    lot.refresh_from_db()
    assert result.discrepancy_mg == Decimal("-10.0")
    assert lot.balance_mg == Decimal("4990.0")
    adjustment = lot.entries.get(kind="count_adjustment")
    assert adjustment.change_mg == Decimal("-10.0")
    assert "broken" in adjustment.reason


def test_the_database_refuses_an_unexplained_discrepancy(
    lot: KetamineLot, nurse: User, second_nurse: User
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        StockCount.objects.create(
            lot=lot, counted_on=timezone.localdate(), expected_mg=5000,
            counted_mg=4000, counted_by=nurse, witness=second_nurse,
        )  # fmt: skip


def test_register_lines_are_never_deleted(lot: KetamineLot) -> None:
    with pytest.raises(PermissionError):
        lot.entries.get().delete()
