"""Child processes kept running: start, restart a crashed one with backoff, stop all in order.

Used by `facegate serve` (face backend, gateway, Celery worker) and by `facegate gateway` (its worker
processes). Each child runs in a process group of its own, so a terminal's Ctrl-C reaches only the
supervisor, which then stops the children itself.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
# A child that ran this long before dying is treated as healthy again: its next restart is quick.
STABLE_AFTER_S = 60.0
STOP_GRACE_S = 15.0
PR_SET_PDEATHSIG = 1


def say(message: str) -> None:
    """One line of the stack's own log on stderr (children write their own)."""
    print(f"facegate: {message}", file=sys.stderr, flush=True)


@dataclass
class Child:
    name: str
    argv: list[str]
    pass_fds: tuple[int, ...] = ()
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = FIRST_BACKOFF_S
    restart_at: float | None = None
    restarts: int = 0


class Supervisor:
    """`with Supervisor() as s: s.start(...); s.run()`: SIGTERM / Ctrl-C leave run(), and leaving the
    block (by a signal, a return or an error) stops every child."""

    def __init__(self, stopping_message: str = "stopping") -> None:
        self.children: list[Child] = []
        self.stopping_message = stopping_message

    def __enter__(self) -> Supervisor:
        stopping = []

        def _raise(signum: int, frame: object) -> None:
            # Only the first signal stops: a second Ctrl-C (or SIGTERM right after SIGINT) arriving
            # while we stop the children must not interrupt that.
            if not stopping:
                stopping.append(signum)
                raise Stop()
        signal.signal(signal.SIGTERM, _raise)
        signal.signal(signal.SIGINT, _raise)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if exc_type is Stop:
            say(self.stopping_message)
        self.stop()
        return exc_type is Stop

    def run(self) -> None:
        """Keep the children alive until a signal arrives."""
        while True:
            self.keep_alive()
            time.sleep(0.5)

    def start(self, name: str, argv: Sequence[str], pass_fds: tuple[int, ...] = ()) -> Child:
        child = Child(name, list(argv), pass_fds)
        self.children.append(child)
        self._spawn(child)
        return child

    def _spawn(self, child: Child) -> None:
        child.proc = subprocess.Popen(child.argv, start_new_session=True, pass_fds=child.pass_fds,
                                      preexec_fn=_die_with_parent(os.getpid()))
        child.started_at = time.monotonic()
        child.restart_at = None

    def first_exit(self) -> str | None:
        """A description of the first child that has exited, if any (start-up failures)."""
        for child in self.children:
            if child.proc is not None and child.proc.poll() is not None:
                return f"{child.name} exited with status {child.proc.returncode}"
        return None

    def keep_alive(self) -> None:
        """Restart children that exited: after 1 s, doubling up to 30 s while they keep crashing."""
        now = time.monotonic()
        for child in self.children:
            proc = child.proc
            if child.restart_at is None and proc is not None and proc.poll() is not None:
                if now - child.started_at > STABLE_AFTER_S:
                    child.backoff = FIRST_BACKOFF_S
                say(f"{child.name} (pid {proc.pid}) exited with status {proc.returncode}; "
                    f"restarting in {child.backoff:g} s")
                child.restart_at = now + child.backoff
                child.backoff = min(MAX_BACKOFF_S, child.backoff * 2)
            elif child.restart_at is not None and now >= child.restart_at:
                self._spawn(child)
                child.restarts += 1
                say(f"{child.name} restarted (pid {child.proc.pid})")

    def stop(self) -> None:
        """SIGTERM to every child, newest first (each stops its own pool or workers: signalling the
        whole group would kill a Celery pool process under its parent's feet), SIGKILL to the group
        after the grace period."""
        running = [c.proc for c in reversed(self.children) if c.proc is not None and c.proc.poll() is None]
        for proc in running:
            proc.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                signal_group(proc, signal.SIGKILL)
                proc.wait()


def _die_with_parent(parent: int):
    """In the child before exec: SIGTERM when the supervisor dies, even by SIGKILL (Linux
    PR_SET_PDEATHSIG), so no orphaned gateway or backend keeps the ports; elsewhere a no-op."""
    def set_death_signal() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            return
        if os.getppid() != parent:  # the supervisor died before the prctl took effect
            os._exit(1)
    return set_death_signal if sys.platform == "linux" else None


def signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


class Stop(Exception):
    """Raised by the SIGTERM / SIGINT handler to leave Supervisor.run()."""
