"""The gateway's front door in a real browser: the landing page and the one Swagger UI of all four APIs."""

import json
import os
import re
import shutil
import uuid
from pathlib import Path

from .helpers import ARTIFACTS, SERVICES, sign_in, wait_until

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def screenshot(page, name: str) -> None:
    """Saved with the test's artifacts; REFRESH_SCREENSHOTS=1 also refreshes the README's (docs/screenshots/)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / name)
    if os.environ.get("REFRESH_SCREENSHOTS") == "1":
        shutil.copyfile(ARTIFACTS / name, SCREENSHOTS / name)


def test_landing_page_links_every_admin_and_api_and_shows_each_service_healthy(context, gateway_url):
    page = context.new_page()

    response = page.goto(f"{gateway_url}/")

    assert response is not None and response.status == 200
    for service in SERVICES:
        health = page.locator(f"tr[data-service={service}] [data-health]")
        health.filter(has_text="ok").wait_for(timeout=10_000)
        for href in (f"/admin/{service}/", f"/api/{service}/", f"/api/docs/?api={service}"):
            assert page.locator(f"tr[data-service={service}] a[href='{href}']").count() == 1, href
    assert page.locator("a[href='/flower/']").count() == 1
    assert page.locator("a[href='/prometheus/classic/alerts']").count() == 1
    assert page.locator("a[href='/api/users/signin/']").count() == 1
    assert page.locator("a[href='/api/docs/']").count() == 1
    screenshot(page, "landing.png")


def operation(page, method: str, path: str):
    return page.locator(f".opblock-{method}:has(.opblock-summary-path[data-path='{path}'])")


def try_out(page, method: str, path: str, body: dict | None = None) -> int:
    """Runs an operation from its Swagger UI block, as a person would; the live response's status."""
    block = operation(page, method, path).first
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    if body is not None:
        block.locator("textarea.body-param__text").fill(json.dumps(body))
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for(timeout=15_000)
    return int(status.inner_text().strip().split()[0])


def test_one_swagger_ui_holds_the_four_apis_and_a_sign_in_there_authorizes_them(context, gateway_url, user):
    page = context.new_page()

    response = page.goto(f"{gateway_url}/api/docs/?api=users")

    assert response is not None and response.status == 200
    selector = page.locator(".topbar select")
    selector.wait_for(timeout=15_000)
    assert selector.locator("option").all_inner_texts() == SERVICES
    operation(page, "post", "/api/users/token/").wait_for(timeout=15_000)

    assert try_out(page, "post", "/api/users/token/", {"email": user["email"], "password": user["password"]}) == 200
    authorized = page.evaluate("() => ui.authSelectors.authorized().toJS()")
    assert authorized["jwtAuth"]["value"].count(".") == 2, authorized

    # Another API, picked from the selector, is authorized by that sign-in: the user's orders answer.
    selector.select_option("orders")
    operation(page, "get", "/api/orders/").wait_for(timeout=15_000)
    assert try_out(page, "get", "/api/orders/") == 200
    screenshot(page, "api-docs.png")


def test_every_admin_leads_to_the_landing_page(context, gateway_url, admin_credentials):
    page = context.new_page()
    page.goto(f"{gateway_url}/admin/users/")
    sign_in(page, admin_credentials)
    for service in SERVICES:
        page.goto(f"{gateway_url}/admin/{service}/")
        with page.expect_navigation():
            page.click("#user-tools a:has-text('View site')")
        assert page.url == f"{gateway_url}/", service
        assert page.locator(f"tr[data-service={service}] a[href='/admin/{service}/']").count() == 1


