#!/usr/bin/python3
"""An independent gRPC client for the Pester suites: Python grpcio (Debian's python3-grpcio), with
the few protobuf messages it needs encoded by hand, so nothing is shared with the .NET code under test.

Usage (prints one JSON document on stdout):
  grpc_client.py TARGET health [SERVICE]           -> {"status": "SERVING"}
  grpc_client.py TARGET watch [SECONDS]            -> {"statuses": [...]} (every status seen)
  grpc_client.py TARGET services                   -> {"services": [...]} (server reflection)
  grpc_client.py TARGET call API KIND PAYLOAD [DEADLINE_S]   KIND: json|text|data
                                                   -> {"kind": ..., "value": ..., "worker": ...}
                                                      or {"code": ..., "details": ..., "errorId": ..., "requestId": ...}
  grpc_client.py TARGET stream API KIND PAYLOAD    -> {"replies": [...]}
  grpc_client.py TARGET apis                       -> {"apis": [{"route": ...}, ...]}
  grpc_client.py TARGET spread N API KIND PAYLOAD  -> {"workers": {"api-1": n, ...}} (N new connections)
  grpc_client.py TARGET cancel API KIND PAYLOAD AFTER_S -> {"code": "CANCELLED"}
  grpc_client.py TARGET load CHANNELS SECONDS API KIND PAYLOAD
                                                   -> {"codes": {"OK": n, ...}, "errors": [first few]}
                                                      (CHANNELS threads, each its own connection, calling
                                                      back to back until SECONDS passed; no retries beyond
                                                      grpcio's own transparent ones)
"""
import json
import sys
import time

import grpc


# ---- protobuf wire format, by hand ---------------------------------------------------------------

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(number, value):
    if isinstance(value, str):
        value = value.encode("utf-8")
    return varint((number << 3) | 2) + varint(len(value)) + value


def parse(message):
    """Yields (field number, wire type, value) for each field of a serialized message."""
    i = 0
    while i < len(message):
        key, i = read_varint(message, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = read_varint(message, i)
        elif wire == 2:
            length, i = read_varint(message, i)
            value = message[i:i + length]
            i += length
        elif wire == 1:
            value = message[i:i + 8]
            i += 8
        elif wire == 5:
            value = message[i:i + 4]
            i += 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        yield number, wire, value


def read_varint(data, i):
    shift = result = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


HEALTH_STATUS = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
KIND_FIELD = {"json": 2, "text": 3, "data": 4}
REPLY_KIND = {1: "json", 2: "text", 3: "data"}


def identity(b):
    return b


def call_request(api, kind, payload):
    return field_bytes(1, api) + field_bytes(KIND_FIELD[kind], payload)


def decode_reply(message):
    for number, _, value in parse(message):
        if number in REPLY_KIND:
            kind = REPLY_KIND[number]
            return {"kind": kind, "value": value.decode("utf-8") if kind != "data" else value.hex()}
    return {"kind": None, "value": None}


def worker_of(metadata):
    for key, value in metadata or ():
        if key == "x-serving-worker":
            return value
    return None


def trailer(metadata, key):
    for k, value in metadata or ():
        if k == key:
            return value
    return None


def error(e):
    trailing = e.trailing_metadata()
    return {"code": e.code().name, "details": e.details(), "worker": worker_of(e.initial_metadata()),
            "errorId": trailer(trailing, "x-serving-error-id"), "requestId": trailer(trailing, "x-serving-request-id")}


# ---- commands ------------------------------------------------------------------------------------

def health(channel, service=""):
    check = channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=identity, response_deserializer=identity)
    request = field_bytes(1, service) if service else b""
    try:
        reply = check(request, timeout=5)
    except grpc.RpcError as e:
        return error(e)
    status = 0
    for number, _, value in parse(reply):
        if number == 1:
            status = value
    return {"status": HEALTH_STATUS.get(status, str(status))}


def watch(channel, seconds):
    stream = channel.unary_stream("/grpc.health.v1.Health/Watch", request_serializer=identity, response_deserializer=identity)
    statuses = []
    call = stream(b"", timeout=float(seconds))
    try:
        for reply in call:
            status = 0
            for number, _, value in parse(reply):
                if number == 1:
                    status = value
            statuses.append(HEALTH_STATUS.get(status, str(status)))
    except grpc.RpcError as e:
        if e.code() not in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
            return error(e)
    return {"statuses": statuses}


