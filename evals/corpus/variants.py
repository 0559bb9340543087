"""One document, five ways it reaches Attest: the text PDF itself, an image-only PDF, a clean
image, a flatbed scan and a phone photo.

Images of a document with several pages are a multi-page TIFF (what scanners write), and phone
photos of several pages an image-only PDF (what scanning apps write); one page stays a PNG or a
JPEG. Every effect is drawn from the caller's seeded ``random.Random``.
"""

from __future__ import annotations

import io
import random

import pypdfium2 as pdfium
from fpdf import FPDF
from PIL import Image, ImageChops, ImageDraw, ImageFilter

VARIANTS = ("text_pdf", "image_pdf", "png", "scan", "photo")
RENDER_DPI = 200


def pages_as_images(pdf: bytes, dpi: int = RENDER_DPI) -> list[Image.Image]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("L") for page in document]
    finally:
        document.close()


def images_as_pdf(images: list[Image.Image], *, jpeg_quality: int = 85) -> bytes:
    """An image-only PDF: one page per image, Letter-width, no text layer."""
    from datetime import UTC, datetime

    pdf = FPDF(unit="mm")
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
    pdf.set_auto_page_break(auto=False)
    for image in images:
        width = 215.9
        height = width * image.height / image.width
        pdf.add_page(format=(width, height))
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="JPEG", quality=jpeg_quality)
        buffer.seek(0)
        pdf.image(buffer, x=0, y=0, w=width, h=height)
    return bytes(pdf.output())


def _save(images: list[Image.Image], *, single: str) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if len(images) > 1:
        images[0].save(buffer, format="TIFF", save_all=True, append_images=images[1:],
                       compression="tiff_deflate")  # fmt: skip
        return buffer.getvalue(), "tiff"
    if single == "jpg":
        images[0].convert("RGB").save(buffer, format="JPEG", quality=72)
    else:
        images[0].save(buffer, format="PNG", optimize=True)
    return buffer.getvalue(), single


def _noise(image: Image.Image, rng: random.Random, strength: int) -> Image.Image:
    grain = Image.frombytes("L", image.size, rng.randbytes(image.width * image.height))
    grain = grain.point(lambda v: 128 + (v - 128) * strength // 128)
    return ImageChops.add(image, grain, scale=1.0, offset=-128)


def _jpeg_roundtrip(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert(image.mode)


def scanned(image: Image.Image, rng: random.Random) -> Image.Image:
    """A flatbed scan: grey paper, lighter ink, a small tilt, grain, soft focus, JPEG blocks."""
    paper = rng.randint(215, 240)
    ink = rng.randint(20, 60)
    image = image.point(lambda v: ink + v * (paper - ink) // 255)
    angle = rng.uniform(-2.0, 2.0)
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True,
                         fillcolor=paper - 40)  # fmt: skip
    image = _noise(image, rng, rng.randint(8, 20))
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 0.9)))
    return _jpeg_roundtrip(image, rng.randint(35, 65))


def _perspective_coefficients(
    source: list[tuple[float, float]], target: list[tuple[float, float]]
) -> list[float]:
    """PIL's 8 perspective coefficients mapping ``target`` corners back onto ``source``."""
    rows: list[list[float]] = []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, v])
    return _solve(rows)


def _solve(rows: list[list[float]]) -> list[float]:
    """Gauss-Jordan elimination of an augmented n x (n+1) system (no numpy in the project)."""
    size = len(rows)
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(rows[r][column]))
        rows[column], rows[pivot] = rows[pivot], rows[column]
        lead = rows[column][column]
        rows[column] = [value / lead for value in rows[column]]
        for other in range(size):
            if other != column and rows[other][column]:
                factor = rows[other][column]
                pivot_row = rows[column]
                rows[other] = [a - factor * b for a, b in zip(rows[other], pivot_row, strict=True)]
    return [row[-1] for row in rows]


def photographed(image: Image.Image, rng: random.Random) -> Image.Image:
    """A phone photo: the page on a desk, seen at a slight angle, a shadow across it, soft focus."""
    page = image.convert("RGB")
    width, height = page.size
    margin = int(0.06 * max(width, height))
    canvas_size = (width + 2 * margin, height + 2 * margin)
    desk = tuple(rng.randint(70, 140) for _ in range(3))
    canvas = Image.new("RGB", canvas_size, desk)
    canvas.paste(page, (margin, margin))
    # Corners pulled in by up to 4% of the side: a phone held not quite square to the page.
    jitter = lambda: rng.uniform(0, 0.04) * min(width, height)  # noqa: E731
    corners = [(margin, margin), (margin + width, margin), (margin + width, margin + height),
               (margin, margin + height)]  # fmt: skip
    moved = [
        (corners[0][0] + jitter(), corners[0][1] + jitter()),
        (corners[1][0] - jitter(), corners[1][1] + jitter()),
        (corners[2][0] - jitter(), corners[2][1] - jitter()),
        (corners[3][0] + jitter(), corners[3][1] - jitter()),
    ]
    coefficients = _perspective_coefficients(corners, moved)
    photo = canvas.transform(canvas_size, Image.Transform.PERSPECTIVE, coefficients,
                             Image.Resampling.BICUBIC, fillcolor=desk)  # fmt: skip
    # A soft shadow: a darker band from one side fading out.
    shadow = Image.new("L", canvas_size, 255)
    draw = ImageDraw.Draw(shadow)
    depth = rng.randint(40, 90)
    band = int(canvas_size[0] * rng.uniform(0.25, 0.5))
    for x in range(band):
        draw.line([(x, 0), (x, canvas_size[1])], fill=255 - depth * (band - x) // band)
    if rng.random() < 0.5:
        shadow = shadow.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    photo = ImageChops.multiply(photo, Image.merge("RGB", (shadow, shadow, shadow)))
    photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.2)))
    return _noise(photo.convert("L"), rng, rng.randint(6, 14)).convert("RGB")


def make_variant(pdf: bytes, variant: str, rng: random.Random) -> tuple[bytes, str]:
    """The document as ``variant``: (bytes, file extension)."""
    if variant == "text_pdf":
        return pdf, "pdf"
    images = pages_as_images(pdf)
    if variant == "image_pdf":
        return images_as_pdf(images), "pdf"
    if variant == "png":
        return _save(images, single="png")
    if variant == "scan":
        return _save([scanned(image, rng) for image in images], single="png")
    if variant == "photo":
        photos = [photographed(image, rng) for image in images]
        if len(photos) > 1:
            return images_as_pdf(photos, jpeg_quality=72), "pdf"
        return _save(photos, single="jpg")
    raise ValueError(f"Unknown variant {variant!r}; choose from {', '.join(VARIANTS)}.")
