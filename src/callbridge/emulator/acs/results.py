"""Every result code the emulated Call Automation emits in events, with where the value comes from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Source(StrEnum):
    """How we know the real service uses a code."""

    RECORDED = "recorded"  # seen in Microsoft's recorded live-test events
    DOCUMENTED = "documented"  # listed in the ACS troubleshooting code tables
    FIELD = "field-reported"  # reported by developers on real tenants, not in the docs
    CHOSEN = "chosen"  # the reference leaves it open; we picked the most plausible value


@dataclass(frozen=True)
class Result:
    """A ``resultInformation`` value and its provenance."""

    code: int
    sub_code: int
    message: str
    source: Source
    meaning: str

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "subCode": self.sub_code, "message": self.message}

    @property
    def label(self) -> str:
        return f"{self.code}/{self.sub_code}"


SUCCESS = Result(200, 0, "", Source.RECORDED, "operation succeeded")
MEDIA_SUCCESS = Result(200, 0, "Action completed successfully.", Source.DOCUMENTED, "media operation succeeded")
ENDED_BY_APP = Result(
    200,
    7000,
    "Call was ended by Azure Communication Service Call Automation API or a server bot. DiagCode: 0#7000.@",
    Source.RECORDED,
    "the app hung up or terminated the call",
)
ENDED_AFTER_TRANSFER = Result(
    200, 7015, "Call ended after a successful transfer.", Source.DOCUMENTED, "the app's leg after a 1:1 transfer"
)
REMOTE_HUNG_UP = Result(
    200, 0, "The other participant hung up.", Source.CHOSEN, "the last other participant left a call"
)
DECLINED = Result(603, 0, "Call declined by the remote party.", Source.DOCUMENTED, "the callee declined")
NO_ANSWER = Result(
    487, 10004, "Call canceled on timeout, no callee response.", Source.DOCUMENTED, "nobody answered in time"
)
OFFLINE = Result(
    480,
    10037,
    "Call ended because the target has no registered endpoints. If the target is a Teams user, make sure "
    "their client is online.",
    Source.DOCUMENTED,
    "the target has no online endpoint (Teams client offline)",
)
BUSY = Result(486, 8539, "Callee is busy.", Source.DOCUMENTED, "the callee is busy or already in a call")
NOT_FEDERATED = Result(
    403,
    10124,
    "The Teams tenant does not allow calls from this Azure Communication Services resource.",
    Source.FIELD,
    "ACS federation off, or the resource is not in AllowedAcsResources",
)
POLICY_BLOCKED = Result(
    403,
    7604,
    "Unauthorized Teams Interop Scenario.",
    Source.DOCUMENTED,
    "the user's external access policy has EnableAcsFederationAccess off",
)
NO_TEAMS_PHONE = Result(
    403,
    10391,
    "The Teams user is not enabled for Enterprise Voice or has no Teams Phone licence.",
    Source.FIELD,
    "no Teams Phone (MCOEV) licence, or Enterprise Voice off",
)
NOT_A_TEAMS_ACCOUNT = Result(
    412,
    10119,
    "The target is not a Teams account that can be called (guest or personal Microsoft account).",
    Source.FIELD,
    "guest or consumer account",
)
INVITATION_NOT_FOUND = Result(
    404, 8522, "Invitation not found.", Source.CHOSEN, "cancelAddParticipant for an unknown invitation"
)
INVITATION_ALREADY_ANSWERED = Result(
    400,
    8585,
    "The invitation has already been answered.",
    Source.CHOSEN,
    "cancelAddParticipant after the invitee answered or failed",
)
CALL_NOT_FOUND = Result(404, 8522, "Call not found.", Source.DOCUMENTED, "connect to an unknown server call")
MOVE_SOURCE_GONE = Result(
    404, 8522, "Participant not found in the source call.", Source.CHOSEN, "moveHere of a participant not there"
)
TRANSCRIPTION_NOT_CONFIGURED = Result(
    400,
    8523,
    "Transcription was not configured for this call.",
    Source.CHOSEN,
    "startTranscription on a call answered or created without transcriptionOptions",
)
MEDIA_STREAMING_NOT_CONFIGURED = Result(
    400,
    8523,
    "Media streaming was not configured for this call.",
    Source.CHOSEN,
    "startMediaStreaming on a call answered or created without mediaStreamingOptions",
)
PLAY_CANCELED = Result(400, 8508, "Action falied, the operation was cancelled.", Source.DOCUMENTED, "play canceled")
RECOGNIZE_CANCELED = Result(
    400, 8508, "Action falied, the operation was cancelled.", Source.DOCUMENTED, "recognize canceled"
)
DTMF_STOPPED = Result(200, 0, "Continuous DTMF recognition stopped.", Source.CHOSEN, "continuous DTMF stopped")


ALL_RESULTS: tuple[Result, ...] = tuple(v for v in list(globals().values()) if isinstance(v, Result))
