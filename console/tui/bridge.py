"""From engine events to Textual messages: the only code the kernel thread runs on the UI's behalf.

`EngineBridge` subscribes to `Control`; the kernel calls it for every event, in order, from the kernel
thread. It does one thing there: `target.post_message(EngineEvent(event))`, which Textual makes
thread-safe (the message is handed to the app's asyncio loop with `call_soon_threadsafe`) and which
never blocks. Widgets are then updated on the UI thread by the message handler. Nothing here touches a
widget, sets a reactive or calls `call_from_thread`.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message
from textual.message_pump import MessagePump

from console.engine.control import Control, EngineEvent


class EngineMessage(Message):
    """One engine event (IntentProposed, Filled, Alert, OrderChecked, ...) delivered on the UI thread."""

    def __init__(self, event: EngineEvent) -> None:
        super().__init__()
        self.event = event


class EngineBridge:
    """Subscribe a message pump (the app) to a Control's events; `close()` unsubscribes."""

    def __init__(self, control: Control, target: MessagePump) -> None:
        self._target = target
        self.posted = 0
        self._unsubscribe: Callable[[], None] | None = control.subscribe(self._on_event)

    def _on_event(self, event: EngineEvent) -> None:
        # kernel thread: post and return; a closing app refuses the message (returns False), fine
        if self._target.post_message(EngineMessage(event)):
            self.posted += 1

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
