"""Light and dark themes: a palette for ordinary widgets plus the style sheets in ``resources/styles``,
and the application and legend icons as ``QIcon``.

``apply_theme(app, "system")`` follows the desktop's light/dark setting (Qt 6.5+
``QStyleHints.colorScheme()``) and keeps following it while the app runs; ``"light"`` and ``"dark"``
force one. The canvas and charts can ask :func:`current_theme` which one is showing and listen to
:data:`theme_signals` ``.changed`` to recolour.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPen, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleFactory, QStyleOption, QWidget

from meshdesk import resources

SYSTEM = "system"
LIGHT = "light"
DARK = "dark"
CHOICES: tuple[tuple[str, str], ...] = (
    (SYSTEM, "Follow the system"),
    (LIGHT, "Light"),
    (DARK, "Dark"),
)
_CHOICE_PROPERTY = "meshdeskThemeChoice"
_EFFECTIVE_PROPERTY = "meshdeskTheme"


class _ThemeSignals(QObject):
    changed = Signal(str)  # the effective theme now showing: "light" or "dark"


theme_signals = _ThemeSignals()
_state: dict[str, object] = {"follower": None, "platform_palette": None}


def _palette(dark: bool) -> QPalette:
    if dark:
        window, base, alt, text, button = "#1f2328", "#161a1e", "#252b31", "#e6edf3", "#2b3137"
        highlight, link, mid, disabled = "#2f81f7", "#58a6ff", "#3d4854", "#7d8590"
    else:
        window, base, alt, text, button = "#f3f5f7", "#ffffff", "#f6f8fa", "#1d2630", "#e9edf1"
        highlight, link, mid, disabled = "#2b6cd9", "#1a5fb4", "#c4ccd4", "#8a96a3"
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: alt,
        QPalette.ColorRole.ToolTipBase: base,
        QPalette.ColorRole.ToolTipText: text,
        # a field's hint ("Find…", "Hide…", the docks' filters) is read to know what to type: the light
        # theme's disabled grey was 2.8:1 on a field's white; disabled text itself stays paler
        QPalette.ColorRole.PlaceholderText: disabled if dark else "#6b7682",
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: button,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: "#ff7b72" if dark else "#b42318",
        QPalette.ColorRole.Highlight: highlight,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: link,
        QPalette.ColorRole.LinkVisited: link,
        QPalette.ColorRole.Mid: mid,
        QPalette.ColorRole.Midlight: alt,
        QPalette.ColorRole.Dark: "#0d1013" if dark else "#9aa5b1",
        QPalette.ColorRole.Light: "#3a424a" if dark else "#ffffff",
        QPalette.ColorRole.Shadow: "#000000" if dark else "#6b7682",
    }
    for role, colour in roles.items():
        p.setColor(QPalette.ColorGroup.All, role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled))
    return p


# a hint's or a note's grey, as the style sheets' QLabel[role="hint"]: 5:1 and more on the theme's window
HINT = {LIGHT: "#5a6776", DARK: "#9aa7b4"}


def contrast(a: QColor, b: QColor) -> float:
    """WCAG's contrast ratio of two colours (1 to 21; body text wants 4.5)."""
    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable(colour: QColor | str, *backgrounds: QColor, ratio: float = 4.5) -> QColor:
    """``colour`` as text on every one of ``backgrounds`` (the current palette's Base and AlternateBase, a
    table's rows, when none are given): itself when it reads ``ratio`` to 1 on each, else darkened (on a
    light background) or lightened (on a dark one) in its own hue until it does. The status colours
    (a health's amber, an error's red) are chosen for one theme; on the other some read 2:1."""
    c = QColor(colour)
    if not backgrounds:
        palette = QGuiApplication.palette()
        backgrounds = (palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.AlternateBase))
    dark = sum(b.lightnessF() for b in backgrounds) / len(backgrounds) < 0.5
    hue, saturation, lightness, alpha = c.hslHueF(), c.hslSaturationF(), c.lightnessF(), c.alphaF()
    for _ in range(100):
        if min(contrast(c, b) for b in backgrounds) >= ratio:
            break
        lightness = min(1.0, lightness + 0.01) if dark else max(0.0, lightness - 0.01)
        c = QColor.fromHslF(max(hue, 0.0), saturation, lightness, alpha)
    return c


