import pytest


@pytest.mark.django_db(transaction=True)
def test_a_clinician_signs_in_and_out(page, sign_in, pwp):
    sign_in(pwp)
    assert "Welcome" in page.content()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/**")


@pytest.mark.django_db(transaction=True)
def test_pages_need_login(page):
    page.goto("/")
    assert "/accounts/login/" in page.url
