# One aws CLI (v1) session that runs many commands: the same awscli
# clidriver the `aws` executable calls, with the same arguments, but one
# Python interpreter for the whole audit instead of one per command (each
# `aws` start-up costs about a second of CPU re-importing botocore).
#
# Protocol: "ready" once awscli is imported, then one JSON array of arguments per stdin line; one JSON object
# {"rc": int, "stdout": str, "stderr": str} per stdout line.
import contextlib
import io
import json
import sys

import botocore.session
from awscli.clidriver import create_clidriver

# Every command gets a new clidriver and botocore session, as a new `aws`
# process would, except for one thing: the sessions share one data loader.
# botocore's Loader reads the service models (JSON) and caches what it
# reads per instance (botocore/loaders.py, instance_cache), so one process
# already hands the same parsed models to every client it makes; sharing it
# across commands only keeps that cache. Without it, each command spent
# about two thirds of its CPU listing botocore's data directories and
# re-parsing the same models (cProfile, 24 audit commands: 6.8 s).
_loaders = {}
_create_loader = botocore.session.create_loader


def _shared_loader(search_path_string=None):
    if search_path_string not in _loaders:
        _loaders[search_path_string] = _create_loader(search_path_string)
    return _loaders[search_path_string]


botocore.session.create_loader = _shared_loader

reply = sys.stdout
reply.write("ready\n")
reply.flush()
for line in sys.stdin:
    args = json.loads(line)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = create_clidriver().main(args)
        except SystemExit as e:  # argument errors exit like the executable
            rc = e.code if isinstance(e.code, int) else 255
    reply.write(json.dumps({"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}) + "\n")
    reply.flush()
