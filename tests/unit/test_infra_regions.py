"""The second region (infra/main.bicep secondaryLocation), checked offline: off by
default; when on, every piece of it is conditional on it, storage is geo-zone
redundant, and Front Door routes active-passive on the readiness route the app
really serves."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.unit.test_infra import INFRA, parse_bicep, resource_config

ROOT = INFRA.parent
MAIN = INFRA / "main.bicep"
FRONT_DOOR = INFRA / "modules" / "frontdoor.bicep"
REGION = INFRA / "modules" / "region.bicep"


def frontdoor_resources() -> dict[str, Any]:
    resources: dict[str, Any] = parse_bicep(FRONT_DOOR)["resources"]
    return resources


def test_one_region_is_the_default() -> None:
    params = parse_bicep(MAIN)["parameters"]
    assert params["secondaryLocation"]["default"] == ""
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert parameters["secondaryLocation"]["value"] == "${SECONDARY_LOCATION}"


def test_everything_of_the_second_region_is_conditional_on_it() -> None:
    parsed = parse_bicep(MAIN)
    for kind, name in [
        ("resources", "secondaryRg"),
        ("modules", "secondary"),
        ("modules", "frontDoor"),
    ]:
        config = parsed[kind][name]["config"]
        assert config["condition"] == "multiRegion", name
    assert re.search(r"^var multiRegion = !empty\(secondaryLocation\)$", MAIN.read_text(), re.M)


def test_a_pair_always_gets_geo_zone_redundant_storage() -> None:
    text = MAIN.read_text()
    assert "sku: effectiveStorageSku" in text
    assert (
        "var pairStorageSku = contains(geoRedundantSkus, storageSku) ? storageSku"
        " : 'Standard_RAGZRS'" in text
    )
    assert "var effectiveStorageSku = multiRegion ? pairStorageSku : storageSku" in text


def test_front_door_is_standard_and_probes_the_readiness_route() -> None:
    resources = frontdoor_resources()
    profile = resource_config(resources["profile"])
    assert profile["sku"] == {"name": "Standard_AzureFrontDoor"}
    probe = resource_config(resources["originGroup"])["properties"]["healthProbeSettings"]
    assert probe["probePath"] == "/api/health/ready"
    assert (probe["probeRequestType"], probe["probeProtocol"]) == ("GET", "Https")


def test_the_probed_route_is_the_apps_anonymous_readiness_route() -> None:
    text = (ROOT / "processing" / "triggers.py").read_text()
    assert (
        '@bp.route(route="health/ready", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)'
        in text
    )


def test_routing_is_active_passive_by_priority() -> None:
    resources = frontdoor_resources()
    primary = resource_config(resources["primaryOrigin"])["properties"]
    secondary = resource_config(resources["secondaryOrigin"])["properties"]
    assert (primary["priority"], secondary["priority"]) == (1, 2)
    for origin in (primary, secondary):
        assert origin["enforceCertificateNameCheck"] is True
        assert origin["hostName"] == origin["originHostHeader"]
    route = resource_config(resources["route"])["properties"]
    assert route["forwardingProtocol"] == "HttpsOnly"
    assert route["httpsRedirect"] == "Enabled"
    assert route["patternsToMatch"] == ["/*"]


def test_the_passive_region_reuses_the_hosting_module_and_has_its_own_topic() -> None:
    modules = parse_bicep(REGION)["modules"]
    assert modules["hosting"]["detail"]["path"] == "hosting.bicep"
    events = modules["events"]["config"]["params"]
    assert events["createSystemTopic"] is False
    assert "storageRoles" in modules  # its identity's roles exist before any outage


def test_the_hooks_deploy_the_passive_region_too() -> None:
    for hook in ("postdeploy.sh", "postdeploy.ps1"):
        text = (INFRA / "hooks" / hook).read_text()
        assert "AZURE_SECONDARY_FUNCTION_APP_NAME" in text, hook
        assert "AZURE_SECONDARY_EVENTGRID_TOPIC_NAME" in text, hook


def test_the_front_door_endpoint_is_an_output() -> None:
    outputs = parse_bicep(MAIN)["outputs"]
    assert {"AZURE_FRONT_DOOR_URL", "AZURE_SECONDARY_FUNCTION_APP_NAME"} <= set(outputs)


def test_operations_doc_exists_and_is_linked() -> None:
    assert (ROOT / "docs" / "operations.md").is_file()
    assert "docs/operations.md" in (ROOT / "README.md").read_text()