def light_palette() -> QPalette:
    return _palette(dark=False)


def dark_palette() -> QPalette:
    return _palette(dark=True)


def system_theme(app: QGuiApplication) -> str:
    """``"dark"`` or ``"light"``: what the desktop asks for. When the platform does not say (older
    desktops, the offscreen platform), judge by the lightness of the platform's window colour."""
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return DARK
    if scheme == Qt.ColorScheme.Light:
        return LIGHT
    base = _state["platform_palette"]
    palette = base if isinstance(base, QPalette) else app.palette()
    return DARK if palette.color(QPalette.ColorRole.Window).lightness() < 128 else LIGHT


def effective_theme(app: QGuiApplication, choice: str) -> str:
    """The theme a choice (``system``/``light``/``dark``) shows right now."""
    if choice == LIGHT:
        return LIGHT
    if choice == DARK:
        return DARK
    return system_theme(app)


def current_theme(app: QGuiApplication | None = None) -> str:
    """The theme showing now (``light`` when no theme was applied yet)."""
    app = app or QGuiApplication.instance()  # type: ignore[assignment]
    value = app.property(_EFFECTIVE_PROPERTY) if app is not None else None
    return str(value) if value in (LIGHT, DARK) else LIGHT


def current_choice(app: QGuiApplication | None = None) -> str:
    app = app or QGuiApplication.instance()  # type: ignore[assignment]
    value = app.property(_CHOICE_PROPERTY) if app is not None else None
    return str(value) if value in (SYSTEM, LIGHT, DARK) else SYSTEM


def _set_scheme_hint(app: QGuiApplication, choice: str) -> None:
    """Tell the platform too (Qt 6.8+), so native parts such as title bars match."""
    hints = app.styleHints()
    if not hasattr(hints, "setColorScheme"):
        return
    if choice == DARK:
        hints.setColorScheme(Qt.ColorScheme.Dark)
    elif choice == LIGHT:
        hints.setColorScheme(Qt.ColorScheme.Light)
    elif hasattr(hints, "unsetColorScheme"):
        hints.unsetColorScheme()


def _follow_system(app: QGuiApplication, on: bool) -> None:
    follower = _state["follower"]
    if on and follower is None:
        def follow(scheme: object) -> None:
            if current_choice(app) != SYSTEM:
                return
            if scheme == Qt.ColorScheme.Dark:
                _apply_effective(app, DARK)
            elif scheme == Qt.ColorScheme.Light:
                _apply_effective(app, LIGHT)
            else:
                _apply_effective(app, system_theme(app))

        app.styleHints().colorSchemeChanged.connect(follow)
        _state["follower"] = follow
    elif not on and follower is not None:
        app.styleHints().colorSchemeChanged.disconnect(follower)
        _state["follower"] = None


