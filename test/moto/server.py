"""moto_server for the tests, started one of two ways.

    server.py [moto_server arguments]   the server moto's console script runs
    server.py --zygote SOCKET           a fork server that starts such servers

Both run moto's own application (moto/server.py main: the
DomainDispatcherApplication behind werkzeug's threaded server) with two
per-request costs removed, each answer unchanged. First, moto 5.2.1 calls
moto.backends.list_of_moto_modules() twice for every request
(werkzeug_app.py, get_backend_for_host), and that lists moto's package
directory and stats each of its ~180 entries every time: about a third of
the server's CPU per request (cProfile, 900 SNS, CloudWatch and Logs calls).
The list cannot change while the server runs, so it is computed once.
Second, the JSONPath paths EventBridge delivery parses are cached (below).

The zygote exists because starting moto costs about 2.5 s of CPU before the
first answer, mostly imports (moto.ec2 alone parses ~100 JSON resource files,
and every run of the engine calls DescribeRegions), and a test run starts
about forty servers on two cores. The zygote imports moto and the services the
tests use once, then forks a server per request on SOCKET:

    request   one JSON line: {"env": {...}, "log": "/path/moto.log"}
    reply     one JSON line: {"url": "http://127.0.0.1:PORT", "pid": N}

The child replaces its environment with env (moto's settings are read again
from it), writes its log to log, reseeds its random generators (moto's ids
would otherwise repeat across servers), serves on a port the kernel picks,
and exits when the requester closes the connection: a test binary that dies
takes its servers with it. The zygote exits when its parent does.

Where python3 has no moto, the first form hands over to the moto_server
executable unchanged; the zygote reports the error and exits.
"""

import functools
import gc
import importlib
import json
import os
import random
import select
import signal
import socket
import sys
import threading

ZYGOTE = sys.argv[1:2] == ["--zygote"]
PARENT = os.getppid()  # before the imports: the zygote ends with its parent
if ZYGOTE:
    # A forked server's environment is the one its request carries; nothing
    # of the caller's AWS configuration reaches moto's import-time settings.
    for _name in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[_name]

try:
    import moto.backends
    import moto.settings
except ImportError as err:
    if ZYGOTE:
        sys.exit(f"moto zygote: python3 cannot import moto ({err})")
    os.execvp("moto_server", ["moto_server", *sys.argv[1:]])

_MODULES = tuple(moto.backends.list_of_moto_modules())
moto.backends.list_of_moto_modules = lambda: _MODULES

# moto compiles every input path of an EventBridge rule target with a yacc
# parser for every event it delivers (moto/events/utils.py,
# EventTemplateParser: eight paths, ~12 ms each), so a burst of 500 events
# cost a minute of CPU. Parsing is pure; the parsed paths are cached.
import jsonpath_ng.ext  # noqa: E402
import jsonpath_ng.ext.parser  # noqa: E402

_parse = functools.lru_cache(maxsize=None)(jsonpath_ng.ext.parser.parse)
jsonpath_ng.ext.parse = jsonpath_ng.ext.parser.parse = _parse

# Services the tests call, loaded (and their Flask apps built) in the zygote.
# Others still work: the application loads them on first use, as moto does.
_PRELOAD = (
    "sts", "ec2", "cloudtrail", "logs", "cloudwatch", "sns", "kms", "iam",
    "events", "sqs", "securityhub", "organizations",
)


def zygote(path):
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        create_backend_app,
    )

    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # as moto/server.py main sets it
    for service in _PRELOAD:
        app.app_instances[service] = create_backend_app(service)

    # Everything loaded so far lives as long as the servers: move it out of
    # the collector's generations, as Python's gc docs advise before forking
    # (gc.freeze), so a server's full collections do not walk the preloaded
    # objects (moto.ec2's resource data among them) and copy their pages.
    gc.freeze()

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reap themselves
    print(f"moto zygote: ready on {path}", flush=True)
    try:
        while os.getppid() == PARENT:
            ready, _, _ = select.select([listener], [], [], 1.0)
            if not ready:
                continue
            conn, _ = listener.accept()
            if os.fork() == 0:
                listener.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                try:
                    serve(conn, app)
                finally:
                    os._exit(1)
            conn.close()
    finally:
        os.unlink(path)


def serve(conn, app):
    from werkzeug.serving import make_server

    request = json.loads(conn.makefile("rb").readline())
    os.environ.clear()
    os.environ.update(request["env"])
    importlib.reload(moto.settings)
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    random.seed()
    from moto.moto_api._internal import mock_random

    mock_random.seed()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.socket.getsockname()[1]
    os.environ["MOTO_PORT"] = str(port)  # as moto/server.py main sets it
    print(f" * Running on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    reply = {"url": f"http://127.0.0.1:{port}", "pid": os.getpid()}
    conn.sendall((json.dumps(reply) + "\n").encode())

    def exit_when_closed():
        while conn.recv(1):
            pass
        os._exit(0)

    threading.Thread(target=exit_when_closed, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    if ZYGOTE:
        if len(sys.argv) != 3:
            sys.exit("usage: server.py --zygote SOCKET")
        zygote(sys.argv[2])
    else:
        from moto.server import main

        main(sys.argv[1:])