def test_staff_follows_an_order_from_its_page_to_its_payment_and_back(
    context, gateway_url, admin_credentials, buyer, make_product
):
    product = make_product(stock=5, price="12.50")
    response = buyer.post(
        "/api/orders/",
        json={"lines": [{"sku": product["sku"], "quantity": 1}], "payment_method": "pm_card_visa"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    order_id = response.json()["id"]
    wait_until(lambda: buyer.get(f"/api/orders/{order_id}/").json()["status"] == "confirmed", timeout=60)

    page = context.new_page()
    page.goto(f"{gateway_url}/admin/orders/orders/order/{order_id}/change/")
    sign_in(page, admin_credentials)  # once, for every admin
    assert page.url.endswith(f"/admin/orders/orders/order/{order_id}/change/"), page.url
    story = page.locator(".field-story")
    steps = [
        "Pending",
        "sent inventory.reserve",
        "received orders.stock_reserved",
        "Reserved",
        "sent payments.charge",
        "received orders.payment_succeeded",
        "Confirmed",
        "sent inventory.commit",
    ]
    told = story.inner_text()
    # In time order, each message with the service that sent it.
    assert all(step in told for step in steps), told
    assert [told.index(step) for step in steps] == sorted(told.index(step) for step in steps), told
    assert re.search(r"received orders\.payment_succeeded [0-9a-f-]{36}\s+payments", told), told
    # What payments and inventory say of it now, asked with orders_svc's service identity.
    elsewhere = page.locator(".field-elsewhere").inner_text()
    assert "payment succeeded, 12.50 USD" in elsewhere, elsewhere
    assert "reservation committed" in elsewhere, elsewhere
    story.scroll_into_view_if_needed()
    screenshot(page, "order-story.png")

    with page.expect_navigation():
        page.click("a:has-text('its payment')")
    assert page.locator("#result_list tbody tr").count() == 1
    with page.expect_navigation():
        page.click("#result_list tbody tr th a")
    assert "Succeeded" in page.locator(".field-status").inner_text()

    with page.expect_navigation():
        page.click(f".field-order a:has-text('{order_id}')")
    assert page.url.endswith(f"/admin/orders/orders/order/{order_id}/change/")


def test_a_person_signed_in_once_places_an_order_from_the_browsable_api(context, gateway_url, user, make_product):
    product = make_product(stock=3, price="4.00")
    page = context.new_page()
    page.goto(f"{gateway_url}/api/orders/")
    assert page.locator("#content").count()  # the browsable API, not JSON

    # Its "Log in" is the platform's sign-in, which comes back here.
    with page.expect_navigation():
        page.click("a:has-text('Log in')")
    sign_in(page, user)
    assert page.url == f"{gateway_url}/api/orders/", page.url
    assert user["email"] in page.inner_text(".navbar")

    body = {"lines": [{"sku": product["sku"], "quantity": 1}], "payment_method": "pm_card_visa"}
    if page.locator("a[name=raw-tab]").count():
        page.click("a[name=raw-tab]")
    page.fill("#post-generic-content-form textarea[name=_content]", json.dumps(body))
    with page.expect_navigation():
        page.click("#post-generic-content-form button.btn-primary")

    assert "HTTP 201 Created" in page.inner_text(".response-info")
    assert '"status": "pending"' in page.inner_text(".response-info")
    screenshot(page, "browsable-api.png")


def test_flower_shows_the_platforms_queues_with_their_depths(browser, gateway_url, flower_credentials):
    user, password = flower_credentials
    context = browser.new_context(http_credentials={"username": user, "password": password})
    page = context.new_page()

    response = page.goto(f"{gateway_url}/flower/broker")

    assert response is not None and response.status == 200
    for queue in ("inventory", "orders", "payments", "inventory.receipts", "orders.receipts", "payments.receipts"):
        page.locator("table tr td", has_text=re.compile(rf"^{re.escape(queue)}$")).first.wait_for(timeout=15_000)
    screenshot(page, "flower-queues.png")
    context.close()


def test_prometheus_alerts_page_lists_the_platforms_alerts_for_a_signed_in_operator(
    context, gateway_url, admin_credentials
):
    page = context.new_page()
    # Debian's Prometheus serves its classic pages (the React UI is not packaged).
    page.goto(f"{gateway_url}/prometheus/classic/alerts")
    sign_in(page, admin_credentials)

    page.wait_for_url(re.compile(r".*/prometheus/classic/alerts.*"), timeout=15_000)
    for alert in ("SagaSlow", "OrderPastItsBound", "OutboxLagging", "DeadLettersOpen", "ProcessDown", "QueueGrowing"):
        page.get_by_text(alert, exact=False).first.wait_for(timeout=15_000)
    screenshot(page, "prometheus-alerts.png")
