"""Drive the system's headless Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe:
JSON messages ending in a NUL byte on fds 3 and 4), standard library only.

Enough for page tests: load a URL, read the DOM after load, click a link as a user would
(a real navigation), go back in history, take a screenshot, collect console and CSP messages.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def executable() -> str | None:
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


class Browser:
    def __init__(self, binary: str, timeout: float = 30.0, size: tuple[int, int] = (1280, 900)):
        self.timeout, self.next_id, self.events, self.buffer = timeout, 0, [], b""
        self.profile = tempfile.mkdtemp(prefix="ptb-chromium-")
        to_child, self.command_fd = os.pipe()
        self.reply_fd, from_child = os.pipe()

        def wire():  # in the child, before exec: the protocol's fds are 3 (commands) and 4 (replies)
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self.proc = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",  # tests run as root in a container
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--remote-debugging-pipe",
                f"--user-data-dir={self.profile}",
                f"--window-size={size[0]},{size[1]}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire,
            pass_fds=(3, 4),
        )
        os.close(to_child)
        os.close(from_child)
        target = next(t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=True)

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self.reply_fd, 1 << 16)
            if not chunk:
                raise RuntimeError(f"chromium exited ({self.proc.poll()})")
            self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self.command_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def _drop(self, method: str) -> None:
        self.events = [e for e in self.events if e.get("method") != method]

    def goto(self, url: str) -> None:
        self._drop("Page.loadEventFired")
        self.send("Page.navigate", {"url": url}, session=True)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str):
        """The value of a JavaScript expression (DevTools runs it whatever the page's CSP says)."""
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """Click the first element matching selector and wait for the page it opens to load."""
        self._drop("Page.loadEventFired")
        found = self.evaluate(
            f"(() => {{ const a = document.querySelector({json.dumps(selector)}); if (!a) return false; "
            "a.click(); return true; })()"
        )
        if not found:
            raise AssertionError(f"no element {selector!r} on {self.url()}")
        self.wait_for("Page.loadEventFired")

    def back(self) -> None:
        self._drop("Page.loadEventFired")
        self.evaluate("history.back()")
        self.wait_for("Page.loadEventFired")

    def url(self) -> str:
        return self.evaluate("location.href")

    def dom(self) -> str:
        return self.evaluate("document.documentElement.outerHTML")

    def screenshot(self, path, full_page: bool = True) -> None:
        params = {"format": "png", "captureBeyondViewport": full_page}
        data = self.send("Page.captureScreenshot", params, session=True)["data"]
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data))

    def messages(self) -> list[str]:
        """Console and browser log lines so far (CSP violations land here)."""
        out = []
        for event in self.events:
            if event.get("method") == "Log.entryAdded":
                out.append(event["params"]["entry"].get("text", ""))
            elif event.get("method") == "Runtime.consoleAPICalled":
                out.append(" ".join(str(a.get("value")) for a in event["params"].get("args", [])))
        return out

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.command_fd)
        os.close(self.reply_fd)
        shutil.rmtree(self.profile, ignore_errors=True)
