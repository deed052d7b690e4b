"""Process and event-loop helpers shared by every process loadtui spawns.

The engine's workers and the mock's servers both run a coroutine on the fastest loop (``aio``)
and die with the process that started them (``lifeline``). Neither belongs to the other, so the
helpers live here, below everything: this package imports nothing of loadtui.
"""
