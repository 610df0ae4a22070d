"""Export what the canvas shows as PNG (raster) or SVG (vector)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsScene

from meshdesk.fileio import write_atomic

MARGIN = 20.0
MAX_PIXELS = 8000  # longest side of a PNG


def _source_rect(scene: QGraphicsScene, rect: QRectF | None) -> QRectF:
    src = rect if rect is not None else scene.itemsBoundingRect()
    if src.isNull() or src.isEmpty():
        src = QRectF(0, 0, 200, 100)
    return src.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def png_scale(scene: QGraphicsScene, rect: QRectF | None = None, scale: float = 2.0) -> float:
    """The pixels per scene unit a PNG of the scene (or ``rect``) is drawn at: ``scale``, reduced so the
    longest side stays within MAX_PIXELS. Below the canvas's ``LABEL_LOD`` names and badges are left
    out, as on screen at that zoom (they would be a few pixels high)."""
    src = _source_rect(scene, rect)
    return min(scale, MAX_PIXELS / max(src.width(), src.height()))


def render_image(scene: QGraphicsScene, rect: QRectF | None = None, scale: float = 2.0) -> QImage:
    """The scene (or ``rect`` of it) as an image on white, at ``png_scale`` pixels per scene unit."""
    src = _source_rect(scene, rect)
    scale = png_scale(scene, rect, scale)
    size = QSize(max(1, int(src.width() * scale)), max(1, int(src.height() * scale)))
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        scene.render(painter, QRectF(0, 0, size.width(), size.height()), src,
                     Qt.AspectRatioMode.KeepAspectRatio)
    finally:
        painter.end()
    return image


def export_png(scene: QGraphicsScene, path: str | Path, rect: QRectF | None = None) -> float:
    """Write a PNG (atomically); raises OSError naming the path when it cannot be written. Returns the
    scale it was drawn at (``png_scale``)."""
    image = render_image(scene, rect)
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    ok = image.save(buf, "PNG")  # type: ignore[call-overload]  # the stubs say bytes; PySide wants str
    buf.close()
    if not ok:
        raise OSError("the PNG could not be encoded")
    _write(path, bytes(data.data()))
    return png_scale(scene, rect)


def _write(path: str | Path, raw: bytes) -> None:
    """The user's file: it keeps its mode (a new one gets the umask's), a symlink is written through,
    and a folder that does not exist is an error (OSError with the system's reason)."""
    write_atomic(path, raw, mode=None, make_parents=False)


def export_svg(scene: QGraphicsScene, path: str | Path, rect: QRectF | None = None,
               title: str = "meshdesk graph") -> None:
    """Write an SVG (atomically) with the scene as vector shapes and text."""
    src = _source_rect(scene, rect)
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setSize(QSize(int(src.width()), int(src.height())))
    gen.setViewBox(QRectF(0, 0, src.width(), src.height()))
    gen.setTitle(title)
    painter = QPainter()
    if not painter.begin(gen):
        raise OSError(f"could not render the SVG for {path}")
    try:
        painter.fillRect(QRectF(0, 0, src.width(), src.height()), QColor("#ffffff"))
        scene.render(painter, QRectF(0, 0, src.width(), src.height()), src, Qt.AspectRatioMode.KeepAspectRatio)
    finally:
        painter.end()
    buf.close()
    _write(path, bytes(data.data()))
