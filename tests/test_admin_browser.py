"""Each service's Django admin in a real browser: styled login page, staff sign-in, admin index."""

import pytest

from .helpers import ARTIFACTS, SERVICES, sign_in_to_admin

UNSTYLED = {"", "rgba(0, 0, 0, 0)", "transparent"}


def open_styled_login(page, url: str) -> None:
    """Opens the login page and checks every stylesheet arrived as CSS and took effect."""
    stylesheets = []

    def remember_stylesheet(response):
        if response.request.resource_type == "stylesheet":
            stylesheets.append(response)

    page.on("response", remember_stylesheet)

    response = page.goto(url)

    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    assert stylesheets, f"{url} loaded no stylesheet"
    for stylesheet in stylesheets:
        assert stylesheet.status == 200, f"{stylesheet.url}: {stylesheet.status}"
        assert stylesheet.headers.get("content-type", "").startswith("text/css"), stylesheet.url
    header_background = page.eval_on_selector("#header", "element => getComputedStyle(element).backgroundColor")
    assert header_background not in UNSTYLED, "admin CSS did not apply to #header"


@pytest.mark.parametrize("service", SERVICES)
def test_staff_signs_in_to_the_styled_admin_of_each_service(context, gateway_url, admin_credentials, service):
    page = context.new_page()

    open_styled_login(page, f"{gateway_url}/admin/{service}/login/")
    sign_in_to_admin(page, admin_credentials)

    assert page.url.rstrip("/").endswith(f"/admin/{service}"), page.url
    assert page.inner_text("#site-name").strip() == f"{service}_svc administration"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"admin-{service}.png"), full_page=True)


def test_one_browser_stays_signed_in_to_every_admin(context, gateway_url, admin_credentials):
    # All admins share one host, so their session and CSRF cookies must not overwrite one another.
    page = context.new_page()
    for service in SERVICES:
        page.goto(f"{gateway_url}/admin/{service}/login/")
        sign_in_to_admin(page, admin_credentials)

    for service in SERVICES:
        page.goto(f"{gateway_url}/admin/{service}/")
        assert page.url.rstrip("/").endswith(f"/admin/{service}"), f"signed out of {service}: {page.url}"
