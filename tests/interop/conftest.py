import pytest

from tests.api.conftest import build_world


@pytest.fixture
def world(pwp, outsider):
    """The API tests' world: the PWP's referral in treatment (two contacts: PHQ-9, GAD-7 and WSAS, then
    PHQ-9 and GAD-7), the team's waiting list, and another service's referral."""
    return build_world(pwp, outsider)
