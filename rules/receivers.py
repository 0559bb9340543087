"""Rules follow what the layers below announce (connected in ``RulesConfig.ready``)."""

from __future__ import annotations

from .services import flags_refresh


def flags_refresh_after_reading(*, document, **kwargs) -> None:
    """A document's values were saved: its application's flags follow them."""
    flags_refresh(application=document.application)
