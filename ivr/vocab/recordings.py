"""Where a call's recording stands: the ``recording_status`` of a call attempt.

The first four are the carrier's (Twilio's ``RecordingStatus`` in a recording
status callback, spelled as Twilio spells them); the last is ours.

* ``in-progress`` -- the call is being recorded.
* ``completed`` -- the recording is stored at the carrier (sid, duration, URL).
* ``absent`` -- the carrier recorded no audio; nothing is stored.
* ``failed`` -- the carrier could not record the call.
* ``deleted`` -- the retention period ended and the carrier confirmed it
  deleted the recording; only its sid and duration remain, for the record.
"""

from __future__ import annotations

import enum


class RecordingStatus(enum.StrEnum):
    """Twilio's recording statuses, then ours once it is deleted at the carrier."""

    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    ABSENT = "absent"
    FAILED = "failed"
    DELETED = "deleted"


#: The statuses a carrier callback may report (``deleted`` is only ever ours).
CARRIER_RECORDING_STATUSES: frozenset[str] = frozenset(
    s.value for s in RecordingStatus if s is not RecordingStatus.DELETED
)

#: A callback may move a recording forward only: in-progress, then one of these.
FINAL_RECORDING_STATUSES: frozenset[RecordingStatus] = frozenset(
    {
        RecordingStatus.COMPLETED,
        RecordingStatus.ABSENT,
        RecordingStatus.FAILED,
        RecordingStatus.DELETED,
    }
)
