"""Browser: sign up with email, log out, log in with the phone number, and a wrong password shows an error."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import AuthLog, User
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Chloroplast-2027"


def test_sign_up_with_email_log_out_log_in_with_phone(page):
    # Given a new visitor on the sign-up page
    page.goto("/accounts/signup/")

    # When they sign up with an email, a phone number and a strong password
    page.get_by_label("Name").fill("Asha Verma")
    page.get_by_label("Email").fill("Asha@Example.com")
    page.get_by_label("Mobile number").fill("98123 45678")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Class").select_option("12")
    page.get_by_role("button", name="Sign up").click()

    # Then they are signed in: the profile page shows their account
    page.goto("/accounts/profile/")
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    expect(page.get_by_text("asha@example.com")).to_be_visible()
    assert User.objects.get().phone == "+919812345678"

    # When they log out and log back in with the phone number as typed on a phone keypad
    page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/login/?next=/accounts/profile/")
    page.get_by_label("Email or mobile number").fill("09812345678")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Then they land back on their profile
    expect(page).to_have_url(re.compile(r"/accounts/profile/$"))
    expect(page.get_by_text("+919812345678")).to_be_visible()
    events = list(AuthLog.objects.order_by("created_at", "id").values_list("event", flat=True))
    assert events == ["LOGIN_SUCCESS", "LOGOUT", "LOGIN_SUCCESS"]


def test_wrong_password_shows_an_error_on_the_form(page):
    UserFactory(email="ravi@example.com", phone="+919811111111")
    page.goto("/accounts/login/")

    page.get_by_label("Email or mobile number").fill("ravi@example.com")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text("do not match")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def test_sign_up_errors_show_beside_the_fields_without_javascript(browser, live_server):
    # Pages must work with JavaScript off (basic phones, data saver modes).
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/accounts/signup/")
        page.get_by_label("Name").fill("Asha")
        page.get_by_label("Password").fill("short")
        page.get_by_role("button", name="Sign up").click()

        expect(page.locator(".field.has-error", has=page.get_by_label("Email"))).to_contain_text(
            "Enter an email address or a mobile number."
        )
        expect(page.locator(".field.has-error", has=page.get_by_label("Password"))).to_contain_text("too short")
        assert User.objects.count() == 0
    finally:
        context.close()


def test_log_in_with_the_keyboard_only(page):
    # The identifier field has focus on arrival; Tab moves to the password, Enter submits.
    UserFactory(email="kavya@example.com")
    page.goto("/accounts/login/?next=/accounts/profile/")

    page.keyboard.type("kavya@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("s3cret-Pass!")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/accounts/profile/$"))
    expect(page.get_by_text("kavya@example.com")).to_be_visible()
