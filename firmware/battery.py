"""Battery mode of a PIR-only node: at each wake-up decide what to report and how to sleep.

A battery node spends nearly all its time in deep sleep (module ~10 uA plus the
PIR). It wakes when the PIR pin goes high or a timer fires, decides here, turns
Wi-Fi on only when there is something to send, and sleeps again. What must
survive deep sleep (state, seq, boot id, times) is kept in RTC memory.

Why the "quiet" window: a PIR output stays high for its pulse and fires again
on every movement, so waking on the pin while someone works would keep the
node awake. After a motion wake while occupied, the node sleeps on the timer
only for ``quiet_s``; motion it could not see then is assumed to have happened
at the end of the window, so vacancy is never declared early (it may come up
to ``quiet_s`` late).
"""

import json

#: Defaults of the battery schedule (seconds); the device file may override them.
BATTERY_DEFAULTS = {"hold_s": 600, "heartbeat_s": 3600, "quiet_s": 120}


class BatteryState:
    """What a battery node remembers across deep sleep."""

    def __init__(self, boot, occupied=False, last_motion_s=None, last_report_s=None, seq=0):
        self.boot = boot
        self.occupied = occupied
        self.last_motion_s = last_motion_s
        self.last_report_s = last_report_s
        self.seq = seq

    def encode(self):
        """Return the state as bytes for RTC memory."""
        return json.dumps(
            [self.boot, self.occupied, self.last_motion_s, self.last_report_s, self.seq]
        ).encode()

    @classmethod
    def decode(cls, raw, boot):
        """Return the state from RTC memory, or a fresh one (new ``boot``) if it is unreadable."""
        try:
            b, occupied, motion, report, seq = json.loads(raw)
            if isinstance(b, int) and isinstance(seq, int) and isinstance(occupied, bool):
                return cls(b, occupied, motion, report, seq)
        except Exception:  # noqa: BLE001, S110 - power loss clears RTC memory: start afresh
            pass
        return cls(boot)


def plan(state, now_s, motion, cfg=BATTERY_DEFAULTS):
    """Update ``state`` for one wake-up; return ``(reason, sleep_s, wake_on_pir)``.

    Args:
        state: the ``BatteryState`` (changed in place).
        now_s: the clock in seconds (the RTC keeps running in deep sleep).
        motion: True when the PIR is high now or caused this wake-up.
        cfg: ``hold_s``, ``heartbeat_s`` and ``quiet_s``.

    Returns:
        ``reason``: "change", "heartbeat" or None (nothing to send, Wi-Fi stays off);
        ``sleep_s``: how long to sleep at most; ``wake_on_pir``: arm the PIR wake-up.
    """
    hold, heartbeat, quiet = cfg["hold_s"], cfg["heartbeat_s"], cfg["quiet_s"]
    reason = None
    if motion:
        # Motion we will not see during the quiet window counts as seen at its end.
        state.last_motion_s = now_s + quiet
        if not state.occupied:
            state.occupied = True
            reason = "change"
    elif state.occupied and now_s - state.last_motion_s >= hold:
        state.occupied = False
        reason = "change"
    if reason is None and (state.last_report_s is None or now_s - state.last_report_s >= heartbeat):
        reason = "heartbeat"
    if reason is not None:
        state.last_report_s = now_s
    next_heartbeat = state.last_report_s + heartbeat - now_s
    if not state.occupied:
        return reason, max(1, next_heartbeat), True
    if motion:
        return reason, max(1, min(quiet, next_heartbeat)), False
    vacant_at = state.last_motion_s + hold - now_s
    return reason, max(1, min(vacant_at, next_heartbeat)), True
