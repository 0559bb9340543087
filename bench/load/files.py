"""The file applicants upload during the load test: a 5 MB photo of a real-looking pay stub."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageChops

TARGET_BYTES = 5 * 1024 * 1024


def pay_stub_photo(target: int = TARGET_BYTES) -> bytes:
    """The sample pay stub (samples/payroll.py) rendered like a high-resolution phone photo
    (grey paper, tilt, sensor grain), saved as a JPEG at the quality that brings it closest to
    ``target`` bytes without going under 95 % of it."""
    from datetime import date

    from samples.payroll import pay_stub_pdf, payroll
    from samples.scan import scanned_png

    rng = random.Random(7)  # noqa: S311 - reproducible bench file
    pdf = pay_stub_pdf(payroll(rng, date(2026, 1, 3), 2), employee_id="004512", ssn_last4="6789")
    grey = Image.open(io.BytesIO(scanned_png(pdf, rng, dpi=300, angle=1.5)))
    # A 12-megapixel phone camera's frame, with its own sensor noise on each channel.
    grey = grey.resize((3024, 4032), Image.Resampling.BICUBIC)
    noise = Image.frombytes("L", grey.size, rng.randbytes(grey.width * grey.height))
    noise = noise.point(lambda v: 128 + (v - 128) // 14)
    channels = [grey, grey.point(lambda v: v * 0.98), grey.point(lambda v: v * 0.93)]
    photo = Image.merge("RGB", [ImageChops.add(c, noise, scale=1.0, offset=-128) for c in channels])
    data = b""
    for quality in range(97, 40, -1):
        buffer = io.BytesIO()
        photo.save(buffer, format="JPEG", quality=quality)
        data = buffer.getvalue()
        if len(data) <= target:
            break
    return data


def ensure(path: Path) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pay_stub_photo())
    return path


if __name__ == "__main__":
    data = pay_stub_photo()
    print(f"{len(data):,} bytes")
