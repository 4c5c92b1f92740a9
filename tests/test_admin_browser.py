"""Each service's Django admin in a real browser: one sign-in for all four, styled pages, one sign-out."""

from .helpers import ARTIFACTS, SERVICES, SIGNIN_PAGE, sign_in

UNSTYLED = {"", "rgba(0, 0, 0, 0)", "transparent"}


def open_styled_admin(page, url: str) -> None:
    """Opens an admin page and checks every stylesheet arrived as CSS and took effect."""
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


def test_staff_signs_in_once_and_every_styled_admin_opens(context, gateway_url, admin_credentials):
    page = context.new_page()

    # An admin's login is the platform's sign-in page, which comes back to the admin asked for.
    page.goto(f"{gateway_url}/admin/orders/")
    sign_in(page, admin_credentials)
    assert page.url == f"{gateway_url}/admin/orders/", page.url

    for service in SERVICES:  # no other sign-in: the cookie is every admin's
        open_styled_admin(page, f"{gateway_url}/admin/{service}/")
        assert page.url == f"{gateway_url}/admin/{service}/", f"not signed in to {service}: {page.url}"
        assert page.inner_text("#site-name").strip() == f"{service}_svc administration"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"admin-{service}.png"), full_page=True)


def test_signing_out_of_one_admin_signs_out_of_every_admin(context, gateway_url, admin_credentials):
    page = context.new_page()
    page.goto(f"{gateway_url}/admin/payments/")
    sign_in(page, admin_credentials)

    with page.expect_navigation():
        page.click("#logout-form button")

    assert "Signed out" in page.inner_text("h1")
    for service in SERVICES:
        page.goto(f"{gateway_url}/admin/{service}/")
        assert SIGNIN_PAGE in page.url, f"still signed in to {service}: {page.url}"


def test_a_customer_is_not_let_into_any_admin(context, gateway_url, user):
    page = context.new_page()
    page.goto(f"{gateway_url}/api/users/signin/?next=/admin/orders/")
    sign_in(page, user)

    for service in SERVICES:
        page.goto(f"{gateway_url}/admin/{service}/")
        assert SIGNIN_PAGE in page.url, f"a customer reached the {service} admin: {page.url}"


def test_a_role_granted_in_the_users_admin_opens_that_services_admin_only(
    browser, gateway_url, admin_credentials, user, make_session
):
    """A superuser makes a customer staff with the orders operator and inventory viewer roles; signed in,
    that person works in the orders admin, only looks in the inventory admin, and payments' refuses them."""
    granting = browser.new_context()
    page = granting.new_page()
    page.goto(f"{gateway_url}/admin/users/accounts/user/{user['id']}/change/")
    sign_in(page, admin_credentials)
    page.check("#id_is_staff")
    for index, (service, role) in enumerate([("orders", "operator"), ("inventory", "viewer")]):
        page.click("text=Add another role in a service")
        page.select_option(f"select[name=service_roles-{index}-service]", service)
        page.select_option(f"select[name=service_roles-{index}-role]", role)
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert page.url.endswith("/admin/users/accounts/user/"), page.url
    granting.close()
    # An order of theirs, so that the orders list has a row to act on.
    placed = make_session(user["access"]).post(
        "/api/orders/", json={"lines": [{"sku": "DEMO-MUG", "quantity": 1}], "payment_method": "pm_card_visa"}
    )
    assert placed.status_code == 201, placed.text

    staff = browser.new_context()
    page = staff.new_page()
    page.goto(f"{gateway_url}/admin/orders/")
    sign_in(page, user)

    open_styled_admin(page, f"{gateway_url}/admin/orders/orders/order/")
    assert page.url == f"{gateway_url}/admin/orders/orders/order/", page.url
    assert page.locator("select[name=action] option[value=cancel]").count() == 1
    open_styled_admin(page, f"{gateway_url}/admin/inventory/inventory/product/")
    assert page.locator("a.addlink").count() == 0, "a viewer is offered to add products"
    assert page.locator("#result_list").count() == 1
    for refused in ("payments", "users"):
        page.goto(f"{gateway_url}/admin/{refused}/")
        assert SIGNIN_PAGE in page.url, f"the {refused} admin let in a person without its role: {page.url}"
        assert f"You are signed in as {user['email']}" in page.inner_text("body")
    staff.close()
