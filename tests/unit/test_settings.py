"""Settings: read once from the environment, every name listed in the sample file."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from processing import settings as settings_module
from processing.extraction.limits import MIB, Limits
from processing.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_PROVIDED = {"WEBSITE_HOSTNAME"}
IDENTITY_ONLY = {
    "AzureWebJobsStorage__blobServiceUri",
    "AzureWebJobsStorage__queueServiceUri",
    "AzureWebJobsStorage__tableServiceUri",
    "AzureWebJobsStorage__clientId",
}


def setting_names() -> set[str]:
    """Every string constant assigned at the top of processing/settings.py."""
    tree = ast.parse((ROOT / "processing/settings.py").read_text())
    return {
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and all(isinstance(t, ast.Name) and t.id.isupper() for t in node.targets)
    }


def test_every_setting_the_code_reads_is_in_the_sample_file() -> None:
    sample = set(json.loads((ROOT / "local.settings.sample.json").read_text())["Values"])
    missing = setting_names() - sample - PLATFORM_PROVIDED - IDENTITY_ONLY
    assert missing == set()


def test_defaults_without_any_environment() -> None:
    settings = Settings.from_env({})
    assert settings.storage.embedded
    assert settings.limits == Limits()
    assert settings.isolation is True
    assert settings.public_base_url == "http://127.0.0.1:7071"


def test_limits_come_from_their_settings() -> None:
    settings = Settings.from_env(
        {
            "MAX_UPLOAD_BYTES": "1000",
            "MAX_PAGES": "7",
            "MAX_ANALYSIS_CHARS": "500",
            "MAX_ENTITIES": "3",
            "DOCX_MAX_RATIO": "20",
            "PROCESSING_TIMEOUT_SECONDS": "9",
            "PROCESSING_MEMORY_MB": "256",
            "PROCESSING_WORKERS": "4",
            "PROCESSING_ISOLATION": "false",
        }
    )
    assert settings.max_upload_bytes == 1000
    assert (settings.limits.max_pages, settings.limits.max_entities) == (7, 3)
    assert settings.limits.max_analysis_chars == 500
    assert settings.limits.max_zip_ratio == 20.0
    assert settings.limits.timeout_seconds == 9.0
    assert settings.isolation_limits.memory_bytes == 256 * MIB
    assert settings.isolation_limits.workers == 4
    assert settings.isolation is False


def test_the_platform_hostname_sets_the_public_base_url() -> None:
    settings = Settings.from_env({"WEBSITE_HOSTNAME": "docflow.azurewebsites.net"})
    assert settings.public_base_url == "https://docflow.azurewebsites.net"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_UPLOAD_BYTES", "ten"),
        ("MAX_PAGES", "0"),
        ("PROCESSING_WORKERS", "-1"),
        ("PROCESSING_ISOLATION", "maybe"),
    ],
)
def test_bad_values_are_refused_with_the_setting_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_optional_names_are_real_settings() -> None:
    assert setting_names() >= settings_module.OPTIONAL
