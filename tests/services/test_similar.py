"""The duplicate check's query: open incidents on the same service or item with similar titles."""

from __future__ import annotations

from eim_tui.domain.similarity import title_similarity


def test_title_similarity_catches_reordered_and_reworded_titles() -> None:
    assert title_similarity("Payments API returns 502", "payments api returns 502") == 1.0
    assert title_similarity("502 from the payments API", "Payments API returns 502") >= 0.5
    assert title_similarity("VPN drops every 5 minutes", "Printer on floor 3 jams") < 0.4
    assert title_similarity("", "anything") == 0.0


def test_similar_open_finds_same_service_and_item_only_when_open(svc, log) -> None:
    same_service = log(title="Payments API returns 502", service="payments")
    same_ci = log(title="Payments API returning 502 errors", service="", configuration_item="pay-api-01.pay.internal")
    log(title="Payments API returns 502", service="checkout-web")  # another service
    log(title="Printer jams on floor 3", service="payments")  # same service, unrelated title
    closed = log(title="Payments API returns 502 again", service="payments")
    svc.acknowledge(closed.number, "alice")
    svc.resolve(closed.number, "alice", "fixed", "restarted the API")
    found = svc.similar_open("payments", "pay-api-01.pay.internal", "payments API returns 502", limit=5)
    assert [f.number for f in found] == [same_service.number, same_ci.number]
    assert found[0].why == "same service" and found[1].why == "same configuration item"
    assert found[0].score == 1.0
    assert svc.similar_open("payments", "", "payments API returns 502", limit=1)[0].number == same_service.number


def test_without_service_or_item_only_near_identical_titles_count(svc, log) -> None:
    twin = log(title="Payments API returns 502", service="payments")
    log(title="Payments API slow", service="payments")
    found = svc.similar_open("", "", "Payments API returns 502!", limit=5)
    assert [f.number for f in found] == [twin.number]
    assert svc.similar_open("", "", "   ", limit=5) == []
