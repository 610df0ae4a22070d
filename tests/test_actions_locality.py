"""Locality load balancing in the Load balancing form (Istio's localityLbSetting: on or off, distribute or
failover rules), as a user sets it, against the Kubernetes API emulator: written, shown at review, read
back, refused in words where Istio would refuse or ignore it, and what the form does not show kept."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from meshdesk.mesh.routing import POLICY_WRITTEN
from meshdesk.store.settings import Settings
from meshdesk.ui.dialogs.change_dialog import FORM
from meshdesk.ui.dialogs.forms import LoadBalancingForm
from tests import test_actions_ui as ui
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.test_actions_ui import (
    NET,
    controller_for,
    inventory,
    open_action,
    review_and_confirm,
    service_node,
)

# the cluster, settings and parent window of test_actions_ui
emu, settings, window = ui.emu, ui.settings, ui.window

pytestmark = pytest.mark.ui

REVIEWS = service_node("bookinfo", "reviews")


def _lb(emu: KubeEmulator) -> object:
    return emu.get("destinationrules", "bookinfo", "reviews", NET)["spec"].get("trafficPolicy", {}).get("loadBalancer")


def test_locality_rules_are_written_read_back_and_checked(emu: KubeEmulator, settings: Settings, window: QWidget,
                                                          qtbot: QtBot) -> None:
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "load-balancing", REVIEWS, inventory(emu))
    form = dialog.form
    assert isinstance(form, LoadBalancingForm)
    assert form.locality_enabled.currentData() is None and form.locality_rules.toPlainText() == ""
    bad = [
        ("us-east1 -> us-west1\nus-east1/* -> us-east1/*=100", "distribute rules or failover rules, not both"),
        ("us-east1/* -> us-east1/*=70, us-west1/*=20", "add up to 90, not 100"),
        ("us-east1/*/a -> us-east1/*=100", "* stands for a whole part, and only the last"),
        ("us-east1/zone-a -> us-west1", "'us-east1/zone-a' is not one (no zone, no *"),
        ("us-east1 -> us-east1", "a failover from us-east1 to itself does nothing"),
        ("us-east1 us-west1", "locality rule 1 ('us-east1 us-west1') is not one"),
        ("us-east1/* -> us-east1/*=all", "'us-east1/*=all' is not a locality and its share"),
    ]
    for text, said in bad:
        form.locality_rules.setPlainText(text)
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
        assert dialog.page == FORM and said in dialog.form_error.text(), (text, dialog.form_error.text())
    form.locality_enabled.setCurrentIndex(form.locality_enabled.findData(False))
    form.locality_rules.setPlainText("us-east1 -> us-west1")
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert "locality load balancing is off: its distribute or failover rules would do nothing" in \
        dialog.form_error.text()

    form.locality_enabled.setCurrentIndex(form.locality_enabled.findData(True))
    form.locality_rules.setPlainText(" us-east1 -> us-west1 \n\neu-west1 -> eu-north1")
    with qtbot.waitSignal(dialog.reviewReady):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert "failover takes effect only with outlier detection" in dialog.notes.text()
    assert "localityLbSetting:" in dialog.preview_text.toPlainText()
    review_and_confirm(dialog, qtbot, emu)
    assert _lb(emu) == {"localityLbSetting": {"enabled": True, "failover": [
        {"from": "us-east1", "to": "us-west1"}, {"from": "eu-west1", "to": "eu-north1"}]}}

    # someone adds a failover priority, which the form does not show: it stays
    dr = emu.get("destinationrules", "bookinfo", "reviews", NET)
    dr["spec"]["trafficPolicy"]["loadBalancer"]["localityLbSetting"]["failoverPriority"] = ["topology.istio.io/network"]
    dr["metadata"]["resourceVersion"] = str(int(dr["metadata"]["resourceVersion"]) + 100)
    again = open_action(ctl, qtbot, "load-balancing", REVIEWS, inventory(emu))
    form = again.form
    assert isinstance(form, LoadBalancingForm)
    assert form.locality_enabled.currentData() is True
    assert form.locality_rules.toPlainText() == "us-east1 -> us-west1\neu-west1 -> eu-north1"
    form.algorithm.setCurrentText("LEAST_REQUEST")
    form.locality_enabled.setCurrentIndex(0)
    form.locality_rules.setPlainText("us-east1/* -> us-east1/*=80, us-west1/*=20")
    review_and_confirm(again, qtbot, emu)
    assert _lb(emu) == {"simple": "LEAST_REQUEST", "localityLbSetting": {
        "failoverPriority": ["topology.istio.io/network"],
        "distribute": [{"from": "us-east1/*", "to": {"us-east1/*": 80, "us-west1/*": 20}}]}}
    assert POLICY_WRITTEN not in (emu.get("destinationrules", "bookinfo", "reviews", NET)["metadata"]
                                  .get("annotations") or {})  # bookinfo's rule: no record of meshdesk's

    # cleared: the locality settings go, the failover priority someone set stays
    last = open_action(ctl, qtbot, "load-balancing", REVIEWS, inventory(emu))
    assert isinstance(last.form, LoadBalancingForm)
    last.form.locality_rules.setPlainText("")
    review_and_confirm(last, qtbot, emu)
    assert _lb(emu) == {"simple": "LEAST_REQUEST",
                        "localityLbSetting": {"failoverPriority": ["topology.istio.io/network"]}}


def test_another_form_leaves_hand_written_locality_as_it_is(emu: KubeEmulator, settings: Settings, window: QWidget,
                                                           qtbot: QtBot) -> None:
    """A failover rule written by hand with no "to" (Istio's schema takes it): circuit breaking wrote it
    back with "to: ''" added, a change nobody asked for."""
    dr = emu.get("destinationrules", "bookinfo", "reviews", NET)
    dr["spec"]["trafficPolicy"] = {"loadBalancer": {"localityLbSetting": {"failover": [{"from": "us-east1"}]}}}
    dr["metadata"]["resourceVersion"] = str(int(dr["metadata"]["resourceVersion"]) + 100)
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "circuit-breaking", REVIEWS, inventory(emu))
    check, _spin = dialog.form.fields["max_connections"]
    check.setChecked(True)
    review_and_confirm(dialog, qtbot, emu)
    assert _lb(emu) == {"localityLbSetting": {"failover": [{"from": "us-east1"}]}}
