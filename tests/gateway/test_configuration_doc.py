"""Specifications of the configuration reference: docs/configuration.md is what Settings says."""

from __future__ import annotations

from gateway import configuration_doc
from gateway.settings import Settings


def test_the_committed_configuration_page_is_the_one_generated_from_settings() -> None:
    committed = configuration_doc.DOCUMENT.read_text(encoding="utf-8")

    assert committed == configuration_doc.render(), (
        "docs/configuration.md differs from gateway/settings.py: "
        "run `python -m gateway.configuration_doc --write`"
    )


def test_every_setting_has_a_description() -> None:
    undescribed = [
        f"GATEWAY_{name.upper()}"
        for name, field in Settings.model_fields.items()
        if not (field.description or "").strip()
    ]

    assert undescribed == [], f"give these settings a Field(description=...): {undescribed}"
