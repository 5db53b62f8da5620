"""Every CommunicationIdentifier kind: raw ids and wire models, as both SDKs send them and as the service returns them."""

from __future__ import annotations

import pytest

from callbridge.identifiers import (
    Cloud,
    CommunicationUser,
    IdentifierError,
    Kind,
    PhoneNumber,
    TeamsApp,
    TeamsExtensionUser,
    TeamsUser,
    UnknownIdentifier,
    from_model,
    from_raw_id,
    identity_key,
    to_model,
)

OID = "fc4ccb5f-8046-4812-803f-6c344a5d1560"
RESOURCE = "1bdaa2b9-9507-4542-bb64-a7b22c00a8d4"


@pytest.mark.parametrize(
    ("raw_id", "expected"),
    [
        (
            f"8:acs:{RESOURCE}_0000001e-ceaf-8d77-f6c7-593a0d00a1e2",
            CommunicationUser(f"8:acs:{RESOURCE}_0000001e-ceaf-8d77-f6c7-593a0d00a1e2"),
        ),
        ("8:spool:legacy-user", CommunicationUser("8:spool:legacy-user")),
        ("8:dod-acs:abc_def", CommunicationUser("8:dod-acs:abc_def")),
        ("4:+14255550123", PhoneNumber("+14255550123")),
        ("4:anonymous", PhoneNumber("anonymous", is_anonymous=True)),
        ("4:+14255550123_asserted", PhoneNumber("+14255550123", asserted_id="asserted")),
        (f"8:orgid:{OID}", TeamsUser(OID)),
        (f"8:dod:{OID}", TeamsUser(OID, cloud=Cloud.DOD)),
        (f"8:gcch:{OID}", TeamsUser(OID, cloud=Cloud.GCCH)),
        (f"8:teamsvisitor:{OID}", TeamsUser(OID, is_anonymous=True)),
        ("28:orgid:app-1", TeamsApp("app-1")),
        ("28:gcch:app-1", TeamsApp("app-1", cloud=Cloud.GCCH)),
        ("28:dod-global:bot", TeamsApp("bot", cloud=Cloud.DOD, legacy_prefix="28:dod-global:")),
        (f"8:acs:{RESOURCE}_tenant_user", TeamsExtensionUser("user", "tenant", RESOURCE)),
        ("something-else", UnknownIdentifier("something-else")),
    ],
)
def test_raw_ids_round_trip(raw_id: str, expected: object) -> None:
    parsed = from_raw_id(raw_id)

    assert parsed == expected
    assert parsed.raw_id == raw_id
    assert from_model(to_model(parsed)) == parsed


def test_python_sdk_teams_user_without_kind_and_upper_case_cloud() -> None:
    model = {"rawId": f"8:orgid:{OID}", "microsoftTeamsUser": {"userId": OID, "isAnonymous": False, "cloud": "PUBLIC"}}

    assert from_model(model) == TeamsUser(OID)


def test_js_sdk_teams_user_with_kind_and_lower_case_cloud() -> None:
    model = {
        "kind": "microsoftTeamsUser",
        "rawId": f"8:gcch:{OID}",
        "microsoftTeamsUser": {"userId": OID, "isAnonymous": False, "cloud": "gcch"},
    }

    assert from_model(model) == TeamsUser(OID, cloud=Cloud.GCCH)


def test_returned_models_carry_raw_id_then_kind_then_the_object() -> None:
    model = to_model(TeamsUser(OID))

    assert list(model) == ["rawId", "kind", "microsoftTeamsUser"]
    assert model == {
        "rawId": f"8:orgid:{OID}",
        "kind": "microsoftTeamsUser",
        "microsoftTeamsUser": {"userId": OID, "isAnonymous": False, "cloud": "public"},
    }
    assert to_model(PhoneNumber("+14255550123")) == {
        "rawId": "4:+14255550123",
        "kind": "phoneNumber",
        "phoneNumber": {"value": "+14255550123"},
    }


def test_a_raw_id_alone_is_enough() -> None:
    assert from_model({"rawId": "4:+14255550123"}).kind is Kind.PHONE_NUMBER


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("8:orgid:x", "JSON object"),
        ({}, "needs a rawId"),
        ({"rawId": 5}, "rawId must be a string"),
        ({"kind": "phoneNumber", "microsoftTeamsUser": {"userId": OID}}, "does not match"),
        ({"phoneNumber": {"value": "+1"}, "communicationUser": {"id": "8:acs:x"}}, "exactly one"),
        ({"phoneNumber": {"value": "4255550123"}}, "E.164"),
        ({"rawId": "4:+14255550199", "phoneNumber": {"value": "+14255550123"}}, "does not match"),
        ({"microsoftTeamsUser": {"userId": ""}}, "userId is required"),
        ({"microsoftTeamsUser": {"userId": OID, "cloud": "mars"}}, "unknown cloud"),
        ({"microsoftTeamsUser": {"userId": OID, "isAnonymous": "no"}}, "boolean"),
    ],
)
def test_bad_models_are_refused_with_a_reason(model: object, message: str) -> None:
    with pytest.raises(IdentifierError, match=message):
        from_model(model)


def test_identity_is_case_insensitive() -> None:
    assert identity_key(TeamsUser(OID.upper())) == identity_key(from_raw_id(f"8:ORGID:{OID}"))
