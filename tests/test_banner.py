"""The banner above the graph: what it says stays readable, and quick to lay out, whatever it is given."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from meshdesk.ui.banner import Banner


def test_a_word_a_megabyte_long_is_shown_by_its_start_and_end(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A note quoting a value from a damaged file whole (a name a megabyte long, with no space to wrap it at)
    was laid out as one word: the window froze for most of a minute (2.5 s for 100,000 characters). The word
    is shown by its start and end around an ellipsis, with its length; the rest of the note as it was."""
    window = QMainWindow()
    qtbot.addWidget(window)
    banner = Banner()
    window.setCentralWidget(banner)
    window.resize(1000, 300)
    window.show()
    name = "a" * 50 + "m" * 999_900 + "z" * 50
    banner.show_note(f"Saved layouts for context 'prod' were not usable: view {name!r} must be an object. "
                     "Node positions start fresh.", "warning")
    qtbot.waitExposed(window)
    said = banner.text()
    word = repr(name)
    assert said == (f"Saved layouts for context 'prod' were not usable: view {word[:60]}\u2026{word[-40:]} "
                    "(1,000,002 characters) must be an object. Node positions start fresh.")
    assert banner.minimumSizeHint().width() < 1000  # the window need not grow past the screen to hold the word
    assert banner.note_text.endswith("start fresh.")  # what it was given is kept as given


def test_an_error_a_megabyte_long_is_shown_by_its_start_and_end(qtbot) -> None:  # type: ignore[no-untyped-def]
    """An error of many words (a server's answer quoted whole) is cut too, so the banner stays a banner."""
    banner = Banner()
    qtbot.addWidget(banner)
    banner.show_error("prometheus", "Prometheus answered: " + "no data " * 125_000 + "(the end)")
    said = banner.text()
    assert len(said) < 11_000
    assert "Prometheus answered: no data no data" in said and said.count("(the end)") == 1
    assert "(1,000,030 characters)" in said
