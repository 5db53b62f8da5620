"""Event Grid's control operations: subscriptions, dead letters and the manual validation URL."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from callbridge.emulator.cloud import LocalCloud
from callbridge.emulator.control.base import ControlError, Guard, read_json


class EventGridControl:
    """Handlers over the cloud's Event Grid topic, mounted under ``/emulator/eventgrid``."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud

    def routes(self) -> list[BaseRoute]:
        g = Guard(self.cloud.journal)
        return [
            Route("/eventgrid/subscriptions", g(self.subscriptions), methods=["GET", "POST"]),
            Route("/eventgrid/subscriptions/{name}", g(self.delete_subscription), methods=["DELETE"]),
            Route("/eventgrid/dead-letters", g(self.dead_letters), methods=["GET"]),
            Route("/eventgrid/validate", g(self.validate), methods=["GET"]),
        ]

    async def subscriptions(self, request: Request) -> Response:
        eventgrid = self.cloud.eventgrid
        if request.method == "GET":
            return JSONResponse({"value": [s.to_json() for s in eventgrid.subscriptions.values()]})
        body = await read_json(request)
        name, endpoint = body.get("name"), body.get("endpoint")
        if not isinstance(name, str) or not isinstance(endpoint, str):
            raise ControlError(400, "BadRequest", "name and endpoint are required strings.")
        event_types = body.get("eventTypes")
        if event_types is not None and (
            not isinstance(event_types, list) or not all(isinstance(t, str) for t in event_types)
        ):
            raise ControlError(400, "BadRequest", "eventTypes must be a list of event type names.")
        schema = body.get("schema", "EventGridSchema")
        subscription = await eventgrid.subscribe(name, endpoint, event_types, str(schema))
        self.cloud.save()
        return JSONResponse(subscription.to_json(), status_code=201)

    async def delete_subscription(self, request: Request) -> Response:
        name = request.path_params["name"]
        if not self.cloud.eventgrid.unsubscribe(name):
            raise ControlError(404, "NotFound", f"No Event Grid subscription named {name!r}.")
        self.cloud.save()
        return Response(status_code=204)

    async def dead_letters(self, request: Request) -> Response:
        return JSONResponse({"value": [d.to_json() for d in self.cloud.eventgrid.dead_letters]})

    async def validate(self, request: Request) -> Response:
        token = request.query_params.get("id", "")
        if not self.cloud.eventgrid.confirm_validation(token):
            raise ControlError(404, "NotFound", "No subscription is waiting for this validation URL.")
        return JSONResponse({"validated": True})