def services(channel):
    # grpc.reflection.v1alpha: ServerReflectionRequest { list_services = 7 }
    info = channel.stream_stream("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                 request_serializer=identity, response_deserializer=identity)
    names = []
    try:
        for reply in info(iter([field_bytes(7, "")]), timeout=5):
            for number, _, value in parse(reply):
                if number == 6:  # list_services_response { repeated ServiceResponse service = 1 { name = 1 } }
                    for n2, _, service in parse(value):
                        if n2 == 1:
                            for n3, _, name in parse(service):
                                if n3 == 1:
                                    names.append(name.decode("utf-8"))
            break
    except grpc.RpcError as e:
        return error(e)
    return {"services": sorted(names)}


def call(channel, api, kind, payload, deadline=10.0):
    method = channel.unary_unary("/serving.v1.Serving/Call", request_serializer=identity, response_deserializer=identity)
    try:
        reply, rpc = method.with_call(call_request(api, kind, payload), timeout=float(deadline))
    except grpc.RpcError as e:
        return error(e)
    result = decode_reply(reply)
    result["worker"] = worker_of(rpc.initial_metadata())
    return result


def stream(channel, api, kind, payload):
    method = channel.unary_stream("/serving.v1.Serving/CallStream", request_serializer=identity, response_deserializer=identity)
    try:
        return {"replies": [decode_reply(r) for r in method(call_request(api, kind, payload), timeout=10)]}
    except grpc.RpcError as e:
        return error(e)


def apis(channel):
    method = channel.unary_unary("/serving.v1.Serving/ListApis", request_serializer=identity, response_deserializer=identity)
    try:
        reply = method(b"", timeout=5)
    except grpc.RpcError as e:
        return error(e)
    names = {1: "route", 2: "runner", 3: "method", 4: "input", 5: "output"}
    out = []
    for number, _, api in parse(reply):
        if number == 1:
            out.append({names[n]: v.decode("utf-8") for n, _, v in parse(api) if n in names})
    return {"apis": out}


def spread(target, count, api, kind, payload):
    workers = {}
    for _ in range(int(count)):
        # A new channel is a new TCP connection: the kernel picks a listening socket for each.
        with grpc.insecure_channel(target) as channel:
            result = call(channel, api, kind, payload)
            key = result.get("worker") or result.get("code")
            workers[key] = workers.get(key, 0) + 1
    return {"workers": workers}


def cancel(channel, api, kind, payload, after):
    method = channel.unary_unary("/serving.v1.Serving/Call", request_serializer=identity, response_deserializer=identity)
    future = method.future(call_request(api, kind, payload), timeout=30)
    time.sleep(float(after))
    future.cancel()
    try:
        future.result()
    except grpc.FutureCancelledError:
        return {"code": "CANCELLED"}
    except grpc.RpcError as e:
        return error(e)
    return {"code": "OK"}


def load(target, channels, seconds, api, kind, payload):
    import threading
    codes = {}
    errors = []
    lock = threading.Lock()
    until = time.monotonic() + float(seconds)

    def run():
        # Each thread its own channel, so the kernel spreads the connections over the API workers.
        with grpc.insecure_channel(target) as channel:
            method = channel.unary_unary("/serving.v1.Serving/Call", request_serializer=identity, response_deserializer=identity)
            request = call_request(api, kind, payload)
            while time.monotonic() < until:
                try:
                    method(request, timeout=10)
                    code = "OK"
                except grpc.RpcError as e:
                    code = e.code().name
                    with lock:
                        if len(errors) < 5:
                            errors.append(error(e))
                with lock:
                    codes[code] = codes.get(code, 0) + 1

    threads = [threading.Thread(target=run) for _ in range(int(channels))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"codes": codes, "errors": errors}


def main(argv):
    target, command, args = argv[1], argv[2], argv[3:]
    if command == "spread":
        result = spread(target, *args)
    elif command == "load":
        result = load(target, *args)
    else:
        with grpc.insecure_channel(target) as channel:
            if command == "health":
                result = health(channel, *args)
            elif command == "watch":
                result = watch(channel, *(args or ["2"]))
            elif command == "services":
                result = services(channel)
            elif command == "call":
                result = call(channel, *args)
            elif command == "stream":
                result = stream(channel, *args)
            elif command == "apis":
                result = apis(channel)
            elif command == "cancel":
                result = cancel(channel, *args)
            else:
                raise SystemExit("unknown command " + command)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv)
