"""A FastAPI agent that follows the AgentCore container contract, unchanged from how it would run on AgentCore.

    POST /invocations  JSON in; SSE out (text-delta events, then message) when the caller accepts
                       text/event-stream, else one JSON object
    GET  /ping         {"status": "Healthy", "time_of_last_update": <unix seconds>}
    WS   /ws           text frames {"prompt": ...} answered with the same events

It binds 0.0.0.0:8080 whatever the environment says, as AgentCore agents do. Under Gatehouse each
session's copy runs in its own network namespace, so several sessions can all hold port 8080.

The gateway: {"gateway": "tools/list"} (or {"gateway": "tools/call", "name": ..., "arguments": {...}})
calls the Gatehouse gateway at GATEHOUSE_GATEWAY_URL with the workload access token the runtime
forwarded (header WorkloadAccessToken), over plain MCP JSON-RPC on streamable HTTP.

Test hooks (payload fields): "connect": "host:port" reports whether a TCP connection opens;
"read": "/path" reports whether a file or directory can be read; "crash": true exits at once.
"""

import asyncio
import json
import os
import time
import urllib.error
import urllib.request

import uvicorn
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, StreamingResponse

app = FastAPI()
STARTED = int(time.time())
state = {"invocations": 0}


def identity(headers) -> dict:
    return {
        "sessionId": headers.get("x-amzn-bedrock-agentcore-runtime-session-id"),
        "userId": headers.get("x-amzn-bedrock-agentcore-runtime-user-id"),
        "hasWorkloadAccessToken": bool(headers.get("workloadaccesstoken")),
        "pid": os.getpid(),
        "netns": os.readlink("/proc/self/ns/net"),
        "uid": os.getuid(),
    }


def call_gateway(token: str, method: str, params: dict) -> dict:
    """MCP over streamable HTTP, stateless: initialize, then the call; answers may be JSON or SSE."""
    url = os.environ.get("GATEHOUSE_GATEWAY_URL", "http://localhost:8080/mcp")
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json", "accept": "application/json, text/event-stream"}

    def post(message: dict, session: str | None) -> tuple[dict | None, str | None]:
        extra = {"mcp-session-id": session} if session else {}
        request = urllib.request.Request(url, data=json.dumps(message).encode(), headers={**headers, **extra}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read().decode()
            session_id = response.headers.get("mcp-session-id") or session
            if not body.strip():
                return None, session_id
            if response.headers.get("content-type", "").startswith("text/event-stream"):
                data = [line[6:] for line in body.splitlines() if line.startswith("data: ")]
                return (json.loads(data[-1]) if data else None), session_id
            return json.loads(body), session_id

    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "fastapi-agent", "version": "1.0"}}}
    _, session = post(init, None)
    post({"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    answer, _ = post({"jsonrpc": "2.0", "id": 2, "method": method, "params": params}, session)
    return answer or {}


async def probe_connect(target: str) -> str:
    host, _, port = target.rpartition(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout=2)
        writer.close()
        return "connected"
    except Exception as error:  # noqa: BLE001 - the kind of failure is the answer
        return f"failed: {type(error).__name__}: {error}"


def probe_read(target: str) -> str:
    try:
        if os.path.isdir(target):
            return f"listed: {sorted(os.listdir(target))}"
        with open(target, "rb") as file:
            return f"read {len(file.read())} bytes"
    except Exception as error:  # noqa: BLE001
        return f"failed: {type(error).__name__}: {error}"


async def answer(payload: dict, headers) -> list[dict]:
    """The events of one invocation: one text-delta per word, then the final message."""
    if payload.get("crash"):
        os._exit(70)
    state["invocations"] += 1
    prompt = str(payload.get("prompt", ""))
    events = [{"type": "text-delta", "delta": word, "index": index} for index, word in enumerate(prompt.split())]
    final = {"type": "message", "text": f"fastapi: {prompt}", "invocations": state["invocations"], **identity(headers)}
    if "connect" in payload:
        final["connect"] = await probe_connect(str(payload["connect"]))
    if "read" in payload:
        final["read"] = probe_read(str(payload["read"]))
    if "gateway" in payload:
        token = headers.get("workloadaccesstoken") or ""
        params = {"name": payload.get("name"), "arguments": payload.get("arguments", {})} if payload["gateway"] == "tools/call" else {}
        try:
            final["gateway"] = await asyncio.to_thread(call_gateway, token, str(payload["gateway"]), params)
        except (urllib.error.URLError, OSError, ValueError) as error:
            final["gateway"] = {"error": f"{type(error).__name__}: {error}"}
    return [*events, final]


@app.get("/ping")
async def ping() -> dict:
    return {"status": "Healthy", "time_of_last_update": STARTED}


@app.post("/invocations")
async def invocations(request: Request):
    try:
        payload = json.loads((await request.body()) or b"{}")
    except ValueError:
        return JSONResponse({"error": "Invalid JSON"}, status_code=400)
    if not isinstance(payload, dict):
        payload = {"prompt": str(payload)}
    events = await answer(payload, request.headers)
    if "text/event-stream" not in request.headers.get("accept", ""):
        return JSONResponse(events[-1])

    async def stream():
        for event in events:
            yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


@app.websocket("/ws")
async def websocket(socket: WebSocket):
    await socket.accept()
    try:
        while True:
            text = await socket.receive_text()
            try:
                payload = json.loads(text)
            except ValueError:
                await socket.send_text(text)
                continue
            for event in await answer(payload if isinstance(payload, dict) else {"prompt": str(payload)}, socket.headers):
                await socket.send_text(json.dumps(event))
    except WebSocketDisconnect:
        pass


if __name__ == "__main__":
    # AgentCore's contract: 0.0.0.0:8080, whatever PORT says.
    uvicorn.run(app, host="0.0.0.0", port=8080, log_level="warning")
