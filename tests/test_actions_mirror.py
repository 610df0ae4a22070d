"""Mirroring in traffic shifting (Kiali's wizard: one version is the mirror, with a share of the requests
copied to it and no weight of its own), as a user does it, against the Kubernetes API emulator."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from meshdesk.store.settings import Settings
from meshdesk.ui.dialogs.forms import RemovalForm, TrafficShiftingForm
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


def _review(dialog, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(dialog.reviewReady):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)


def test_traffic_shifting_mirrors_one_version_and_reopens_with_it(emu: KubeEmulator, settings: Settings,
                                                                  window: QWidget, qtbot: QtBot) -> None:
    """Kiali's mirroring: v3 is the mirror, so its share goes to the others and it stays at 0; the
    default route copies 25% of its requests to v3. Reopened, the form shows it; the other forms keep it;
    Delete traffic routing removes meshdesk's VirtualService with its mirror (it is meshdesk's own)."""
    emu.delete("virtualservices", "bookinfo", "reviews", NET)
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "traffic-shifting", REVIEWS, inventory(emu))
    form = dialog.form
    assert isinstance(form, TrafficShiftingForm) and form.weights() == {"v1": 34, "v2": 33, "v3": 33}
    form.mirror.setCurrentIndex(form.mirror.findData("v3"))
    # its share goes to the others in their proportions (34:33)
    assert form.weights() == {"v1": 51, "v2": 49, "v3": 0} and not form.sliders["v3"].isEnabled()
    form.sliders["v1"].setValue(80)
    assert form.weights() == {"v1": 80, "v2": 20, "v3": 0}
    form.mirror_percent.setValue(25)
    review_and_confirm(dialog, qtbot, emu)
    rule = emu.get("virtualservices", "bookinfo", "reviews", NET)["spec"]["http"][-1]
    assert rule["mirror"] == {"host": "reviews.bookinfo.svc.cluster.local", "subset": "v3"}
    assert rule["mirrorPercentage"] == {"value": 25.0}
    assert [(r["destination"]["subset"], r["weight"]) for r in rule["route"]] == [("v1", 80), ("v2", 20)]

    timeouts = open_action(ctl, qtbot, "timeouts", REVIEWS, inventory(emu))
    timeouts.form.timeout_on.setChecked(True)
    review_and_confirm(timeouts, qtbot, emu)
    rule = emu.get("virtualservices", "bookinfo", "reviews", NET)["spec"]["http"][-1]
    assert rule["mirror"]["subset"] == "v3" and rule["mirrorPercentage"] == {"value": 25.0} and rule["timeout"]

    again = open_action(ctl, qtbot, "traffic-shifting", REVIEWS, inventory(emu))
    assert isinstance(again.form, TrafficShiftingForm)
    assert again.form.mirror.currentData() == "v3" and again.form.mirror_percent.value() == 25
    assert again.form.weights() == {"v1": 80, "v2": 20, "v3": 0} and not again.form.spins["v3"].isEnabled()
    again.form.mirror.setCurrentIndex(again.form.mirror.findData(""))
    assert again.form.spins["v3"].isEnabled()
    _review(again, qtbot)
    removed = [line.strip() for line in again.diff_text.toPlainText().splitlines() if line.startswith("-")]
    assert "-mirror:" in [line.replace(" ", "") for line in removed] and "-mirrorPercentage:" in \
        [line.replace(" ", "") for line in removed]

    removal = open_action(ctl, qtbot, "delete-routing", REVIEWS, inventory(emu))
    assert isinstance(removal.form, RemovalForm)
    assert removal.form.objects.item(0).text() == "VirtualService bookinfo/reviews"


def test_mirroring_one_of_two_versions_leaves_the_other_all_requests(emu: KubeEmulator, settings: Settings,
                                                                      window: QWidget, qtbot: QtBot) -> None:
    """With two versions and one the mirror, the other must take 100%: its slider was left free, and moving
    it made weights that could only be refused at Review; it is locked at 100, as a lone version is."""
    ui._remove_version(emu, "reviews", "v3")
    emu.delete("virtualservices", "bookinfo", "reviews", NET)
    ctl = controller_for(emu, settings, window)
    dialog = open_action(ctl, qtbot, "traffic-shifting", REVIEWS, inventory(emu))
    form = dialog.form
    assert isinstance(form, TrafficShiftingForm) and form.versions == ["v1", "v2"]
    form.mirror.setCurrentIndex(form.mirror.findData("v2"))
    assert form.weights() == {"v1": 100, "v2": 0}
    assert not form.sliders["v1"].isEnabled() and not form.sliders["v2"].isEnabled()
    form.mirror.setCurrentIndex(form.mirror.findData(""))
    assert form.sliders["v1"].isEnabled() and form.sliders["v2"].isEnabled()
