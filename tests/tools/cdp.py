#!/usr/bin/python3
"""cdp.py - drive a headless Chromium over the Chrome DevTools Protocol.

The dashboard test starts Chromium with --remote-debugging-port and the
page's URL, then asks it questions with this tool, one command per call,
always on the page that is already open (nothing reloads it):

  cdp.py --port P ready [--timeout-ms N]
        wait until Chromium answers on P and has a page open
  cdp.py --port P eval EXPR
        evaluate the JavaScript expression in the page, print the
        result as JSON
  cdp.py --port P wait EXPR [--timeout-ms N] [--interval-ms N]
        evaluate EXPR until it is truthy, print that value as JSON; on
        the deadline print the last value to stderr and exit 1
  cdp.py --port P screenshot FILE [--width W] [--height H]
        set the viewport to W x H (default 1280 x 800) and save a PNG

Exit status 0 on success, 1 when the answer is not what was asked for
(timeout, exception in the page), 2 on a usage or connection error; the
message on stderr says which.  Uses Debian's python3-websocket.
"""

import argparse
import base64
import json
import sys
import time
import urllib.request

try:
    import websocket  # python3-websocket
except ImportError:
    sys.stderr.write("cdp.py: the python3 'websocket' module is missing "
                     "(apt-get install python3-websocket)\n")
    sys.exit(2)


class CdpError(Exception):
    """Chromium answered with an error or not at all."""


def page_ws_url(port, timeout_s=2.0):
    """The WebSocket URL of the first open page, or raise CdpError."""
    url = "http://127.0.0.1:%d/json/list" % port
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as r:
            targets = json.load(r)
    except (OSError, ValueError) as e:
        raise CdpError("no DevTools endpoint at %s: %s" % (url, e))
    for t in targets:
        if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
            return t["webSocketDebuggerUrl"]
    raise CdpError("DevTools at %s lists no page (targets: %s)"
                   % (url, [t.get("type") for t in targets]))


class Page:
    """One WebSocket session with a page; call() sends a command and
    returns its result, skipping the events that arrive meanwhile."""

    def __init__(self, port, timeout_s=10.0):
        self.timeout_s = timeout_s
        # No Origin header: Chromium refuses DevTools connections from
        # origins it was not told to allow.
        self.ws = websocket.create_connection(page_ws_url(port),
                                              timeout=timeout_s,
                                              suppress_origin=True)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        want = self.next_id
        self.ws.send(json.dumps({"id": want, "method": method,
                                 "params": params}))
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("id") != want:
                continue
            if "error" in msg:
                raise CdpError("%s: %s" % (method, msg["error"]))
            return msg.get("result", {})
        raise CdpError("%s: no answer within %.1f s"
                       % (method, self.timeout_s))

    def evaluate(self, expr):
        """The value of expr (awaited if a promise); CdpError if it
        throws."""
        r = self.call("Runtime.evaluate", expression=expr,
                      returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            text = d.get("exception", {}).get("description") or \
                d.get("text", "exception")
            raise CdpError("the page threw evaluating %r: %s"
                           % (expr[:80], text))
        return r.get("result", {}).get("value")

    def close(self):
        self.ws.close()


def cmd_ready(args):
    deadline = time.monotonic() + args.timeout_ms / 1000.0
    last = None
    while time.monotonic() < deadline:
        try:
            page = Page(args.port)
            state = page.evaluate("document.readyState")
            page.close()
            if state == "complete":
                return 0
            last = "document.readyState is %r" % state
        except (CdpError, OSError, websocket.WebSocketException) as e:
            last = str(e)
        time.sleep(0.1)
    sys.stderr.write("cdp.py ready: no loaded page on port %d within %d "
                     "ms (last: %s)\n" % (args.port, args.timeout_ms, last))
    return 1


def cmd_eval(args):
    page = Page(args.port)
    try:
        print(json.dumps(page.evaluate(args.expr)))
    finally:
        page.close()
    return 0


def cmd_wait(args):
    page = Page(args.port)
    deadline = time.monotonic() + args.timeout_ms / 1000.0
    value = None
    try:
        while True:
            value = page.evaluate(args.expr)
            if value:
                print(json.dumps(value))
                return 0
            if time.monotonic() >= deadline:
                break
            time.sleep(args.interval_ms / 1000.0)
    finally:
        page.close()
    sys.stderr.write("cdp.py wait: %r still falsy after %d ms (last "
                     "value: %s)\n" % (args.expr[:120], args.timeout_ms,
                                       json.dumps(value)))
    return 1


def cmd_screenshot(args):
    page = Page(args.port)
    try:
        page.call("Emulation.setDeviceMetricsOverride", width=args.width,
                  height=args.height, deviceScaleFactor=1, mobile=False)
        # Let the page lay itself out at that size before the shot.
        page.evaluate("new Promise(r => requestAnimationFrame(() => "
                      "requestAnimationFrame(r)))")
        shot = page.call("Page.captureScreenshot", format="png")
    finally:
        page.close()
    png = base64.b64decode(shot.get("data", ""))
    if not png.startswith(b"\x89PNG"):
        raise CdpError("Page.captureScreenshot returned no PNG")
    with open(args.file, "wb") as f:
        f.write(png)
    return 0


def main():
    ap = argparse.ArgumentParser(description="Ask a headless Chromium "
                                 "about its open page (DevTools protocol)")
    ap.add_argument("--port", type=int, required=True,
                    help="Chromium's --remote-debugging-port")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ready")
    p.add_argument("--timeout-ms", type=int, default=10000)
    p = sub.add_parser("eval")
    p.add_argument("expr")
    p = sub.add_parser("wait")
    p.add_argument("expr")
    p.add_argument("--timeout-ms", type=int, default=10000)
    p.add_argument("--interval-ms", type=int, default=100)
    p = sub.add_parser("screenshot")
    p.add_argument("file")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=800)
    args = ap.parse_args()
    cmds = {"ready": cmd_ready, "eval": cmd_eval, "wait": cmd_wait,
            "screenshot": cmd_screenshot}
    try:
        return cmds[args.cmd](args)
    except CdpError as e:
        sys.stderr.write("cdp.py %s: %s\n" % (args.cmd, e))
        return 1
    except (OSError, websocket.WebSocketException) as e:
        sys.stderr.write("cdp.py %s: DevTools connection on port %d: %s\n"
                         % (args.cmd, args.port, e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
