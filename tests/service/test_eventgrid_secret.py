"""With CALLBRIDGE_EVENTGRID_SECRET set, only Event Grid deliveries that carry ?secret= are taken."""

from __future__ import annotations

from pydantic import SecretStr

from tests.support.fixtures import StartService
from tests.support.scenario import eventually

SECRET = "eventgrid-shared-secret"


def test_the_handshake_and_deliveries_need_the_secret(start_service: StartService) -> None:
    env = start_service(subscribe=False, eventgrid_secret=SecretStr(SECRET))
    control = env.cloud.control

    refused = control.post("/eventgrid/subscriptions", json={"name": "nosecret", "endpoint": env.url + "/eventgrid"})
    assert refused.status_code == 400 and "401" in refused.json()["error"]["message"]

    forged = env.api.post(
        env.url + "/eventgrid", json=[{"id": "x", "eventType": "Microsoft.Communication.IncomingCall", "data": {}}]
    )
    assert forged.status_code == 401

    endpoint = f"{env.url}/eventgrid?secret={SECRET}"
    env.cloud.ok(control.post("/eventgrid/subscriptions", json={"name": "callbridge", "endpoint": endpoint}))
    key = env.answered()
    assert eventually(lambda: env.call(key)["call"]["state"] == "connected", what="the call to connect")