def _edge(painter: QPainter, option: QStyleOption, role: QPalette.ColorRole) -> None:
    """A one-pixel frame just inside ``option.rect``, in the palette's ``role`` colour, opaque and unsmoothed."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setPen(QPen(option.palette.color(role), 1))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(option.rect.adjusted(0, 0, -1, -1))
    painter.restore()


class VisibleFocusStyle(QProxyStyle):
    """Fusion with check boxes edged so that they can be seen, and a keyboard focus that can be seen: Fusion draws the focus of buttons, tool buttons
    and check boxes as a frame at a third of its opacity, about 1.6:1 against the window in either
    theme (the Tab key seemed to go nowhere on the toolbar); here it is the theme's highlight, opaque
    (4:1 and more)."""

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption, painter: QPainter,
                      widget: QWidget | None = None) -> None:
        if element == QStyle.PrimitiveElement.PE_IndicatorCheckBox:
            # Fusion edges a check box (a form's, and a toggle of the Display menu) in a shade of the window:
            # unchecked, 1.7:1 in the light theme and 1.1:1 in the dark one, where a menu's toggles that were
            # off showed no box at all. Edged in the hint grey of the palette (3:1 and more, as WCAG asks
            # of a control's boundary)
            super().drawPrimitive(element, option, painter, widget)
            _edge(painter, option, QPalette.ColorRole.PlaceholderText)
            return
        if element != QStyle.PrimitiveElement.PE_FrameFocusRect \
                or not option.state & QStyle.StateFlag.State_KeyboardFocusChange:  # (as Fusion: not for a click)
            super().drawPrimitive(element, option, painter, widget)
            return
        _edge(painter, option, QPalette.ColorRole.Highlight)


def _visible_focus(app: QApplication) -> None:
    """Put :class:`VisibleFocusStyle` around the application's style when that is Fusion (the style of
    most Linux desktops without a theme of their own; other styles draw their own focus)."""
    style = app.style()
    if app.styleSheet():
        return  # a style sheet's style hides the one under it: that was seen to before the first sheet
    if isinstance(style, VisibleFocusStyle) or style is None or style.name().lower() != "fusion":
        return
    base = QStyleFactory.create("Fusion")
    if base is not None:
        app.setStyle(VisibleFocusStyle(base))


def _apply_effective(app: QGuiApplication, theme: str) -> None:
    if isinstance(app, QApplication):
        _visible_focus(app)  # (first: a new style would bring its own palette)
    app.setPalette(dark_palette() if theme == DARK else light_palette())
    if isinstance(app, QApplication):
        app.setStyleSheet(resources.stylesheet(theme))
    previous = app.property(_EFFECTIVE_PROPERTY)
    app.setProperty(_EFFECTIVE_PROPERTY, theme)
    if previous != theme:
        theme_signals.changed.emit(theme)


def apply_theme(app: QGuiApplication, choice: str) -> str:
    """Apply ``choice`` (``system``, ``light`` or ``dark``) to the whole application and return the
    theme now showing. An unknown choice is treated as ``system``."""
    if _state["platform_palette"] is None:
        _state["platform_palette"] = QPalette(app.palette())
    if choice not in (SYSTEM, LIGHT, DARK):
        choice = SYSTEM
    app.setProperty(_CHOICE_PROPERTY, choice)
    _follow_system(app, False)
    _set_scheme_hint(app, choice)
    theme = effective_theme(app, choice)
    _apply_effective(app, theme)
    if choice == SYSTEM:
        _follow_system(app, True)
    return theme


def reset_theme(app: QGuiApplication) -> None:
    """Undo :func:`apply_theme`: the platform's own palette, no style sheet, no following (tests use it)."""
    _follow_system(app, False)
    base = _state["platform_palette"]
    if isinstance(base, QPalette):
        app.setPalette(base)
    if isinstance(app, QApplication):
        app.setStyleSheet("")
    hints = app.styleHints()
    if hasattr(hints, "unsetColorScheme"):
        hints.unsetColorScheme()
    app.setProperty(_CHOICE_PROPERTY, None)
    app.setProperty(_EFFECTIVE_PROPERTY, None)


# --- icons -----------------------------------------------------------------------------------------

def svg_pixmap(svg: bytes, size: int, device_pixel_ratio: float = 1.0) -> QPixmap:
    """Render SVG bytes to a square pixmap, sharp on high-DPI screens."""
    side = max(1, round(size * device_pixel_ratio))
    image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    renderer = QSvgRenderer(QByteArray(svg))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, side, side))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(device_pixel_ratio)
    return pixmap


def legend_icon(node_type: str, sizes: tuple[int, ...] = (16, 24, 32, 48)) -> QIcon:
    """The legend's shape for a node type (``workload``, ``app``, ``service``, ``serviceentry``,
    ``operation``/``aggregate``, ``unknown``)."""
    svg = resources.icon(node_type)
    icon = QIcon()
    for size in sizes:
        icon.addPixmap(svg_pixmap(svg, size))
    return icon


def app_icon() -> QIcon:
    """meshdesk's icon with every committed PNG size, so each place Qt draws it gets a crisp render."""
    icon = QIcon()
    for size in resources.APP_ICON_SIZES:
        pixmap = QPixmap()
        if pixmap.loadFromData(QByteArray(resources.app_icon_png(size)), "PNG"):
            icon.addPixmap(pixmap)
    if icon.isNull():  # PNGs unreadable: fall back to drawing the SVG
        icon.addPixmap(svg_pixmap(resources.app_icon_svg(), 256))
    return icon

