"""Read-replica routing (issue 22.5): dashboards and exports read from the replica, writes never do.

CI's PostgreSQL run sets DATABASE_REPLICA_URL to the same server (a test mirror), so the routing is
exercised end to end there; without a replica configured every read stays on the primary.
"""

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext

from common.replica import REPLICA, ReplicaRouter, replica_configured, replica_reads
from referrals.models import Referral
from stepped_care.models import Role
from tests.factories import StaffFactory, TeamFactory

needs_replica = pytest.mark.skipif(not replica_configured(), reason="no DATABASE_REPLICA_URL")


def test_without_a_replica_every_read_stays_on_the_primary():
    if replica_configured():
        pytest.skip("a replica is configured")
    with replica_reads():
        assert ReplicaRouter().db_for_read(Referral) is None
        assert Referral.objects.all().db == DEFAULT_DB_ALIAS


def test_writes_always_go_to_the_primary():
    with replica_reads():
        assert ReplicaRouter().db_for_write(Referral) == DEFAULT_DB_ALIAS
    assert ReplicaRouter().allow_migrate(REPLICA, "referrals") is False


@needs_replica
def test_reads_go_to_the_replica_only_inside_replica_reads():
    assert Referral.objects.all().db == DEFAULT_DB_ALIAS
    with replica_reads():
        assert Referral.objects.all().db == REPLICA
    assert Referral.objects.all().db == DEFAULT_DB_ALIAS


@needs_replica
@pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])
def test_the_dashboard_reads_from_the_replica_and_writes_its_audit_to_the_primary(client):
    team = TeamFactory(name="Replica Team", code="RPL")
    manager = StaffFactory(username="replica_manager", team=team, role=Role.MANAGER)
    client.force_login(manager)
    client.get("/dashboard/")  # warm the session
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
    ):
        assert client.get("/dashboard/").status_code == 200
        assert client.get("/api/v1/dashboard/").status_code == 200
    if connections[REPLICA] is connections[DEFAULT_DB_ALIAS]:
        pytest.skip("the test mirror shares the primary's connection object: routing is shown by .db above")
    assert len(on_replica) > 10  # the dashboard's numbers
    assert not any(q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for q in on_replica)
    assert any("django_session" in q["sql"] or "stepped_care_staff" in q["sql"] for q in on_primary)
